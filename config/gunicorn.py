"""gunicorn settings for the production shape (docker-compose.yml) and ``make load``.

Every value can be set from the environment (README, "Settings from the environment").
Requests are logged once, by the app (``operations.access``, with the request id and the
person); gunicorn's own lines (start, workers, errors) use the same format
(``LOG_FORMAT``).
"""

import multiprocessing
import os
import sys
from pathlib import Path

# The project's modules, wherever gunicorn was started from.
ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from operations.logs import gunicorn_config  # noqa: E402  (needs ROOT on the path)

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Two processes a core, plus one; each with threads, so a request waiting on the database
# does not hold a whole process.
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
threads = int(os.environ.get("GUNICORN_THREADS", "2"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "60"))
graceful_timeout = 30
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Recycle workers now and then, staggered, so no slow leak builds up.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "1000"))
max_requests_jitter = max_requests // 10
# Heartbeat files in memory: a container's /tmp may be on a slow overlay disk.
worker_tmp_dir = "/dev/shm" if os.path.isdir("/dev/shm") else None
errorlog = "-"
logconfig_dict = gunicorn_config(os.environ)
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
