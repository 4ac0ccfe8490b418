"""The web container's health probe: ``python -m operations.probe [URL]``.

Asks this host's gunicorn for ``/healthz`` (JSON) and exits 0 when it answers 200, 1
otherwise, printing the answer. It names a host that ``ALLOWED_HOSTS`` accepts (the first
one listed), so the probe works whatever the deployment's host names are. Standard
library only: the image has no curl, and starting Django for each probe would be slow.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence

TIMEOUT_SECONDS = 10


def host_header(environ: Mapping[str, str]) -> str:
    for host in environ.get("ALLOWED_HOSTS", "").split(","):
        host = host.strip().lstrip(".")
        if host and host != "*":
            return host
    return "localhost"


def default_url(environ: Mapping[str, str]) -> str:
    port = environ.get("GUNICORN_BIND", "0.0.0.0:8000").rsplit(":", 1)[-1]
    return f"http://127.0.0.1:{port}/healthz"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    environ = os.environ if environ is None else environ
    argv = sys.argv[1:] if argv is None else argv
    url = argv[0] if argv else default_url(environ)
    request = urllib.request.Request(
        url, headers={"Accept": "application/json", "Host": host_header(environ)}
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310
            status, body = answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    except (urllib.error.URLError, OSError) as exc:
        print(f"{url} cannot be reached: {getattr(exc, 'reason', exc)}", file=sys.stderr)
        return 1
    print(f"{status} {body.decode('utf-8', 'replace').strip()}")
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main())
