"""Running the service: health checks, request ids and structured logs, a cache that
survives its Redis going away. Nothing here knows about contracts or measures."""
