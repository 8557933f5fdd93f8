"""Sign-in, sign-out, lock-out, password change and reset, and API token pages."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import translation

from jiayuan.accounts.events import AccountEvent
from jiayuan.accounts.models import ApiToken, User
from jiayuan.accounts.services import token_authenticate, token_create
from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
NEW_PASSWORD = "Qingshan-Lushui-2026"


def english(client_method, *args, **kwargs):
    with translation.override("en"):
        return client_method(*args, HTTP_ACCEPT_LANGUAGE="en", **kwargs)


def password_of(user) -> str:
    user.refresh_from_db()
    return user.password


class TestSignIn:
    def test_page_has_labelled_fields(self, client):
        html = english(client.get, LOGIN).content.decode()
        assert 'for="id_username"' in html and 'for="id_password"' in html
        assert "Username or mobile" in html

    def test_username_signs_in_and_goes_home(self, personas, client):
        response = client.post(LOGIN, {"username": "manager_a", "password": PASSWORD})
        assert response.status_code == 302
        assert response.url == reverse("core:home")
        assert int(client.session[SESSION_KEY]) == personas.manager_a.pk

    def test_sign_in_is_audited_with_the_person_and_address(self, personas, client):
        client.post(
            LOGIN, {"username": "manager_a", "password": PASSWORD}, REMOTE_ADDR="203.0.113.7"
        )
        event = AuditEvent.objects.get(code=AccountEvent.SIGNED_IN)
        assert event.actor == personas.manager_a
        assert event.target_id == str(personas.manager_a.pk)
        assert event.ip == "203.0.113.7"

    def test_failed_sign_in_is_left_to_axes_and_not_audited(self, personas, client):
        client.post(LOGIN, {"username": "manager_a", "password": "wrong"})
        assert AccessAttempt.objects.filter(username="manager_a").exists()
        assert not AuditEvent.objects.exists()

    def test_mobile_signs_in(self, personas, client):
        response = client.post(LOGIN, {"username": "138 0013 8001", "password": PASSWORD})
        assert response.status_code == 302
        assert int(client.session[SESSION_KEY]) == personas.owner_a101.pk

    @pytest.mark.parametrize(
        "form",
        [
            {"username": "manager_a", "password": "wrong"},
            {"username": "nobody", "password": PASSWORD},
            {"username": "", "password": ""},
            {"username": "<script>alert(1)</script>", "password": "x"},
            {"username": "x" * 500, "password": "x"},
        ],
    )
    def test_bad_credentials_show_an_error_and_do_not_sign_in(self, personas, client, form):
        response = english(client.post, LOGIN, form)
        assert response.status_code == 200
        assert response.context["form"].errors
        assert SESSION_KEY not in client.session
        assert "<script>alert(1)</script>" not in response.content.decode()

    def test_wrong_password_message_is_clear(self, personas, client):
        response = english(client.post, LOGIN, {"username": "manager_a", "password": "nope"})
        assert "username, mobile number or password is wrong" in response.content.decode()

    def test_next_on_this_site_is_followed(self, personas, client):
        response = client.post(
            LOGIN, {"username": "manager_a", "password": PASSWORD, "next": "/notifications/"}
        )
        assert response.url == "/notifications/"

    @pytest.mark.parametrize(
        "target", ["https://evil.example/", "//evil.example/x", "javascript:alert(1)"]
    )
    def test_next_off_site_is_ignored(self, personas, client, target):
        response = client.post(
            LOGIN, {"username": "manager_a", "password": PASSWORD, "next": target}
        )
        assert response.url == reverse("core:home")

    def test_preferred_language_is_applied(self, personas, client):
        personas.manager_a.preferred_language = "en"
        personas.manager_a.save()
        response = client.post(LOGIN, {"username": "manager_a", "password": PASSWORD})
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        assert '<html lang="en">' in client.get("/").content.decode()

    def test_no_preference_leaves_the_language_alone(self, personas, client):
        response = client.post(LOGIN, {"username": "manager_a", "password": PASSWORD})
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies

    def test_signed_in_user_is_sent_home(self, personas):
        response = personas.client_for(personas.manager_a).get(LOGIN)
        assert response.status_code == 302

    def test_csrf_is_enforced(self, personas):
        client = Client(enforce_csrf_checks=True)
        response = client.post(LOGIN, {"username": "manager_a", "password": PASSWORD})
        assert response.status_code == 403
        assert SESSION_KEY not in client.session


class TestLockOut:
    def test_five_failures_lock_the_username_even_with_the_right_password(self, personas, client):
        for _attempt in range(settings.AXES_FAILURE_LIMIT - 1):
            response = client.post(LOGIN, {"username": "clerk_a", "password": "wrong"})
            assert response.status_code == 200
        response = english(client.post, LOGIN, {"username": "clerk_a", "password": "wrong"})
        assert response.status_code == 429
        assert "Too many" in response.content.decode()
        response = client.post(LOGIN, {"username": "clerk_a", "password": PASSWORD})
        assert response.status_code == 429
        assert SESSION_KEY not in client.session

    def test_another_username_is_not_locked(self, personas, client):
        for _attempt in range(settings.AXES_FAILURE_LIMIT):
            client.post(LOGIN, {"username": "clerk_a", "password": "wrong"})
        response = client.post(LOGIN, {"username": "clerk_b", "password": PASSWORD})
        assert response.status_code == 302


class TestSignOut:
    def test_post_signs_out_and_is_audited(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(reverse("accounts:logout"))
        assert response.status_code == 302
        assert SESSION_KEY not in client.session
        event = AuditEvent.objects.get(code=AccountEvent.SIGNED_OUT)
        assert event.actor == personas.manager_a

    def test_anonymous_sign_out_records_nothing(self, client):
        assert client.post(reverse("accounts:logout")).status_code == 302
        assert not AuditEvent.objects.exists()

    def test_get_does_not_sign_out(self, personas):
        client = personas.client_for(personas.manager_a)
        assert client.get(reverse("accounts:logout")).status_code == 405
        assert SESSION_KEY in client.session
        assert not AuditEvent.objects.filter(code=AccountEvent.SIGNED_OUT).exists()


class TestPasswordChange:
    url = reverse("accounts:password_change")

    def test_anonymous_is_sent_to_sign_in(self, client):
        assert client.get(self.url).url.startswith(LOGIN)

    def test_changes_password_keeps_session_and_records_event(self, personas):
        client = personas.client_for(personas.owner_a101)
        response = client.post(
            self.url,
            {
                "old_password": PASSWORD,
                "new_password": NEW_PASSWORD,
                "new_password_confirm": NEW_PASSWORD,
            },
        )
        assert response.status_code == 302
        personas.owner_a101.refresh_from_db()
        assert personas.owner_a101.check_password(NEW_PASSWORD)
        assert client.get("/").status_code == 200  # still signed in
        assert AuditEvent.objects.filter(
            code=AccountEvent.PASSWORD_CHANGED, actor=personas.owner_a101
        ).exists()

    @pytest.mark.parametrize(
        ("form", "field"),
        [
            (
                {
                    "old_password": "wrong",
                    "new_password": NEW_PASSWORD,
                    "new_password_confirm": NEW_PASSWORD,
                },
                "old_password",
            ),
            (
                {
                    "old_password": PASSWORD,
                    "new_password": NEW_PASSWORD,
                    "new_password_confirm": NEW_PASSWORD + "x",
                },
                "new_password_confirm",
            ),
            (
                {"old_password": PASSWORD, "new_password": "123", "new_password_confirm": "123"},
                "new_password",
            ),
            (
                {
                    "old_password": PASSWORD,
                    "new_password": "password",
                    "new_password_confirm": "password",
                },
                "new_password",
            ),
            (
                {"old_password": PASSWORD, "new_password": "", "new_password_confirm": ""},
                "new_password",
            ),
            ({}, "old_password"),
            (
                {
                    "old_password": PASSWORD,
                    "new_password": "x" * 129,
                    "new_password_confirm": "x" * 129,
                },
                "new_password",
            ),
        ],
    )
    def test_bad_input_is_a_form_error_and_nothing_changes(self, personas, form, field):
        before = password_of(personas.clerk_a)
        response = english(personas.client_for(personas.clerk_a).post, self.url, form)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert password_of(personas.clerk_a) == before


class TestPasswordReset:
    def url(self, user):
        return reverse("accounts:password_reset", args=[user.pk])

    def reset(self, personas, actor, target, password=NEW_PASSWORD, **extra):
        return personas.client_for(actor).post(
            self.url(target),
            {"new_password": password, "new_password_confirm": password, **extra},
        )

    def test_anonymous_is_sent_to_sign_in(self, personas, client):
        assert client.get(self.url(personas.clerk_a)).url.startswith(LOGIN)

    @pytest.mark.parametrize(
        ("actor", "target"),
        [
            ("manager_a", "clerk_a"),
            ("manager_a", "owner_a101"),
            ("company_admin", "manager_a"),
            ("company_admin", "clerk_b"),
        ],
    )
    def test_managers_reset_people_they_manage(self, personas, actor, target):
        actor, target = getattr(personas, actor), getattr(personas, target)
        assert personas.client_for(actor).get(self.url(target)).status_code == 200
        response = self.reset(personas, actor, target, next="/notifications/")
        assert response.status_code == 302
        assert response.url == "/notifications/"
        target.refresh_from_db()
        assert target.check_password(NEW_PASSWORD)
        assert AuditEvent.objects.filter(
            code=AccountEvent.PASSWORD_RESET, actor=actor, target_id=str(target.pk)
        ).exists()

    @pytest.mark.parametrize(
        ("actor", "target"),
        [
            ("manager_a", "clerk_b"),
            ("manager_a", "company_admin"),
            ("manager_a", "manager_a"),
            ("clerk_a", "owner_a101"),
            ("technician_a", "clerk_a"),
            ("outsider", "clerk_a"),
            ("stranger", "clerk_a"),
            ("owner_a101", "owner_a102"),
        ],
    )
    def test_anyone_else_gets_404_and_nothing_changes(self, personas, actor, target):
        actor, target = getattr(personas, actor), getattr(personas, target)
        before = password_of(target)
        assert personas.client_for(actor).get(self.url(target)).status_code == 404
        assert self.reset(personas, actor, target).status_code == 404
        assert password_of(target) == before

    def test_unknown_user_is_404(self, personas):
        response = personas.client_for(personas.company_admin).get(
            reverse("accounts:password_reset", args=[999999])
        )
        assert response.status_code == 404

    @pytest.mark.parametrize(
        "form",
        [
            {"new_password": "short", "new_password_confirm": "short"},
            {"new_password": NEW_PASSWORD, "new_password_confirm": "different"},
            {},
        ],
    )
    def test_bad_input_is_a_form_error(self, personas, form):
        before = password_of(personas.clerk_a)
        response = personas.client_for(personas.manager_a).post(self.url(personas.clerk_a), form)
        assert response.status_code == 200
        assert response.context["form"].errors
        assert password_of(personas.clerk_a) == before

    def test_next_off_site_is_ignored(self, personas):
        response = self.reset(
            personas, personas.manager_a, personas.clerk_a, next="https://evil.example/"
        )
        assert response.url == reverse("core:home")


class TestTokens:
    url = reverse("accounts:tokens")

    def test_anonymous_is_sent_to_sign_in(self, client):
        assert client.get(self.url).url.startswith(LOGIN)

    def test_lists_only_own_tokens(self, personas):
        token_create(actor=personas.manager_a, name="我的脚本")
        token_create(actor=personas.clerk_a, name="别人的脚本")
        html = personas.client_for(personas.manager_a).get(self.url).content.decode()
        assert "我的脚本" in html
        assert "别人的脚本" not in html

    def test_create_redirects_and_the_next_page_shows_the_secret_once(self, personas):
        client = personas.client_for(personas.technician_a)
        response = client.post(self.url, {"name": "报表", "expires_in_days": "30"})
        assert response.status_code == 302
        assert response.url == self.url
        assert ApiToken.objects.filter(user=personas.technician_a).count() == 1

        shown = client.get(self.url)
        secret = shown.context["new_secret"]
        assert secret in shown.content.decode()
        assert "no-store" in shown["Cache-Control"]
        assert token_authenticate(secret) == personas.technician_a
        assert ApiToken.objects.get(user=personas.technician_a).expires_at is not None

        again = client.get(self.url)
        assert again.context["new_secret"] is None
        assert secret not in again.content.decode()
        assert ApiToken.objects.filter(user=personas.technician_a).count() == 1

    def test_the_secret_is_not_in_the_redirect_or_another_session(self, personas):
        client = personas.client_for(personas.technician_a)
        response = client.post(self.url, {"name": "报表"})
        assert not response.content
        elsewhere = personas.client_for(personas.technician_a).get(self.url)
        assert elsewhere.context["new_secret"] is None
        assert token_authenticate(client.get(self.url).context["new_secret"])

    @pytest.mark.parametrize(
        ("form", "field"),
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": "   "}, "name"),
            ({"name": "x" * 101}, "name"),
            ({"name": "ok", "expires_in_days": "0"}, "expires_in_days"),
            ({"name": "ok", "expires_in_days": "-5"}, "expires_in_days"),
            ({"name": "ok", "expires_in_days": "3651"}, "expires_in_days"),
            ({"name": "ok", "expires_in_days": "abc"}, "expires_in_days"),
            ({"name": "ok", "expires_in_days": "1e9"}, "expires_in_days"),
        ],
    )
    def test_bad_input_is_a_form_error_and_creates_nothing(self, personas, form, field):
        response = personas.client_for(personas.clerk_a).post(self.url, form)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert response.context["new_secret"] is None
        assert not ApiToken.objects.filter(user=personas.clerk_a).exists()

    def test_too_many_tokens_is_a_form_error(self, personas):
        from jiayuan.accounts.services import MAX_TOKENS_PER_USER

        for number in range(MAX_TOKENS_PER_USER):
            token_create(actor=personas.clerk_a, name=f"t{number}")
        response = personas.client_for(personas.clerk_a).post(self.url, {"name": "one more"})
        assert response.context["form"].non_field_errors()
        assert ApiToken.objects.filter(user=personas.clerk_a).count() == MAX_TOKENS_PER_USER

    def test_hostile_name_is_escaped(self, personas):
        token_create(actor=personas.clerk_a, name="<script>alert(1)</script>")
        html = personas.client_for(personas.clerk_a).get(self.url).content.decode()
        assert "<script>alert(1)</script>" not in html

    def test_csrf_is_enforced(self, personas):
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas.clerk_a)
        assert client.post(self.url, {"name": "x"}).status_code == 403
        assert not ApiToken.objects.filter(user=personas.clerk_a).exists()


class TestLanguage:
    url = reverse("accounts:set_language")

    def test_signed_in_switch_saves_the_preference_sets_the_cookie_and_is_audited(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.post(self.url, {"language": "en", "next": "/notifications/"})
        assert response.status_code == 302
        assert response.url == "/notifications/"
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        personas.clerk_a.refresh_from_db()
        assert personas.clerk_a.preferred_language == "en"
        event = AuditEvent.objects.get(code=AccountEvent.LANGUAGE_CHANGED)
        assert event.actor == personas.clerk_a
        assert (event.before, event.after) == (
            {"preferred_language": ""},
            {"preferred_language": "en"},
        )
        assert '<html lang="en">' in client.get("/").content.decode()

    def test_choosing_the_same_language_again_records_nothing_new(self, personas):
        client = personas.client_for(personas.clerk_a)
        client.post(self.url, {"language": "en"})
        client.post(self.url, {"language": "en"})
        assert AuditEvent.objects.filter(code=AccountEvent.LANGUAGE_CHANGED).count() == 1

    @pytest.mark.parametrize("language", ["", "fr", "EN", "zh-hans<script>", "x" * 500])
    def test_a_language_not_offered_changes_nothing(self, personas, language):
        client = personas.client_for(personas.clerk_a)
        response = english(client.post, self.url, {"language": language, "next": "/"})
        assert response.status_code == 302
        assert settings.LANGUAGE_COOKIE_NAME not in response.cookies
        personas.clerk_a.refresh_from_db()
        assert personas.clerk_a.preferred_language == ""
        assert not AuditEvent.objects.exists()
        html = english(client.get, "/").content.decode()
        assert "Choose one of the offered languages." in html

    def test_anonymous_switch_only_sets_the_cookie(self, personas, client):
        response = client.post(self.url, {"language": "en", "next": LOGIN})
        assert response.status_code == 302
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        assert not AuditEvent.objects.exists()
        assert not User.objects.exclude(preferred_language="").exists()
        assert "Username or mobile" in client.get(LOGIN).content.decode()

    def test_next_off_site_is_ignored(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.post(self.url, {"language": "en", "next": "https://evil.example/"})
        assert not response.url.startswith("https://evil.example")

    def test_get_is_refused(self, personas):
        client = personas.client_for(personas.clerk_a)
        assert client.get(self.url, {"language": "en"}).status_code == 405
        personas.clerk_a.refresh_from_db()
        assert personas.clerk_a.preferred_language == ""

    def test_csrf_is_enforced(self, personas):
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas.clerk_a)
        assert client.post(self.url, {"language": "en"}).status_code == 403
        personas.clerk_a.refresh_from_db()
        assert personas.clerk_a.preferred_language == ""

    def test_the_choice_follows_the_person_to_a_new_device(self, personas):
        laptop = Client()
        laptop.post(LOGIN, {"username": "clerk_a", "password": PASSWORD})
        laptop.post(self.url, {"language": "en"})
        laptop.post(reverse("accounts:logout"))

        phone = Client()
        assert '<html lang="zh-hans">' in phone.get(LOGIN).content.decode()
        response = phone.post(LOGIN, {"username": "clerk_a", "password": PASSWORD})
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        assert '<html lang="en">' in phone.get("/").content.decode()

        phone.post(self.url, {"language": "zh-hans"})
        tablet = Client()
        tablet.post(LOGIN, {"username": "clerk_a", "password": PASSWORD})
        assert '<html lang="zh-hans">' in tablet.get("/").content.decode()
        codes = list(
            AuditEvent.objects.filter(actor=personas.clerk_a)
            .order_by("pk")
            .values_list("code", flat=True)
        )
        assert codes == [
            AccountEvent.SIGNED_IN,
            AccountEvent.LANGUAGE_CHANGED,
            AccountEvent.SIGNED_OUT,
            AccountEvent.SIGNED_IN,
            AccountEvent.LANGUAGE_CHANGED,
            AccountEvent.SIGNED_IN,
        ]


class TestTokenRevoke:
    def url(self, token):
        return reverse("accounts:token_revoke", args=[token.pk])

    def test_revokes_own_token(self, personas):
        token, secret = token_create(actor=personas.clerk_a, name="t")
        response = personas.client_for(personas.clerk_a).post(self.url(token))
        assert response.status_code == 302
        token.refresh_from_db()
        assert token.revoked_at is not None
        assert token_authenticate(secret) is None

    @pytest.mark.parametrize("persona", ["manager_a", "company_admin", "outsider", "stranger"])
    def test_another_person_s_token_is_404(self, personas, persona):
        token, _secret = token_create(actor=personas.clerk_a, name="t")
        response = personas.client_for(getattr(personas, persona)).post(self.url(token))
        assert response.status_code == 404
        token.refresh_from_db()
        assert token.revoked_at is None

    def test_get_is_refused_and_anonymous_sent_to_sign_in(self, personas, client):
        token, _secret = token_create(actor=personas.clerk_a, name="t")
        assert personas.client_for(personas.clerk_a).get(self.url(token)).status_code == 405
        assert client.post(self.url(token)).url.startswith(LOGIN)
        token.refresh_from_db()
        assert token.revoked_at is None

    def test_unknown_token_is_404(self, personas):
        url = reverse("accounts:token_revoke", args=[424242])
        assert personas.client_for(personas.clerk_a).post(url).status_code == 404
