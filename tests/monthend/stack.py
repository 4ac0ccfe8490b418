"""A private Redis and a real Celery worker for the integration tests.

Never the machine's shared Redis: each stack starts its own ``redis-server`` on a free
port, with no persistence, and stops it by its pidfile. The worker is a real
``celery -A config worker`` process whose database is the test's own (PostgreSQL,
so that the test and the worker see each other's commits) and whose email goes to
files in a temporary folder. Everything is stopped by pid, with timeouts throughout.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings

from tests.conftest import require_system_part

ROOT = Path(__file__).resolve().parents[2]

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# The marks of a test module whose tests use a worker: the worker must see what the test
# commits, which SQLite's in-memory test database cannot offer.
WORKER_TEST_MARKS = [
    pytest.mark.skipif(
        not ON_POSTGRES,
        reason="needs PostgreSQL shared between the test and the Celery worker process "
        "(set DATABASE_URL=postgres://...); SQLite's test database is private to the test",
    ),
    pytest.mark.django_db(transaction=True),
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(check: Callable[[], Any], timeout: float, what: str, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"Timed out after {timeout} s waiting for {what}.")
        time.sleep(interval)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child, killed, not yet reaped) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def database_url(settings_dict: dict[str, Any]) -> str:
    user = quote(settings_dict.get("USER") or "")
    password = quote(settings_dict.get("PASSWORD") or "")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = settings_dict.get("HOST") or "127.0.0.1"
    port = settings_dict.get("PORT") or 5432
    return f"postgres://{auth}{host}:{port}/{settings_dict['NAME']}"


@contextmanager
def running_stack(folder: Path, database: str) -> Iterator[Stack]:
    """A stack with its Redis started (the test starts the worker as it needs), closed after;
    the worker's log is printed last, so pytest shows it when the test fails."""
    require_system_part(
        "redis-server", shutil.which("redis-server") is not None, "apt-get install -y redis-server"
    )
    stack = Stack(folder, database)
    try:
        stack.start_redis()
        yield stack
    finally:
        try:
            stack.close()
        finally:
            print(stack.log())


class Stack:
    """Its own Redis on a free port and a Celery worker using it and the test database."""

    def __init__(self, folder: Path, database: str) -> None:
        self.folder = folder
        self.database = database
        self.port = free_port()
        self.redis_pidfile = folder / "redis.pid"
        self.worker_pidfile = folder / "worker.pid"
        self.worker_log = folder / "worker.log"
        self.mail = folder / "mail"
        self.mail.mkdir()
        self.worker: subprocess.Popen | None = None
        self._stderr: Any = None
        self._log_start = 0

    @property
    def broker_url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    # --- Redis -------------------------------------------------------------------------

    def redis_ping(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def start_redis(self) -> None:
        subprocess.run(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--pidfile",
                str(self.redis_pidfile),
                "--dir",
                str(self.folder),
                "--logfile",
                str(self.folder / "redis.log"),
            ],
            check=True,
            timeout=10,
        )
        wait_for(self.redis_ping, 10, f"redis-server on port {self.port}")

    def stop_redis(self) -> None:
        pid = self._pid(self.redis_pidfile)
        if pid is None:
            return
        self._stop(pid, signal.SIGTERM, 10)
        self.redis_pidfile.unlink(missing_ok=True)
        wait_for(lambda: not self.redis_ping(), 5, "redis-server to stop")

    # --- the worker --------------------------------------------------------------------

    def worker_env(self, **extra: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("PYTEST_", "CELERY_", "EMAIL_"))
        }
        env.update(
            DJANGO_SETTINGS_MODULE="config.settings",
            DATABASE_URL=self.database,
            DB_CONN_MAX_AGE="0",
            CELERY_BROKER_URL=self.broker_url,
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(self.mail),
            PYTHONUNBUFFERED="1",
        )
        env.update(extra)
        return env

    def start_worker(self, *, wait: bool = True, **extra_env: str) -> None:
        """Start the worker; with ``wait=False`` return at once (``wait_until_ready`` later)."""
        self.worker_pidfile.unlink(missing_ok=True)
        self._log_start = self.worker_log.stat().st_size if self.worker_log.exists() else 0
        if self._stderr is None:
            self._stderr = open(self.folder / "worker.stderr", "ab")  # noqa: SIM115 - closed in close()
        self.worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--concurrency=1",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "-n",
                f"monthend-{self.port}@%h",
                f"--pidfile={self.worker_pidfile}",
                f"--logfile={self.worker_log}",
            ],
            cwd=ROOT,
            env=self.worker_env(**extra_env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            start_new_session=True,
        )
        if wait:
            self.wait_until_ready()

    def wait_until_ready(self, timeout: float = 60) -> None:
        worker = self.worker
        assert worker is not None
        wait_for(
            lambda: " ready." in self.log(self._log_start) or worker.poll() is not None,
            timeout,
            "the Celery worker to be ready",
        )
        if worker.poll() is not None:
            raise RuntimeError(f"The Celery worker exited at start:\n{self.log(self._log_start)}")

    def worker_pid(self) -> int | None:
        return self._pid(self.worker_pidfile) or (self.worker.pid if self.worker else None)

    def kill_worker(self) -> None:
        """SIGKILL: no warm shutdown, no acknowledgement, the transaction left open."""
        pid = self.worker_pid()
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
            if self.worker is not None:
                self.worker.wait(timeout=10)
            wait_for(lambda: not alive(pid), 10, "the killed worker to go")

    def stop_worker(self) -> None:
        """Cold shutdown (SIGQUIT): the tests are done with it, and it is seconds faster."""
        pid = self.worker_pid()
        if pid is not None and alive(pid):
            self._stop(pid, signal.SIGQUIT, 15)
        if self.worker is not None:
            try:
                self.worker.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.worker.kill()
                self.worker.wait(timeout=5)
        self.worker = None

    def log(self, start: int = 0) -> str:
        if not self.worker_log.exists():
            return ""
        with open(self.worker_log, encoding="utf-8", errors="replace") as log:
            log.seek(start)
            return log.read()

    def wait_for_task(self, task_id: str, timeout: float = 30) -> str:
        """Wait until the worker logs the task's end; returns that line."""

        def finished() -> str | None:
            for line in self.log().splitlines():
                if task_id in line and (" succeeded in " in line or " raised " in line):
                    return line
            return None

        return wait_for(finished, timeout, f"task {task_id} on the worker")

    # --- email -------------------------------------------------------------------------

    def emails(self) -> list[str]:
        """Every message the worker wrote, one string each (the file backend appends a rule)."""
        messages = []
        for path in sorted(self.mail.iterdir()):
            text = path.read_text(errors="replace")
            messages += [m for m in text.split("-" * 79) if m.strip()]
        return messages

    # --- cleaning up -------------------------------------------------------------------

    def close(self) -> None:
        try:
            self.stop_worker()
        finally:
            self.stop_redis()
            if self._stderr is not None:
                self._stderr.close()

    @staticmethod
    def _pid(pidfile: Path) -> int | None:
        try:
            return int(pidfile.read_text().strip())
        except (OSError, ValueError):
            return None

    @staticmethod
    def _stop(pid: int, sig: int, timeout: float) -> None:
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return
        try:
            wait_for(lambda: not alive(pid), timeout, f"process {pid} to stop")
        except TimeoutError:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                return
            wait_for(lambda: not alive(pid), 5, f"process {pid} to die")
