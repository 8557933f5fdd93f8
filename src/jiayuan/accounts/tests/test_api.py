"""Personal API tokens and the password over the API."""

import datetime as dt

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiayuan.accounts.models import ApiToken
from jiayuan.accounts.services import MAX_TOKENS_PER_USER, token_authenticate, token_create
from jiayuan.core.access import roles_in_estate
from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.roles import Role
from jiayuan.core.testing import PASSWORD

pytestmark = pytest.mark.django_db
NEW_PASSWORD = "Quiet-harbour-2026"


class TestTokens:
    def test_the_secret_is_shown_once_and_works(self, personas):
        client = ApiClient(personas.technician_a)
        created = client.post("/accounts/tokens", {"name": "手机", "expires_in_days": 30})
        assert created.status_code == 201
        body = created.json()
        assert body["token"].startswith(body["prefix"] + "_")
        assert body["expires_at"] is not None
        listed = client.get("/accounts/tokens").json()
        assert listed["count"] == 1
        assert "token" not in listed["items"][0]
        assert ApiClient(token=body["token"]).get("/me").json()["username"] == "tech_a"

    def test_everyone_lists_only_their_own_tokens(self, personas):
        token_create(actor=personas.manager_a, name="manager laptop")
        token_create(actor=personas.owner_a101, name="owner phone")
        items = ApiClient(personas.owner_a101).get("/accounts/tokens").json()["items"]
        assert [item["name"] for item in items] == ["owner phone"]

    def test_revoking_ends_the_token(self, personas):
        token, secret = token_create(actor=personas.clerk_a, name="old pc")
        response = ApiClient(personas.clerk_a).post(f"/accounts/tokens/{token.pk}/revoke")
        assert response.status_code == 200
        assert response.json()["is_active"] is False
        assert response.json()["revoked_at"] is not None
        assert ApiClient(token=secret).get("/me").status_code == 401

    def test_an_expired_token_a_wrong_secret_and_a_deactivated_user_are_refused(self, personas):
        token, secret = token_create(actor=personas.clerk_a, name="short", expires_in_days=1)
        assert ApiClient(token=secret).get("/me").status_code == 200
        with time_machine.travel(token.expires_at - dt.timedelta(seconds=1)):
            assert ApiClient(token=secret).get("/me").status_code == 200
        with time_machine.travel(token.expires_at + dt.timedelta(seconds=1)):
            assert ApiClient(token=secret).get("/me").status_code == 401
        _token, other = token_create(actor=personas.owner_a101, name="phone")
        forged = secret.rsplit("_", 1)[0] + "_" + other.rsplit("_", 1)[1]
        assert ApiClient(token=forged).get("/me").status_code == 401
        assert ApiClient(token="jy_nosuchkey_" + "x" * 43).get("/me").status_code == 401
        personas.clerk_a.is_active = False
        personas.clerk_a.save(update_fields=["is_active"])
        assert ApiClient(token=secret).get("/me").status_code == 401

    def test_last_use_is_written_at_most_once_a_minute(self, personas):
        token, secret = token_create(actor=personas.owner_a101, name="phone")
        start = dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC)
        with time_machine.travel(start, tick=False):
            ApiClient(token=secret).get("/me")
        token.refresh_from_db()
        assert token.last_used_at == start
        with time_machine.travel(start + dt.timedelta(seconds=59), tick=False):
            ApiClient(token=secret).get("/me")
        token.refresh_from_db()
        assert token.last_used_at == start
        later = start + dt.timedelta(seconds=61)
        with time_machine.travel(later, tick=False):
            ApiClient(token=secret).get("/me")
        token.refresh_from_db()
        assert token.last_used_at == later

    def test_a_forged_secret_or_a_deactivated_user_leaves_the_last_use_alone(self, personas):
        token, secret = token_create(actor=personas.owner_a101, name="phone")
        forged = secret[:-4] + ("aaaa" if not secret.endswith("aaaa") else "bbbb")
        assert ApiClient(token=forged).get("/me").status_code == 401
        token.refresh_from_db()
        assert token.last_used_at is None
        personas.owner_a101.is_active = False
        personas.owner_a101.save(update_fields=["is_active"])
        assert ApiClient(token=secret).get("/me").status_code == 401
        token.refresh_from_db()
        assert token.last_used_at is None

    def test_signing_in_writes_the_last_use_in_the_same_statement_on_postgresql(
        self, personas, django_assert_num_queries
    ):
        token, secret = token_create(actor=personas.owner_a101, name="phone")
        with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
            assert token_authenticate(secret) == personas.owner_a101
        token.refresh_from_db()
        assert token.last_used_at is not None
        with django_assert_num_queries(1):
            assert token_authenticate(secret) == personas.owner_a101

    def test_an_owner_signs_in_known_to_hold_no_staff_role(
        self, personas, django_assert_num_queries
    ):
        _token, owner_secret = token_create(actor=personas.owner_a101, name="phone")
        _token, clerk_secret = token_create(actor=personas.clerk_a, name="pc")
        owner, clerk = token_authenticate(owner_secret), token_authenticate(clerk_secret)
        assert (owner, clerk) == (personas.owner_a101, personas.clerk_a)
        with django_assert_num_queries(0):
            assert roles_in_estate(owner, personas.estate_a) == set()
        assert roles_in_estate(clerk, personas.estate_a) == {Role.SERVICE_DESK}

    def test_a_token_may_revoke_itself(self, personas):
        token, secret = token_create(actor=personas.clerk_a, name="leaked")
        client = ApiClient(token=secret)
        assert client.post(f"/accounts/tokens/{token.pk}/revoke").status_code == 200
        assert client.get("/me").status_code == 401

    def test_another_persons_token_is_not_found(self, personas):
        token, secret = token_create(actor=personas.manager_a, name="manager laptop")
        response = ApiClient(personas.company_admin).post(f"/accounts/tokens/{token.pk}/revoke")
        assert response.status_code == 404
        assert ApiClient(token=secret).get("/me").status_code == 200

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 10_000}, "name"),
            ({"name": 5}, "name"),
            ({"name": "ok\x00"}, "name"),
            ({"name": "ok", "expires_in_days": 0}, "expires_in_days"),
            ({"name": "ok", "expires_in_days": 10**40}, "expires_in_days"),
            ({"name": "ok", "expires_in_days": "soon"}, "expires_in_days"),
            ({"name": "ok", "user": 1}, "user"),
        ],
    )
    def test_bad_input_is_422_with_no_token_made(self, personas, body, field):
        response = ApiClient(personas.clerk_a).post("/accounts/tokens", body)
        assert response.status_code == 422, response.content
        assert field in field_errors(response)
        assert not ApiToken.objects.exists()

    def test_the_list_does_not_grow_in_queries_with_rows(
        self, personas, django_assert_max_num_queries
    ):
        client = ApiClient(personas.clerk_a)
        token_create(actor=personas.clerk_a, name="first")
        with CaptureQueriesContext(connection) as few:
            client.get("/accounts/tokens")
        for n in range(15):
            token_create(actor=personas.clerk_a, name=f"t{n}")
        with django_assert_max_num_queries(len(few)):
            assert client.get("/accounts/tokens").json()["count"] == 16

    def test_there_is_a_limit_of_tokens(self, personas):
        for n in range(MAX_TOKENS_PER_USER):
            token_create(actor=personas.clerk_a, name=f"t{n}")
        response = ApiClient(personas.clerk_a).post("/accounts/tokens", {"name": "one more"})
        assert response.status_code == 422
        assert ApiToken.objects.filter(user=personas.clerk_a).count() == MAX_TOKENS_PER_USER


