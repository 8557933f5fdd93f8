"""The home page per role, and the selector behind it."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from jiayuan.comms.services import notify
from jiayuan.core.selectors import HomeKind, estates_with_counts, home_page
from jiayuan.core.testing import make_building, make_unit
from jiayuan.org import services as org_services

pytestmark = pytest.mark.django_db


def home_html(personas, user) -> str:
    with translation.override("en"):
        response = personas.client_for(user).get(reverse("core:home"), HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200
    return response.content.decode()


class TestKinds:
    @pytest.mark.parametrize(
        ("persona", "kind"),
        [
            ("company_admin", HomeKind.COMPANY_ADMIN),
            ("manager_a", HomeKind.MANAGER),
            ("clerk_a", HomeKind.DESK),
            ("dispatcher_a", HomeKind.DESK),
            ("technician_a", HomeKind.FIELD),
            ("security_a", HomeKind.FIELD),
            ("owner_a101", HomeKind.RESIDENT),
            ("stranger", HomeKind.NO_ACCESS),
            ("outsider", HomeKind.MANAGER),
        ],
    )
    def test_each_role_gets_its_home(self, personas, persona, kind):
        from jiayuan.org.selectors import current_estate_for, estates_for_switcher

        user = getattr(personas, persona)
        estate = current_estate_for(estates_for_switcher(user), None)
        assert home_page(user, estate).kind is kind


class TestCompanyAdmin:
    def test_sees_the_company_estates_with_counts_and_recent_events(self, personas):
        org_services.building_update(
            actor=personas.manager_a, building=personas.building_a1, note="东门"
        )
        html = home_html(personas, personas.company_admin)
        assert personas.estate_a.name in html and personas.estate_b.name in html
        assert personas.estate_c.name not in html
        assert "Building updated" in html

    def test_counts_are_per_estate(self, personas):
        rows = {e.pk: e for e in estates_with_counts(personas.company_admin)}
        estate_a = rows[personas.estate_a.pk]
        assert (estate_a.building_count, estate_a.unit_count) == (1, 2)
        assert estate_a.resident_count == 2
        # manager, clerk, dispatcher, technician, security
        assert estate_a.staff_count == 5
        assert set(rows) == {personas.estate_a.pk, personas.estate_b.pk}

    def test_query_count_does_not_grow_with_estates(self, personas, django_assert_max_num_queries):
        client = personas.client_for(personas.company_admin)
        client.get("/")
        with django_assert_max_num_queries(14) as baseline:
            client.get("/")
        baseline_count = len(baseline.captured_queries)  # the next request clears the log
        for number in range(5):
            estate = org_services.estate_create(
                actor=personas.company_admin,
                company=personas.company,
                name=f"新小区{number}",
                code=f"N{number}",
                kind="residential",
            )
            make_unit(make_building(estate, "1号楼"), "101")
        client.get("/")  # new estates: the switcher reads them once, then keeps them (§35)
        with django_assert_max_num_queries(baseline_count):
            client.get("/")


class TestManager:
    def test_sees_estate_stats_teams_and_events_of_own_estate_only(self, personas):
        org_services.building_update(
            actor=personas.company_admin, building=personas.building_b1, note="B only"
        )
        org_services.unit_update(actor=personas.manager_a, unit=personas.unit_a101, status="rented")
        page = home_page(personas.manager_a, personas.estate_a)
        assert page.unit_count == 2
        with translation.override("en"):
            by_status = {str(label): count for label, count in page.units_by_status}
        assert (by_status["Rented"], by_status["Vacant"], by_status["Occupied"]) == (1, 1, 0)
        assert page.resident_count == 2
        assert personas.team_a in page.teams
        assert all(event.estate_id == personas.estate_a.pk for event in page.recent_events)
        html = home_html(personas, personas.manager_a)
        assert personas.team_a.name in html
        assert "B only" not in html

    def test_moved_out_residents_are_not_counted(self, personas):
        residency = personas.resident_a102.residencies.get()
        yesterday = timezone.localdate() - dt.timedelta(days=1)
        org_services.residency_end(
            actor=personas.manager_a, residency=residency, moved_out_on=yesterday
        )
        page = home_page(personas.manager_a, personas.estate_a)
        assert page.resident_count == 1


class TestDesk:
    def test_has_search_boxes_for_residents_and_units(self, personas):
        html = home_html(personas, personas.clerk_a)
        assert f'action="{reverse("org:resident_list")}"' in html
        assert f'action="{reverse("org:unit_list")}"' in html
        assert 'name="q"' in html

    def test_shows_only_today_s_notifications(self, personas, time_machine):
        time_machine.move_to(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
        notify(recipients=[personas.clerk_a], kind="t", title="昨天的通知", email=False)
        time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
        notify(recipients=[personas.clerk_a], kind="t", title="今天的通知", email=False)
        html = home_html(personas, personas.clerk_a)
        assert "今天的通知" in html
        assert "昨天的通知" not in html


class TestField:
    def test_technician_sees_team_estate_and_work_order_note(self, personas):
        html = home_html(personas, personas.technician_a)
        assert personas.team_a.name in html
        assert personas.estate_a.name in html
        assert "service-desk module" in html

    def test_security_without_team_is_told_so(self, personas):
        assert "not in a team yet" in home_html(personas, personas.security_a)


class TestResident:
    def test_sees_own_unit_service_phone_and_notifications(self, personas):
        personas.estate_a.service_phone = "021-5555-0101"
        personas.estate_a.save()
        notify(recipients=[personas.owner_a101], kind="t", title="停水通知", email=False)
        notify(recipients=[personas.owner_a102], kind="t", title="别人的通知", email=False)
        html = home_html(personas, personas.owner_a101)
        assert personas.unit_a101.label in html
        assert personas.unit_a102.label not in html
        assert 'href="tel:021-5555-0101"' in html
        assert "停水通知" in html
        assert "别人的通知" not in html

    def test_company_phone_is_used_when_the_estate_has_none(self, personas):
        personas.company.service_phone = "400-800-1234"
        personas.company.save()
        assert "400-800-1234" in home_html(personas, personas.owner_a101)

    def test_notification_links_with_a_script_scheme_are_not_links(self, personas):
        notify(
            recipients=[personas.owner_a101],
            kind="t",
            title="点我",
            link="javascript:alert(1)",
            email=False,
        )
        html = home_html(personas, personas.owner_a101)
        assert "javascript:" not in html
        assert "点我" in html


class TestNobody:
    def test_account_without_role_gets_a_polite_page(self, personas):
        html = home_html(personas, personas.stranger)
        assert "no access to any estate yet" in html
        assert personas.estate_a.name not in html

    def test_outsider_sees_only_their_own_company(self, personas):
        html = home_html(personas, personas.outsider)
        assert personas.estate_c.name in html
        for name in (personas.estate_a.name, personas.estate_b.name, personas.team_a.name):
            assert name not in html
