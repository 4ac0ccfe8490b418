"""`make audit` (what .ci/run runs before the tests): pip-audit over requirements.lock
fails on a known vulnerability, naming the package and the version that fixes it, and
passes when there is none.

The advisories come from a small server in the test speaking OSV's query API
(``--osv-url``), so the test needs no network; pip-audit, make and the lock file are the
real ones.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKED = dict(
    line.strip().lower().split("==", 1)
    for line in (ROOT / "requirements.lock").read_text().splitlines()
    if "==" in line
)


def normalised(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture
def advisories() -> Iterator[tuple[str, dict[str, str], list[str]]]:
    """An OSV-speaking server; ``vulnerable`` maps a package to the version that fixes it."""
    vulnerable: dict[str, str] = {}
    asked: list[str] = []

    class OSV(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - the http.server interface
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            name = query["package"]["name"]
            asked.append(name)
            vulns = []
            if name in vulnerable:
                vulns.append({
                    "id": "OSV-TEST-0001",
                    "summary": f"A known vulnerability in {name}",
                    "affected": [{
                        "package": {"name": name, "ecosystem": "PyPI"},
                        "ranges": [{"type": "ECOSYSTEM",
                                    "events": [{"introduced": "0"}, {"fixed": vulnerable[name]}]}],
                    }],
                })
            body = json.dumps({"vulns": vulns} if vulns else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), OSV)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/query", vulnerable, asked
    finally:
        server.shutdown()
        server.server_close()


def make_audit(osv_url: str) -> subprocess.CompletedProcess[str]:
    if shutil.which("make") is None:
        pytest.fail("make is not installed here; install it with: apt-get install -y make")
    return subprocess.run(
        # -o: never (re)install the environment from inside a test.
        ["make", "--no-print-directory", "-o", ".venv/.deps", "audit",
         "AUDIT_SERVICE=osv", f"AUDIT_FLAGS=--osv-url {osv_url}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300,
    )


def test_the_audit_passes_when_no_locked_package_has_a_known_vulnerability(advisories):
    osv_url, _, asked = advisories
    result = make_audit(osv_url)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No known vulnerabilities found" in result.stdout + result.stderr
    # Every locked package was asked about, by its normalised name (PEP 503).
    assert {normalised(name) for name in asked} == {normalised(name) for name in LOCKED}


def test_the_audit_fails_on_a_known_vulnerability_naming_the_fix(advisories):
    osv_url, vulnerable, _ = advisories
    vulnerable["django"] = "5.2.9999"
    result = make_audit(osv_url)
    assert result.returncode != 0
    report = result.stdout
    line = next(line for line in report.splitlines() if line.lower().startswith("django "))
    assert line.split() == ["django", LOCKED["django"], "OSV-TEST-0001", "5.2.9999"]