class TestPassword:
    def test_changing_the_password_keeps_this_session(self, personas):
        client = ApiClient(personas.owner_a101)
        response = client.post(
            "/accounts/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 204
        personas.owner_a101.refresh_from_db()
        assert personas.owner_a101.check_password(NEW_PASSWORD)
        assert client.get("/me").status_code == 200

    def test_other_sessions_end_with_the_old_password(self, personas):
        other_browser = ApiClient(personas.owner_a101)
        ApiClient(personas.owner_a101).post(
            "/accounts/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert other_browser.get("/me").status_code == 401

    def test_a_token_may_change_the_password_without_making_a_session(self, personas):
        _token, secret = token_create(actor=personas.clerk_a, name="script")
        client = ApiClient(token=secret)
        response = client.post(
            "/accounts/password", {"old_password": PASSWORD, "new_password": NEW_PASSWORD}
        )
        assert response.status_code == 204
        assert "sessionid" not in client.client.cookies

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"old_password": "wrong", "new_password": NEW_PASSWORD}, "old_password"),
            ({"old_password": PASSWORD, "new_password": "123"}, "new_password"),
            ({"old_password": PASSWORD, "new_password": "password"}, "new_password"),
            ({"old_password": PASSWORD, "new_password": "12345678901"}, "new_password"),
            ({"old_password": PASSWORD}, "new_password"),
            ({"old_password": PASSWORD, "new_password": None}, "new_password"),
            ({"old_password": PASSWORD, "new_password": ["x"]}, "new_password"),
        ],
    )
    def test_bad_input_is_422_and_keeps_the_old_password(self, personas, body, field):
        response = ApiClient(personas.clerk_a).post("/accounts/password", body)
        assert response.status_code == 422
        assert field in field_errors(response)
        personas.clerk_a.refresh_from_db()
        assert personas.clerk_a.check_password(PASSWORD)
