"""The API answers as its OpenAPI schema says (schemathesis, part of the normal test run).

Every operation of the schema (``/api/schema/``) is called through the Django WSGI
application with requests generated from the schema, signed in with a token as the
demonstration admin (a superuser who keeps Sunderland's definitions), over the
demonstration data. Path parameters, query parameters and body fields are often swapped
for real keys (contract and measure slugs, ids, a month with figures), so requests reach
real records and the writes (contracts, measures, targets, the return's steps) run, each
operation inside its test's transaction. Each answer is checked: no 5xx, a status the
schema documents, its content type, and a body of the documented shape.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.contrib.auth import get_user_model
from django.core.handlers.wsgi import WSGIHandler
from django.core.management import call_command
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis import checks
from schemathesis.config import SchemathesisConfig

from contracts.models import Contract, Entry, MonthlyReturn, Query
from kpis.models import Measure, Target
from retained_services.models import Dataset

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]

# Enough to reach every branch the real keys open, in well under a minute on SQLite.
MAX_EXAMPLES = 12


CONFIG = {
    # Fixed, so a failure here is a failure everywhere (the seed is in the report).
    "seed": 20180430,
    "generation": {"mode": "positive", "max-examples": MAX_EXAMPLES, "database": "none"},
    "phases": {"coverage": {"enabled": False}},
}


def _schema() -> dict[str, Any]:
    """The schema exactly as ``/api/schema/`` serves it, built without a request."""
    document = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(document))


schema = schemathesis.openapi.from_dict(_schema(), config=SchemathesisConfig.from_dict(CONFIG))


def _real_keys() -> dict[str, list[dict[str, Any]]]:
    """Real path parameters for each path of the schema, read after the demo is loaded."""
    contracts = [{"slug": slug} for slug in Contract.objects.values_list("slug", flat=True)]
    measures = [
        {"contract_slug": contract, "slug": slug}
        for contract, slug in Measure.objects.filter(
            measure_set__contract__isnull=False
        ).values_list("measure_set__contract__slug", "slug")
    ]
    targets = [
        {"contract_slug": contract, "id": pk}
        for contract, pk in Target.objects.values_list("measure__measure_set__contract__slug", "pk")
    ]
    returns = [{"id": pk} for pk in MonthlyReturn.objects.values_list("pk", flat=True)]
    prefix = "/api/v1"
    return {
        f"{prefix}/contracts/{{slug}}/": contracts,
        f"{prefix}/contracts/{{slug}}/scorecard/": contracts,
        f"{prefix}/contracts/{{contract_slug}}/measures/": [
            {"contract_slug": c["slug"]} for c in contracts
        ],
        f"{prefix}/contracts/{{contract_slug}}/targets/": [
            {"contract_slug": c["slug"]} for c in contracts
        ],
        f"{prefix}/contracts/{{contract_slug}}/measures/{{slug}}/": measures,
        f"{prefix}/contracts/{{contract_slug}}/measures/{{slug}}/series/": measures,
        f"{prefix}/contracts/{{contract_slug}}/targets/{{id}}/": targets,
        f"{prefix}/returns/{{id}}/": returns,
        f"{prefix}/returns/{{id}}/submit/": returns,
        f"{prefix}/returns/{{id}}/query/": returns,
        f"{prefix}/returns/{{id}}/answer/": returns,
        f"{prefix}/returns/{{id}}/sign-off/": returns,
        f"{prefix}/returns/{{id}}/reopen/": returns,
        f"{prefix}/entries/{{id}}/": [
            {"id": pk} for pk in Entry.objects.values_list("pk", flat=True)
        ],
        f"{prefix}/retained/datasets/{{id}}/": [
            {"id": pk} for pk in Dataset.objects.values_list("pk", flat=True)
        ],
    }


def _real_values() -> dict[str, list[Any]]:
    """Real values for query parameters and body fields of these names."""
    months = sorted(set(MonthlyReturn.objects.values_list("period", flat=True)))
    return {
        "period": months,
        "contract": list(Contract.objects.values_list("slug", flat=True)),
        "measure": list(Measure.objects.values_list("slug", flat=True)),
        "commissioner": list(Contract.objects.values_list("commissioner__slug", flat=True)),
        "provider": list(Contract.objects.values_list("provider__slug", flat=True)),
        "entry": list(Entry.objects.values_list("pk", flat=True)),
        "query": list(Query.objects.values_list("pk", flat=True)),
        "returns": [[pk] for pk in MonthlyReturn.objects.values_list("pk", flat=True)],
        "version": [1, 2],
        "page": [1],
    }


def _mostly(real: st.SearchStrategy, generated: Any) -> st.SearchStrategy:
    """Real values three times in four; the generated ones (mostly refused) otherwise."""
    return st.integers(0, 3).flatmap(lambda n: st.just(generated) if n == 0 else real)


def _sometimes_real(generated: dict[str, Any], real: dict[str, list[Any]]) -> st.SearchStrategy:
    """The generated values, or the same with some or all of them swapped for real ones."""
    names = sorted(name for name in generated if real.get(name))
    if not names:
        return st.just(generated)
    choices = {name: st.sampled_from(real[name]) for name in names}
    every = st.fixed_dictionaries(choices)
    some = st.fixed_dictionaries({}, optional=choices)
    return _mostly(st.one_of(every, some).map(lambda chosen: {**generated, **chosen}), generated)


# Real keys and values for the test running now, read once its demo data is loaded.
REAL: dict[str, dict[str, Any]] = {"keys": {}, "values": {}, "body": {}}


@schema.hook
def flatmap_path_parameters(context, path_parameters):  # noqa: ANN001, ANN201
    real = REAL["keys"].get(context.operation.path)
    if not real:
        return st.just(path_parameters)
    return _mostly(st.sampled_from(real), path_parameters)


@schema.hook
def flatmap_query(context, query):  # noqa: ANN001, ANN201
    return _sometimes_real(query or {}, REAL["values"])


@schema.hook
def flatmap_body(context, body):  # noqa: ANN001, ANN201
    return _sometimes_real(body, REAL["body"]) if isinstance(body, dict) else st.just(body)


# Who calls each operation: the demo admin, except for the return's steps, called by the
# role that may take them so they reach the workflow rather than stop at a 403.
CALLER = {
    "/api/v1/returns/{id}/submit/": "provider_lead",
    "/api/v1/returns/{id}/answer/": "provider_lead",
    "/api/v1/entries/{id}/": "provider_lead",
    "/api/v1/returns/{id}/query/": "commissioner",
    "/api/v1/returns/{id}/sign-off/": "commissioner",
    "/api/v1/returns/{id}/reopen/": "commissioner",
    "/api/v1/returns/sign-off/": "commissioner",
}


@pytest.fixture(scope="module")
def demo(django_db_setup, django_db_blocker) -> Iterator[dict[str, str]]:
    """The demonstration data, loaded once for the module inside a transaction that is
    rolled back at its end; each operation's test runs in a savepoint within it, so every
    operation starts from the same data and leaves nothing behind."""
    with django_db_blocker.unblock(), transaction.atomic():
        call_command("load_demo", stdout=io.StringIO())
        tokens = {
            user.username: Token.objects.get_or_create(user=user)[0].key
            for user in get_user_model().objects.filter(
                username__in=["admin", "commissioner", "provider_lead"]
            )
        }
        values = _real_values()
        # A new target is refused over another in force (R12): name measures with none.
        untargeted = Measure.objects.filter(targets__isnull=True).values_list("slug", flat=True)
        REAL.update(keys=_real_keys(), values=values, body={**values, "measure": list(untargeted)})
        try:
            yield tokens
        finally:
            REAL.update(keys={}, values={}, body={})
            transaction.set_rollback(True)


@pytest.fixture
def api(demo, db, settings) -> Iterator[dict[str, Any]]:
    """The WSGI application over the demonstration data, and each caller's token."""
    # The rate limits guard production; a fuzzer here sends hundreds of calls a minute.
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "100000/minute", "user": "100000/minute"},
    }
    # As Django's test client does: each request runs inside the test's transaction, so
    # the per-request "close old connections" must not close it.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        # The application as config.wsgi makes it, built after the test's settings.
        yield {"app": WSGIHandler(), "tokens": demo}
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@schema.parametrize()
# One demo per operation, shared by its examples on purpose: writes build on each other.
@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_every_operation_answers_as_the_schema_says(case, api):
    token = api["tokens"][CALLER.get(case.operation.path, "admin")]
    case.call_and_validate(
        app=api["app"], headers={"Authorization": f"Token {token}"}, checks=CHECKS
    )


@pytest.mark.django_db
def test_every_path_with_keys_has_real_keys_to_swap_in():
    # A new endpoint keyed by a slug or id needs its real keys above, or its requests
    # would only ever meet a 404.
    keyed = {path for path in schema.raw_schema["paths"] if "{" in path}

    assert keyed == set(_real_keys())
