"""``make load``: 50 people for 60 seconds against gunicorn on PostgreSQL with the demo.

1. Migrates the database LOAD_DATABASE_URL names (created if missing; by default
   ``contract_monitor_load`` on the local PostgreSQL), loads the demo, collects static files.
2. Makes a signed-in session per simulated person (commissioner and provider editor in
   turn) and an API token for each of six demo users; counts each endpoint's queries.
3. Starts gunicorn with config/gunicorn.py as production would run it (DEBUG off, a
   throwaway SECRET_KEY, JSON logs to var/load/gunicorn.log), with two exceptions for a
   plain-HTTP run on this machine: SECURE_SSL_REDIRECT and the secure cookies are off,
   and TWO_FACTOR_REQUIRED=0 (the sessions are made without a second factor).
4. Runs locust headless (bench/load/locustfile.py) and prints, per endpoint, requests per
   second, the median and 95th-percentile latency and the errors; CSVs in var/load/.
5. Stops gunicorn.

Environment: LOAD_USERS (50), LOAD_SECONDS (60), LOAD_SPAWN_RATE (10 a second),
LOAD_WAIT_MIN/LOAD_WAIT_MAX (0.5/1.5 s), LOAD_DATABASE_URL, LOAD_SETUP=0 (skip step 1 on
a rerun), GUNICORN_WORKERS and GUNICORN_THREADS (config/gunicorn.py's defaults). Exit
status 1 if any request failed.
"""

from __future__ import annotations

import csv
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "var" / "load"
BIN = Path(sys.executable).parent
USERS = int(os.environ.get("LOAD_USERS", "50"))
SECONDS = int(os.environ.get("LOAD_SECONDS", "60"))
SPAWN_RATE = os.environ.get("LOAD_SPAWN_RATE", "10")
DATABASE_URL = os.environ.get(
    "LOAD_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/contract_monitor_load"
)
CONTRACT, PERIOD = "sunderland-tfc", "2018-04"
PAGE_PEOPLE = ("commissioner", "provider_editor")
API_PEOPLE = ("commissioner", "provider_editor", "provider_lead", "admin", "reader", "officer")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_environment(port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "CELERY_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        DATABASE_URL=DATABASE_URL,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,testserver",
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        TWO_FACTOR_REQUIRED="0",
        LOG_FORMAT="json",
        GUNICORN_BIND=f"127.0.0.1:{port}",
    )
    return env


def create_database() -> None:
    import psycopg

    base, name = DATABASE_URL.rsplit("/", 1)
    with psycopg.connect(
        base.replace("postgres://", "postgresql://", 1) + "/postgres", autocommit=True
    ) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"Created the database {name}.")


def manage(env: dict[str, str], *args: str) -> None:
    """A management command, its output shown only if it fails."""
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if done.returncode != 0:
        sys.stderr.write(done.stdout + done.stderr)
        raise SystemExit(f"manage.py {' '.join(args)} failed (exit status {done.returncode}).")


def prepare(env: dict[str, str]) -> dict[str, str]:
    """Sessions, tokens, the entry to open; and each endpoint's query count.

    Django runs in this process for it, logging at WARNING so that its requests' access
    lines stay out of the run's output (gunicorn's are in its log)."""
    os.environ.update(env, LOG_LEVEL="WARNING")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from rest_framework.authtoken.models import Token

    from contracts.models import MonthlyReturn

    users = {u.username: u for u in get_user_model().objects.filter(username__in=API_PEOPLE)}
    april = MonthlyReturn.objects.get(contract__slug=CONTRACT, period=PERIOD)
    entry = april.entries.get(measure__code="KPI 1")
    sessions = []
    for n in range(USERS):
        client = Client()
        client.force_login(users[PAGE_PEOPLE[n % len(PAGE_PEOPLE)]])
        sessions.append(client.cookies[settings.SESSION_COOKIE_NAME].value)
    tokens = [Token.objects.get_or_create(user=users[name])[0].key for name in API_PEOPLE]

    urls = {
        "dashboard page": (f"/contracts/{CONTRACT}/dashboard/?period={PERIOD}", {}),
        "entry page": (f"/returns/{april.pk}/entries/{entry.pk}/", {}),
        "scorecard API": (
            f"/api/v1/contracts/{CONTRACT}/scorecard/?period={PERIOD}",
            {"HTTP_AUTHORIZATION": f"Token {tokens[0]}"},
        ),
        "bare view /healthz/live": ("/healthz/live", {}),
    }
    signed_in, anonymous = Client(), Client()
    signed_in.force_login(users["commissioner"])
    print("Queries per request (the second of each; pages as the commissioner, the API by token):")
    for name, (url, headers) in urls.items():
        client = signed_in if name.endswith("page") else anonymous
        client.get(url, **headers)
        with CaptureQueriesContext(connection) as queries:
            answer = client.get(url, **headers)
        assert answer.status_code == 200, f"{url} answered {answer.status_code}"
        print(f"  {name:<26} {len(queries):>3}")
    connection.close()
    return {
        "LOAD_CONTRACT": CONTRACT,
        "LOAD_PERIOD": PERIOD,
        "LOAD_RETURN_ID": str(april.pk),
        "LOAD_ENTRY_ID": str(entry.pk),
        "LOAD_SESSION_COOKIE": settings.SESSION_COOKIE_NAME,
        "LOAD_SESSIONS": ",".join(sessions),
        "LOAD_TOKENS": ",".join(tokens),
    }


