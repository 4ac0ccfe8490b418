"""The Content Security Policy (django-csp): every page carries it, scripts run only from
the app's own files or by the request's nonce, and nothing the pages write needs more.

The browser test (tests/browser/test_csp_browser.py) shows the pages running under it;
these show the header, the templates and the server-drawn charts without a browser.
"""

from __future__ import annotations

import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from contracts.models import Role
from tests.factories import (
    ContractFactory,
    MeasureFactory,
    ObservationFactory,
    TargetFactory,
    member,
)

ROOT = Path(__file__).resolve().parents[2]
NONCE = re.compile(r"'nonce-([A-Za-z0-9+/=]+)'")


def policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.fixture
def commissioner(db):
    contract = ContractFactory(slug="fostering", name="Fostering")
    measure = MeasureFactory(measure_set=contract.measure_set, code="KPI 1", title="Visits on time")
    TargetFactory(measure=measure, target=Decimal("95"), tolerance_low=Decimal("85"))
    for period, value in (("2018-01", "96"), ("2018-02", "88"), ("2018-04", "80")):
        ObservationFactory(measure=measure, period=period, value=Decimal(value))
    client = Client()
    client.force_login(member(contract.commissioner, Role.COMMISSIONER))
    return client


def test_a_page_carries_the_policy_with_its_scripts_nonce(commissioner):
    response = commissioner.get("/")
    assert response.status_code == 200
    found = policy(response)
    nonce = NONCE.fullmatch(found["script-src"][1]).group(1)
    assert found["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert found["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert found["default-src"] == ["'self'"]
    assert found["img-src"] == ["'self'", "data:"]
    assert found["object-src"] == ["'none'"]
    assert found["base-uri"] == ["'self'"]
    assert found["frame-ancestors"] == ["'none'"]
    assert found["form-action"] == ["'self'"]
    assert "worker-src" not in found
    # Every script on the page is a file of the app's own, marked with the same nonce.
    scripts = re.findall(r"<script\b[^>]*>", response.content.decode())
    assert len(scripts) == 2
    assert all(f'nonce="{nonce}"' in tag and ' src="/static/' in tag for tag in scripts)


def test_each_response_has_a_fresh_nonce(commissioner):
    first, second = (NONCE.search(commissioner.get("/").headers["Content-Security-Policy"]) for _ in "ab")
    assert first.group(1) != second.group(1)
    assert len(first.group(1)) >= 22  # 16 random bytes, base64


def test_no_unsafe_source_anywhere_in_the_site_wide_policy():
    for directive, sources in settings.CONTENT_SECURITY_POLICY["DIRECTIVES"].items():
        assert not {"'unsafe-inline'", "'unsafe-eval'", "'unsafe-hashes'", "*"} & set(sources), directive


def test_the_sign_in_page_carries_the_policy(client, db):
    response = client.get("/accounts/login/")
    assert response.status_code == 200
    assert policy(response)["script-src"][0] == "'self'"
    assert NONCE.fullmatch(policy(response)["script-src"][1])


def test_the_api_documentation_adds_only_what_redoc_needs(commissioner):
    response = commissioner.get("/api/docs/")
    assert response.status_code == 200
    found = policy(response)
    nonce = NONCE.fullmatch(found["script-src"][1]).group(1)
    assert found["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert found["worker-src"] == ["'self'", "blob:"]
    assert found["style-src"] == ["'self'", f"'nonce-{nonce}'", *settings.API_DOCS_CSP["style-src"]]
    html = response.content.decode()
    # Redoc from the app's own static files; no web fonts or scripts from elsewhere.
    assert f'<script src="/static/drf_spectacular_sidecar/redoc/bundles/redoc.standalone.js" nonce="{nonce}">' in html
    assert f'<script src="/static/js/api-docs.js" nonce="{nonce}">' in html
    assert "https://" not in html


def test_the_charts_are_drawn_without_inline_styles(commissioner):
    """matplotlib writes style attributes and a style sheet; the policy refuses both, so
    the chart on a measure's page carries presentation attributes instead."""
    response = commissioner.get("/contracts/fostering/measures/kpi-1/")
    assert response.status_code == 200
    html = response.content.decode()
    chart = html[html.index('<svg role="img"'):]
    chart = chart[: chart.index("</svg>")]
    assert 'stroke-linejoin="round"' in chart[: chart.index(">")]  # the sheet's rule, on the root
    assert re.search(r'<path [^>]*fill="#[0-9a-f]{6}"', chart)
    assert " style=" not in html
    assert "<style" not in html


SERVED_TEMPLATES = sorted(
    path
    for folder in [ROOT / "templates", *ROOT.glob("*/templates")]
    if ".venv" not in folder.parts and "node_modules" not in folder.parts
    for path in folder.rglob("*.html")
    # The committee report's standalone document is a file (WeasyPrint, --format html),
    # never a page: its print styles are inline by design.
    if "document" not in path.relative_to(folder).parts
)


@pytest.mark.parametrize("template", SERVED_TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_template_writes_what_the_policy_refuses(template: Path):
    text = template.read_text()
    for tag in re.findall(r"<script\b[^>]*>", text):
        assert " src=" in tag and 'nonce="{{ request.csp_nonce }}"' in tag, tag
    for tag in re.findall(r"<style\b[^>]*>", text):
        assert 'nonce="{{ request.csp_nonce }}"' in tag, tag
    assert not re.search(r"\son[a-z]+\s*=", text), "an event-handler attribute"
    assert not re.search(r"\shx-on", text), "hx-on runs code through eval"
    assert not re.search(r"\sstyle\s*=", text), "an inline style attribute"
    assert "javascript:" not in text.lower()


def probe_policy(**env: str) -> subprocess.CompletedProcess[str]:
    code = (
        "import django, json; from django.conf import settings; django.setup(); "
        "print(json.dumps(settings.CONTENT_SECURITY_POLICY['DIRECTIVES']['form-action']))"
    )
    clean = {
        "PATH": "/usr/bin:/bin",
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "SECRET_KEY": "test-only",
        **env,
    }
    return subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=clean, capture_output=True, text=True, timeout=60
    )


def test_forms_may_go_to_the_single_sign_on_provider():
    result = probe_policy(
        OIDC_OP_AUTHORIZATION_ENDPOINT="https://login.example.org/tenant/oauth2/v2.0/authorize",
        CSP_FORM_ACTION="https://idp.example.net",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == '["\'self\'", "https://login.example.org", "https://idp.example.net"]'


def test_a_malformed_form_action_source_is_refused_by_name():
    result = probe_policy(CSP_FORM_ACTION="https://idp.example.net; script-src *")
    assert result.returncode != 0
    assert "CSP_FORM_ACTION: 'https://idp.example.net; script-src *' is not a source" in result.stderr
