"""Personal API tokens and the password over the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiayuan.accounts.models import ApiToken
from jiayuan.accounts.services import MAX_TOKENS_PER_USER, token_create
from jiayuan.core.api_testing import ApiClient, field_errors
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