def wait_until_serving(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited at start; see {OUT / 'gunicorn.log'}")
        try:
            with urllib.request.urlopen(f"{base}/healthz/live", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"gunicorn did not answer within {timeout} s; see {OUT / 'gunicorn.log'}")


def warm_up(base: str, people: dict[str, str], rounds: int = 3) -> None:
    """A few requests to each endpoint first, so every gunicorn worker has loaded its
    templates and opened its database connection: the figures are a warm server's."""
    from concurrent.futures import ThreadPoolExecutor

    cookie = f"{people['LOAD_SESSION_COOKIE']}={people['LOAD_SESSIONS'].split(',')[0]}"
    token = f"Token {people['LOAD_TOKENS'].split(',')[0]}"
    requests = [
        (f"/contracts/{CONTRACT}/dashboard/?period={PERIOD}", {"Cookie": cookie}),
        (f"/returns/{people['LOAD_RETURN_ID']}/entries/{people['LOAD_ENTRY_ID']}/", {"Cookie": cookie}),
        (f"/api/v1/contracts/{CONTRACT}/scorecard/?period={PERIOD}", {"Authorization": token}),
        ("/healthz/live", {}),
    ]

    def fetch(item: tuple[str, dict[str, str]]) -> int:
        url, headers = item
        with urllib.request.urlopen(urllib.request.Request(base + url, headers=headers), timeout=30) as answer:
            return answer.status

    with ThreadPoolExecutor(max_workers=10) as pool:
        statuses = list(pool.map(fetch, requests * 10 * rounds))
    assert set(statuses) == {200}, statuses


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def report(stats_csv: Path) -> int:
    with open(stats_csv, newline="") as handle:
        rows = list(csv.DictReader(handle))
    print()
    print(f"{USERS} people for {SECONDS} s, gunicorn {workers_and_threads()}:")
    print(f"{'endpoint':<26} {'requests':>8} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'errors':>6}")
    failures = 0
    for row in rows:
        name = "all" if row["Name"] == "Aggregated" else row["Name"]
        failures += int(row["Failure Count"]) if name != "all" else 0
        print(
            f"{name:<26} {row['Request Count']:>8} {float(row['Requests/s']):>7.1f} "
            f"{row['50%']:>7} {row['95%']:>7} {row['Failure Count']:>6}"
        )
    return failures


def workers_and_threads() -> str:
    # What config/gunicorn.py chose, from the same environment the server was given.
    from config import gunicorn

    return f"{gunicorn.workers} workers x {gunicorn.threads} threads, on {os.cpu_count()} cores"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    port = free_port()
    env = server_environment(port)
    if os.environ.get("LOAD_SETUP", "1") != "0":
        create_database()
        manage(env, "migrate", "--noinput", "--verbosity", "0")
        manage(env, "load_demo")
        manage(env, "collectstatic", "--noinput", "--verbosity", "0")
        print("Migrated, loaded the demo and collected static files.")
    people = prepare(env)

    base = f"http://127.0.0.1:{port}"
    with open(OUT / "gunicorn.log", "wb") as log:
        server = subprocess.Popen(
            [str(BIN / "gunicorn"), "config.wsgi:application", "--config", "config/gunicorn.py",
             "--pid", str(OUT / "gunicorn.pid")],
            cwd=ROOT, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
        )
    try:
        wait_until_serving(base, server)
        warm_up(base, people)
        locust_env = {**os.environ, **people}
        print(f"Running {USERS} people for {SECONDS} s...", flush=True)
        with open(OUT / "locust.log", "wb") as locust_log:
            subprocess.run(
                [str(BIN / "locust"), "-f", str(ROOT / "bench" / "load" / "locustfile.py"),
                 "--headless", "--users", str(USERS), "--spawn-rate", SPAWN_RATE,
                 "--run-time", f"{SECONDS}s", "--stop-timeout", "10", "--host", base,
                 "--csv", str(OUT / "load"), "--only-summary", "--loglevel", "WARNING"],
                cwd=ROOT, env=locust_env, check=False, timeout=SECONDS + 120,
                stdout=locust_log, stderr=subprocess.STDOUT,
            )
    finally:
        stop(server)
    failures = report(OUT / "load_stats.csv")
    print(
        f"\nCSV: {OUT}/load_stats.csv and load_failures.csv; locust's own summary: "
        f"{OUT}/locust.log; the server's log: {OUT}/gunicorn.log"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
