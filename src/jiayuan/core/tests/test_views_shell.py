"""The page shell: layout, role menu, estate switcher, language switch and error pages."""

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import Client, override_settings
from django.urls import include, path, reverse
from django.utils import translation

from jiayuan.core.middleware import ESTATE_SESSION_KEY
from jiayuan.core.roles import Role
from jiayuan.core.templatetags.shell import menu_for
from jiayuan.org.models import Estate, Residency, Resident

pytestmark = pytest.mark.django_db


def menu_views(user) -> set[str]:
    return {item.view_name for item in menu_for(user)}


class TestMenu:
    def test_manager_sees_every_staff_page_including_import_and_audit(self, personas):
        assert menu_views(personas.manager_a) >= {
            "core:home",
            "org:estate_list",
            "org:building_list",
            "org:unit_list",
            "org:common_area_list",
            "org:resident_list",
            "org:staff_list",
            "org:team_list",
            "org:import_start",
            "core:audit",
        }

    def test_technician_sees_estate_records_but_not_staff_import_or_audit(self, personas):
        views = menu_views(personas.technician_a)
        assert {"org:building_list", "org:unit_list", "org:team_list"} <= views
        assert not views & {"org:staff_list", "org:import_start", "core:audit"}

    def test_service_desk_sees_staff_but_not_import_or_audit(self, personas):
        views = menu_views(personas.clerk_a)
        assert "org:staff_list" in views
        assert not views & {"org:import_start", "core:audit"}

    def test_resident_menu_is_home_requests_units_surveys_and_notifications(self, personas):
        assert [item.view_name for item in menu_for(personas.owner_a101)] == [
            "core:home",
            "servicedesk:owner_list",
            "servicedesk:owner_create",
            "org:my_units",
            "quality:my_surveys",
            "comms:list",
        ]

    def test_account_without_role_gets_home_only(self, personas):
        assert menu_views(personas.stranger) == {"core:home"}

    def test_menu_is_rendered_with_the_current_page_marked(self, personas):
        html = personas.client_for(personas.technician_a).get(reverse("core:home")).content
        html = html.decode()
        assert f'href="{reverse("org:unit_list")}"' in html
        assert f'href="{reverse("core:audit")}"' not in html
        assert f'<a href="{reverse("core:home")}" aria-current="page">' in html


class TestLayout:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(reverse("core:home"))
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

    def test_layout_has_skip_link_bell_language_switch_and_sign_out(self, personas):
        html = personas.client_for(personas.manager_a).get(reverse("core:home")).content.decode()
        assert 'class="skip-link" href="#main"' in html
        assert 'id="main"' in html
        assert f'href="{reverse("comms:list")}"' in html
        assert f'action="{reverse("accounts:set_language")}"' in html
        assert f'action="{reverse("accounts:logout")}"' in html
        assert 'name="viewport"' in html

    def test_bell_shows_the_unread_count(self, personas):
        from jiayuan.comms.services import notify

        notify(recipients=[personas.manager_a], kind="test", title="一", email=False)
        notify(recipients=[personas.manager_a], kind="test", title="二", email=False)
        html = personas.client_for(personas.manager_a).get(reverse("core:home")).content.decode()
        assert 'id="unread-badge"' in html
        assert "</span>2</span>" in html

    def test_switcher_is_a_select_for_staff_with_several_estates(self, personas):
        html = personas.client_for(personas.company_admin).get("/").content.decode()
        assert 'name="estate"' in html
        assert personas.estate_a.name in html and personas.estate_b.name in html
        assert personas.estate_c.name not in html

    def test_staff_with_one_estate_see_its_name_without_a_switcher(self, personas):
        html = personas.client_for(personas.manager_a).get("/").content.decode()
        assert 'name="estate"' not in html
        assert 'class="topbar-estate-name"' in html

    def test_back_office_link_only_for_company_admins(self, personas):
        admin_link = f'href="{reverse("admin:index")}"'
        assert admin_link in personas.client_for(personas.company_admin).get("/").content.decode()
        assert admin_link not in personas.client_for(personas.manager_a).get("/").content.decode()

    def test_hostile_names_are_escaped(self, personas):
        personas.manager_a.name = "<script>alert(1)</script>"
        personas.manager_a.save()
        html = personas.client_for(personas.manager_a).get("/").content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_api_reads_no_estate_to_switch_and_the_pages_do(personas):
    """The API's calls name their estate; the middleware skips finding the chosen one."""
    from django.test import RequestFactory

    from jiayuan.core.middleware import CurrentEstateMiddleware

    seen = {}

    def view(request):
        seen[request.path] = (request.estate, request.estates)
        return HttpResponse()

    for address in ("/api/v1/requests", "/service/requests/"):
        request = RequestFactory().get(address)
        request.user, request.session = personas.company_admin, {}
        CurrentEstateMiddleware(view)(request)
    assert seen["/api/v1/requests"] == (None, [])
    estate, estates = seen["/service/requests/"]
    assert estate in estates and {personas.estate_a, personas.estate_b} <= set(estates)


