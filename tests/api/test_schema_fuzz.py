"""Schemathesis over the OpenAPI schema, in-process: no request answers 5xx, every answer matches
the schema (a documented status code, content type and body).

Runs as HQ and as a shelter manager with an API token, over every operation, in positive (valid by
the schema) and negative (invalid) modes. Bounded for CI: a few examples per operation, derandomized
(the same requests every run), no Hypothesis database, no deadline (two shared cores are slow).
"""

import contextlib
from collections import Counter
from dataclasses import dataclass, field

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

EXAMPLES_PER_OPERATION = 10
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@dataclass
class Tally:
    requests: int = 0
    statuses: Counter = field(default_factory=Counter)
    failures: dict[str, list[str]] = field(default_factory=dict)

    def record(self, label: str, message: str) -> None:
        self.failures.setdefault(label, []).append(message)


@pytest.fixture
def wsgi_app():
    """The site as WSGI, sharing the test's connection and transaction (as Django's test client does)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def _summary(failure: FailureGroup, response) -> str:
    titles = ", ".join(sorted({getattr(exc, "title", type(exc).__name__) for exc in failure.exceptions}))
    return f"{response.request.method} {response.request.url} -> {response.status_code}: {titles}"


def _real_ids(world, shelter) -> dict[str, int]:
    """Path prefix -> an object the persona may see, so examples reach past the 404."""
    return {
        "/api/shelters/": shelter.pk,
        "/api/evacuees/": world.resident.pk,
        "/api/households/": world.resident.household_id,
        "/api/stays/": world.stay.pk,
        "/api/follow-ups/": world.follow_up.pk,
        "/api/supply/requests/": world.request.pk,
    }


def _path_parameters(operation, real_ids: dict[str, int]) -> dict | None:
    if "{id}" not in operation.path:
        return None
    return next(({"id": pk} for prefix, pk in real_ids.items() if operation.path.startswith(prefix)), None)


def _fuzz(operation, mode, *, app, headers: dict, tally: Tally, path_parameters: dict | None = None) -> None:
    @settings(
        max_examples=EXAMPLES_PER_OPERATION,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode, path_parameters=path_parameters))
    def run(case):
        # Each request in a savepoint rolled back after it: examples do not pile up rows, and a
        # request that broke the transaction does not break the next one.
        savepoint = transaction.savepoint()
        try:
            response = case.call(app=app, headers=headers)
            tally.requests += 1
            tally.statuses[response.status_code] += 1
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as failure:
                tally.record(f"{mode} {operation.label}", _summary(failure, response))
        finally:
            transaction.savepoint_rollback(savepoint)

    # Unsatisfiable: nothing to make invalid in this operation (negative mode), no request to send.
    with contextlib.suppress(Unsatisfiable):
        run()


@pytest.mark.parametrize("persona", ["hq", "manager_a"])
def test_no_answer_is_a_server_error_or_off_the_schema(persona, people, world, shelter_a, wsgi_app):
    token = Token.objects.create(user=people[persona])
    headers = {"Authorization": f"Token {token.key}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", wsgi_app, headers=headers)
    tally = Tally()
    real_ids = _real_ids(world, shelter_a)

    for result in schema.get_all_operations():
        operation = result.ok()
        send = {"app": wsgi_app, "headers": headers, "tally": tally}
        cache.clear()  # the API's throttles count in the cache: fuzz the operation, not the throttle
        # Valid requests to objects that exist, then invalid ones anywhere (ids included).
        real = _path_parameters(operation, real_ids)
        _fuzz(operation, schemathesis.GenerationMode.POSITIVE, path_parameters=real, **send)
        _fuzz(operation, schemathesis.GenerationMode.NEGATIVE, **send)

    print(f"schemathesis as {persona}: {tally.requests} requests, {sum(map(len, tally.failures.values()))} failures")
    print(f"statuses: {dict(sorted(tally.statuses.items()))}")
    assert tally.requests > 0 and 429 not in tally.statuses
    assert tally.failures == {}, "\n".join(f"{label}: {messages}" for label, messages in tally.failures.items())
