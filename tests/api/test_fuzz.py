"""Schemathesis sends generated requests (valid, borderline and malformed) to every operation
of the OpenAPI description, in process, signed in as a manager of estate A: none may end in a
server error, input the description forbids must be refused, and every answer must match
the status codes, content type and body the description promises."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from jiayuan.accounts.services import token_create

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """The WSGI handler closes database connections at the end of each request, which on
    PostgreSQL would close the test's own transaction; Django's test client does the same."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def manager_token(personas):
    _token, secret = token_create(actor=personas.manager_a, name="fuzz")
    return secret


@pytest.mark.django_db
@schema.parametrize()
@settings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_request_ends_in_a_server_error(case, manager_token):
    case.call_and_validate(
        headers={"Authorization": f"Bearer {manager_token}"},
        # Valid-looking requests may still break a business rule (a duplicate name, a
        # building that still has units); those are 422 by design, not a fault.
        excluded_checks=[positive_data_acceptance],
    )