class TestEstateSwitch:
    url = reverse("core:switch_estate")

    def test_switches_to_an_estate_of_the_list_and_goes_back(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.post(
            self.url, {"estate": personas.estate_a.pk, "next": reverse("comms:list")}
        )
        assert response.status_code == 302
        assert response.url == reverse("comms:list")
        assert client.session[ESTATE_SESSION_KEY] == personas.estate_a.pk
        client.post(self.url, {"estate": personas.estate_b.pk})
        assert client.session[ESTATE_SESSION_KEY] == personas.estate_b.pk

    @pytest.mark.parametrize("value", ["estate_c", "", "abc", "99999", "1 OR 1=1"])
    def test_an_estate_outside_the_list_is_not_found(self, personas, value):
        client = personas.client_for(personas.company_admin)
        estate = personas.estate_c.pk if value == "estate_c" else value
        response = client.post(self.url, {"estate": estate})
        assert response.status_code == 404
        assert ESTATE_SESSION_KEY not in client.session

    def test_a_home_in_another_estate_is_not_one_to_work_in(self, personas):
        p = personas
        # The estate A clerk owns the flat B101 too: only estate A is theirs to work in.
        Residency.objects.create(
            resident=Resident.objects.create(
                company=p.estate_b.company, user=p.clerk_a, name="陈", mobile="13911110000"
            ),
            unit=p.unit_b101,
            relation=Residency.Relation.OWNER,
        )
        client = p.client_for(p.clerk_a)
        html = client.get("/").content.decode()
        assert 'name="estate"' not in html and p.estate_b.name not in html
        assert client.post(self.url, {"estate": p.estate_b.pk}).status_code == 404
        assert client.post(self.url, {"estate": p.estate_a.pk}).status_code == 302
        # As an owner they still see their home's estate where owners see it.
        assert Estate.objects.restrict(p.clerk_a).filter(pk=p.estate_b.pk).exists()

    def test_a_role_given_or_taken_moves_the_switcher_on_the_next_page(self, personas):
        """The switcher's estates are kept per process by the grants that choose them
        (decisions §35); the grants are read on every request."""
        from jiayuan.org import services as org_services

        p = personas
        client = p.client_for(p.clerk_a)
        assert p.estate_b.name not in client.get("/").content.decode()
        role = org_services.membership_grant(
            actor=p.company_admin, user=p.clerk_a, estate=p.estate_b, role=Role.SERVICE_DESK
        )
        html = client.get("/").content.decode()
        assert 'name="estate"' in html and p.estate_b.name in html
        org_services.membership_revoke(actor=p.company_admin, membership=role)
        html = client.get("/").content.decode()
        assert 'name="estate"' not in html and p.estate_b.name not in html
        assert client.post(self.url, {"estate": p.estate_b.pk}).status_code == 404

    def test_a_renamed_or_closed_estate_shows_so_on_the_next_page(self, personas):
        from jiayuan.org import services as org_services

        p = personas
        client = p.client_for(p.company_admin)

        def switcher() -> str:
            html = client.get("/").content.decode()
            start = html.index('name="estate"')
            return html[start : html.index("</select>", start)]

        assert p.estate_b.name in switcher()
        org_services.estate_update(actor=p.company_admin, estate=p.estate_b, name="<b>新城</b>")
        assert "&lt;b&gt;新城&lt;/b&gt;" in switcher()
        closed = Estate.objects.get(pk=p.estate_b.pk)
        closed.is_active = False
        closed.save()  # not through a service: the switcher still follows
        html = client.get("/").content.decode()
        assert 'name="estate"' not in html  # one estate left: its name, no switcher
        assert f">{p.estate_a.name}</span>" in html and "新城" not in html.split("</header>")[0]

    def test_residents_have_no_estate_to_switch(self, personas):
        response = personas.client_for(personas.owner_a101).post(
            self.url, {"estate": personas.estate_a.pk}
        )
        assert response.status_code == 404

    def test_next_on_another_host_is_ignored(self, personas):
        response = personas.client_for(personas.company_admin).post(
            self.url, {"estate": personas.estate_a.pk, "next": "https://evil.example/"}
        )
        assert response.url == reverse("core:home")

    def test_get_is_refused_and_anonymous_sent_to_sign_in(self, personas, client):
        assert personas.client_for(personas.company_admin).get(self.url).status_code == 405
        response = client.post(self.url, {"estate": personas.estate_a.pk})
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

    def test_csrf_is_enforced(self, personas):
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas.company_admin)
        response = client.post(self.url, {"estate": personas.estate_a.pk})
        assert response.status_code == 403
        assert ESTATE_SESSION_KEY not in client.session


