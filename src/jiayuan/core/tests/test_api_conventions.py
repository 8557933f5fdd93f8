"""What every API route shares: authentication, CSRF, the error body, pagination, language
and refusing absurd input without a 500."""

import datetime as dt

import pytest

from jiayuan.accounts.models import ApiToken
from jiayuan.accounts.services import token_create, token_revoke
from jiayuan.core.api_schemas import MAX_ID, MAX_PAGE_SIZE
from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import make_unit
from jiayuan.org.models import Building

pytestmark = pytest.mark.django_db
CSRF_SECRET = "k" * 32


class TestTokens:
    def test_a_token_signs_the_caller_in_and_records_its_use(self, personas, time_machine):
        time_machine.move_to(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC), tick=False)
        token, secret = token_create(actor=personas.clerk_a, name="desk pc")
        response = ApiClient(token=secret).get("/me")
        assert response.status_code == 200
        assert response.json()["username"] == "clerk_a"
        token.refresh_from_db()
        assert token.last_used_at == dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC)

    def test_a_revoked_token_is_refused(self, personas):
        token, secret = token_create(actor=personas.clerk_a, name="old phone")
        token_revoke(actor=personas.clerk_a, token=token)
        assert ApiClient(token=secret).get("/me").status_code == 401

    def test_an_expired_token_is_refused(self, personas, time_machine):
        time_machine.move_to(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
        _token, secret = token_create(actor=personas.clerk_a, name="trial", expires_in_days=1)
        assert ApiClient(token=secret).get("/me").status_code == 200
        time_machine.move_to(dt.datetime(2026, 3, 2, 9, 1, tzinfo=dt.UTC))
        assert ApiClient(token=secret).get("/me").status_code == 401

    def test_a_token_of_a_deactivated_account_is_refused(self, personas):
        _token, secret = token_create(actor=personas.clerk_a, name="desk pc")
        personas.clerk_a.is_active = False
        personas.clerk_a.save()
        assert ApiClient(token=secret).get("/me").status_code == 401

    @pytest.mark.parametrize(
        "secret",
        ["", "jy_", "jy_000000000000_wrong", "not-a-token", "jy_" + "a" * 5000, "jy_\u202e_x"],
    )
    def test_a_malformed_or_guessed_token_is_refused(self, personas, secret):
        token_create(actor=personas.clerk_a, name="desk pc")
        response = ApiClient(token=secret).get("/org/units")
        assert response.status_code == 401
        assert response.json()["detail"] == "Sign in or send a valid API token."

    def test_a_wrong_secret_for_a_real_key_is_refused(self, personas):
        token, _secret = token_create(actor=personas.clerk_a, name="desk pc")
        forged = f"jy_{token.key_id}_{'x' * 43}"
        assert ApiClient(token=forged).get("/me").status_code == 401
        assert ApiToken.objects.get(pk=token.pk).last_used_at is None

    def test_token_writes_need_no_csrf_token(self, personas):
        _token, secret = token_create(actor=personas.manager_a, name="script")
        client = ApiClient(token=secret, enforce_csrf_checks=True)
        response = client.post(f"/org/estates/{personas.estate_a.pk}/buildings", {"name": "5号楼"})
        assert response.status_code == 201


class TestSessions:
    def test_a_session_write_with_the_csrf_token_goes_through(self, personas):
        client = ApiClient(personas.manager_a, enforce_csrf_checks=True)
        # The cookie a page of the site would have set, and the header a script sends back.
        client.client.cookies["csrftoken"] = CSRF_SECRET
        client.headers["X-CSRFToken"] = CSRF_SECRET
        response = client.post(f"/org/estates/{personas.estate_a.pk}/buildings", {"name": "6号楼"})
        assert response.status_code == 201

    def test_an_anonymous_write_is_told_to_sign_in_not_about_csrf(self, personas):
        client = ApiClient(enforce_csrf_checks=True)
        response = client.post(f"/org/estates/{personas.estate_a.pk}/buildings", {"name": "6号楼"})
        assert response.status_code == 401


class TestErrorBodies:
    @pytest.fixture
    def manager(self, personas):
        return ApiClient(personas.manager_a)

    @pytest.fixture
    def url(self, personas):
        return f"/org/estates/{personas.estate_a.pk}/buildings"

    @pytest.mark.parametrize(
        ("raw", "content_type"),
        [
            ("{bad json", "application/json"),
            ('{"name": "1号楼",}', "application/json"),
            ("name=7号楼", "application/x-www-form-urlencoded"),
            (b"\xff\xfe\x00garbage", "application/json"),
        ],
    )
    def test_a_body_that_is_not_json_is_422(self, manager, url, raw, content_type):
        events = AuditEvent.objects.count()
        response = manager.post(url, raw=raw, content_type=content_type)
        assert response.status_code == 422
        assert response.json()["errors"] == [
            {"field": "__all__", "message": "Send the body as a JSON object."}
        ]
        assert AuditEvent.objects.count() == events

    @pytest.mark.parametrize("body", ["[]", '"7号楼"', "42", "null"])
    def test_json_that_is_not_an_object_is_422(self, manager, url, body):
        response = manager.post(url, raw=body)
        assert response.status_code == 422
        assert response.json()["errors"]

    def test_a_missing_body_names_the_missing_fields(self, manager, url):
        response = manager.post(url)
        assert response.status_code == 422

    def test_wrong_types_and_unknown_fields_are_reported_per_field(self, manager, url):
        response = manager.post(url, {"name": 7, "floors_above": "ten", "colour": "red"})
        assert response.status_code == 422
        assert response.json()["detail"] == "Some fields are not valid."
        assert field_errors(response) == {
            "name": "Enter text.",
            "floors_above": "Enter a whole number.",
            "colour": "Unknown field.",
        }
        assert not Building.objects.filter(name="7").exists()

    def test_nul_characters_are_refused_before_the_database_sees_them(self, manager, url):
        response = manager.post(url, {"name": "1号楼\x00"})
        assert response.status_code == 422
        assert "NUL" in field_errors(response)["name"]

    def test_a_visible_object_the_caller_may_not_change_is_403(self, personas):
        response = ApiClient(personas.clerk_a).patch(
            f"/org/buildings/{personas.building_a1.pk}", {"note": "x"}
        )
        assert response.status_code == 403
        assert response.json() == {"detail": "You are not allowed to do this.", "errors": []}

    @pytest.mark.parametrize("value", ["abc", "-1", "0", str(MAX_ID + 1), "1e3", "9" * 400])
    def test_an_impossible_id_in_the_path_is_422_not_500(self, manager, value):
        response = manager.get(f"/org/units/{value}")
        assert response.status_code == 422
        assert "unit_id" in field_errors(response)

    def test_the_largest_possible_id_is_simply_not_found(self, manager):
        assert manager.get(f"/org/units/{MAX_ID}").status_code == 404
        assert manager.get("/org/units", building=MAX_ID).status_code == 404

    @pytest.mark.parametrize("path", ["/api/v1/no-such-route", "/api/v1/org/units/1/x", "/api/x"])
    def test_an_unknown_api_path_answers_json_not_a_page(self, client, path):
        response = client.get(path, HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": []}

    @pytest.mark.parametrize(
        "params",
        [
            {"estate": "abc"},
            {"estate": str(MAX_ID + 1)},
            {"status": "demolished"},
            {"q": "x" * 101},
            {"q": "a\x00b"},
        ],
    )
    def test_bad_query_values_are_422(self, manager, params):
        response = manager.get("/org/units", **params)
        assert response.status_code == 422
        assert set(field_errors(response)) == set(params)

    def test_unknown_query_parameters_are_ignored(self, manager):
        assert manager.get("/org/units", colour="red").status_code == 200

    def test_a_too_large_body_is_413(self, manager, url, settings):
        settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
        response = manager.post(url, {"name": "x", "note": "y" * 2048})
        assert response.status_code == 413
        assert response.json()["detail"] == "The request is too large."


class TestLanguage:
    def test_the_answer_follows_accept_language(self, personas):
        english = ApiClient(personas.manager_a, language="en").get("/org/units/999999")
        chinese = ApiClient(personas.manager_a, language="zh-hans").get("/org/units/999999")
        assert english["Content-Language"] == "en"
        assert english.json()["detail"] == "Not found."
        assert chinese["Content-Language"] == "zh-hans"
        assert chinese.status_code == 404


class TestPagination:
    @pytest.fixture
    def many_units(self, personas):
        for number in range(1, 26):
            make_unit(personas.building_a1, f"3{number:02d}", floor=3)
        return 27  # with the two persona units

    def test_pages_cover_every_row_once(self, personas, many_units):
        client = ApiClient(personas.manager_a)
        seen = []
        for page in (1, 2, 3):
            body = client.get("/org/units", page=page, page_size=10).json()
            assert body["count"] == many_units
            seen += [item["id"] for item in body["items"]]
        assert len(seen) == len(set(seen)) == many_units

    def test_a_page_past_the_end_is_empty(self, personas, many_units):
        body = ApiClient(personas.manager_a).get("/org/units", page=9).json()
        assert body == {"items": [], "count": many_units}

    @pytest.mark.parametrize(
        "params",
        [
            {"page": 0},
            {"page": "two"},
            {"page_size": 0},
            {"page_size": MAX_PAGE_SIZE + 1},
            {"page": 10**30},
        ],
    )
    def test_bad_page_parameters_are_422(self, personas, params):
        response = ApiClient(personas.manager_a).get("/org/units", **params)
        assert response.status_code == 422
        assert set(field_errors(response)) == set(params)

    def test_the_largest_page_size_is_allowed(self, personas, many_units):
        body = ApiClient(personas.manager_a).get("/org/units", page_size=MAX_PAGE_SIZE).json()
        assert len(body["items"]) == many_units