class TestLanguage:
    def test_default_is_chinese(self, personas):
        html = personas.client_for(personas.manager_a).get("/").content.decode()
        assert '<html lang="zh-hans">' in html

    def test_switch_sets_the_cookie_and_the_next_page_is_english(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(reverse("accounts:set_language"), {"language": "en", "next": "/"})
        assert response.status_code == 302
        assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        html = client.get("/").content.decode()
        assert '<html lang="en">' in html
        assert "Skip to content" in html

    def test_anonymous_can_switch_on_the_sign_in_page(self, client):
        client.post(reverse("accounts:set_language"), {"language": "en"})
        html = client.get(reverse("accounts:login")).content.decode()
        assert '<html lang="en">' in html
        assert "Username or mobile" in html


def _refuse(request):
    raise PermissionDenied


urlpatterns = [path("refuse/", _refuse), path("", include("jiayuan.urls"))]
handler403 = "jiayuan.core.views.forbidden"
handler404 = "jiayuan.core.views.not_found"


class TestErrorPages:
    def test_unknown_page_uses_the_product_404_page(self, personas):
        assert not settings.DEBUG
        response = personas.client_for(personas.manager_a).get("/no-such-page/")
        assert response.status_code == 404
        html = response.content.decode()
        assert 'class="error-code"' in html
        assert f'href="{reverse("core:home")}"' in html

    def test_anonymous_404_offers_sign_in(self, client):
        with translation.override("en"):
            response = client.get("/no-such-page/", headers={"accept-language": "en"})
        assert response.status_code == 404
        assert reverse("accounts:login") in response.content.decode()

    @override_settings(ROOT_URLCONF=__name__)
    def test_forbidden_uses_the_product_403_page(self, personas):
        response = personas.client_for(personas.manager_a).get("/refuse/")
        assert response.status_code == 403
        assert 'class="error-code"' in response.content.decode()

    def test_a_stale_form_gets_the_friendly_expired_page(self, personas):
        client = Client(enforce_csrf_checks=True)
        client.force_login(personas.manager_a)
        with translation.override("en"):
            response = client.post(
                reverse("accounts:logout"),
                headers={"accept-language": "en", "referer": "http://testserver/notifications/"},
            )
        assert response.status_code == 403
        html = response.content.decode()
        assert "Your form expired; reload the page and try again." in html
        assert 'href="http://testserver/notifications/"' in html
        assert "CSRF verification failed" not in html
        assert "_auth_user_id" in client.session

    def test_the_expired_page_never_links_to_another_site(self, client):
        response = Client(enforce_csrf_checks=True).post(
            reverse("accounts:login"),
            {"username": "x", "password": "y"},
            headers={"referer": "https://evil.example/login/"},
        )
        assert response.status_code == 403
        html = response.content.decode()
        assert 'class="error-code"' in html
        assert "evil.example" not in html
