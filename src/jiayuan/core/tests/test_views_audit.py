"""The audit browser: who may read it, what each role sees, filters and bad filters."""

import datetime as dt

import pytest
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse
from django.utils import translation

from jiayuan.core.models import AuditEvent
from jiayuan.core.selectors import audit_events
from jiayuan.org import services as org_services
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import Building

pytestmark = pytest.mark.django_db
URL = reverse("core:audit")


def audit_get(personas, user, params=None):
    with translation.override("en"):
        return personas.client_for(user).get(URL, params or {}, HTTP_ACCEPT_LANGUAGE="en")


@pytest.fixture
def changes(personas):
    """One change in each estate of the company and one in the other company."""
    org_services.building_update(
        actor=personas.manager_a, building=personas.building_a1, note="A改"
    )
    org_services.building_update(
        actor=personas.company_admin, building=personas.building_b1, note="B改"
    )
    org_services.building_update(actor=personas.outsider, building=personas.building_c1, note="C改")


class TestWhoMayRead:
    def test_anonymous_is_sent_to_sign_in(self, client):
        response = client.get(URL)
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

    @pytest.mark.parametrize(
        "persona", ["clerk_a", "dispatcher_a", "technician_a", "owner_a101", "stranger"]
    )
    def test_roles_without_audit_access_get_404(self, personas, persona):
        assert audit_get(personas, getattr(personas, persona)).status_code == 404

    def test_manager_sees_own_estate_only(self, personas, changes):
        html = audit_get(personas, personas.manager_a).content.decode()
        assert "A改" in html
        assert "B改" not in html and "C改" not in html

    def test_company_admin_sees_the_company_not_the_other_one(self, personas, changes):
        html = audit_get(personas, personas.company_admin).content.decode()
        assert "A改" in html and "B改" in html
        assert "C改" not in html

    def test_outsider_sees_only_their_company(self, personas, changes):
        html = audit_get(personas, personas.outsider).content.decode()
        assert "C改" in html
        assert "A改" not in html


class TestDisplay:
    def test_before_and_after_are_shown_as_a_diff(self, personas, changes):
        html = audit_get(personas, personas.manager_a).content.decode()
        assert "<dt>note:</dt>" in html
        assert "<ins>A改</ins>" in html
        assert "Building updated" in html

    def test_hostile_values_are_escaped(self, personas):
        org_services.building_update(
            actor=personas.manager_a,
            building=personas.building_a1,
            note="<script>alert(1)</script>",
        )
        html = audit_get(personas, personas.manager_a).content.decode()
        assert "<script>alert(1)</script>" not in html
        assert "&lt;script&gt;" in html

    def test_pages_of_fifty(self, personas):
        for number in range(55):
            org_services.building_update(
                actor=personas.manager_a, building=personas.building_a1, note=f"n{number}"
            )
        first = audit_get(personas, personas.manager_a)
        assert len(first.context["page"].object_list) == 50
        second = audit_get(personas, personas.manager_a, {"page": 2})
        assert len(second.context["page"].object_list) == 5
        assert audit_get(personas, personas.manager_a, {"page": "x"}).status_code == 200

    def test_query_count_does_not_grow_with_rows(self, personas, django_assert_max_num_queries):
        def add_events(count):
            for number in range(count):
                org_services.building_update(
                    actor=personas.company_admin,
                    building=(personas.building_a1, personas.building_b1)[number % 2],
                    note=f"q{count}-{number}",
                )

        add_events(2)
        client = personas.client_for(personas.company_admin)
        with django_assert_max_num_queries(20) as baseline:
            client.get(URL)
        add_events(40)
        with django_assert_max_num_queries(len(baseline.captured_queries)):
            client.get(URL)


class TestFilters:
    def test_filter_by_estate_code_actor_and_type(self, personas, changes):
        org_services.unit_update(actor=personas.manager_a, unit=personas.unit_a101, floor=2)
        admin = personas.company_admin
        by_estate = audit_get(personas, admin, {"estate": personas.estate_b.pk}).context["page"]
        assert {e.estate_id for e in by_estate.object_list} == {personas.estate_b.pk}
        by_code = audit_get(personas, admin, {"code": OrgEvent.UNIT_UPDATED.value}).context["page"]
        assert [e.code for e in by_code.object_list] == [OrgEvent.UNIT_UPDATED.value]
        by_actor = audit_get(personas, admin, {"actor": "刘"}).context["page"]
        assert {e.actor_id for e in by_actor.object_list} == {personas.manager_a.pk}
        by_type = audit_get(personas, admin, {"target_type": "org.building"}).context["page"]
        building_type = ContentType.objects.get_for_model(Building)
        assert {e.target_type_id for e in by_type.object_list} == {building_type.pk}
        assert len(by_type.object_list) == 2

    def test_dates_are_whole_local_days(self, personas, time_machine):
        # 23:30 in Shanghai on 1 March is 15:30 UTC.
        time_machine.move_to(dt.datetime(2026, 3, 1, 15, 30, tzinfo=dt.UTC))
        org_services.building_update(
            actor=personas.manager_a, building=personas.building_a1, note="一"
        )
        time_machine.move_to(dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC))
        org_services.building_update(
            actor=personas.manager_a, building=personas.building_a1, note="二"
        )
        march_1 = audit_events(
            personas.manager_a, date_from=dt.date(2026, 3, 1), date_to=dt.date(2026, 3, 1)
        )
        assert [e.after["note"] for e in march_1] == ["一"]
        from_march_2 = audit_events(personas.manager_a, date_from=dt.date(2026, 3, 2))
        assert [e.after["note"] for e in from_march_2] == ["二"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"date_from": "not-a-date"}, "date_from"),
            ({"date_to": "2026-02-30"}, "date_to"),
            ({"date_from": "2026-03-02", "date_to": "2026-03-01"}, "date_to"),
            ({"code": "<script>alert(1)</script>"}, "code"),
            ({"estate": "abc"}, "estate"),
            ({"target_type": "auth.permission"}, "target_type"),
            ({"actor": "x" * 151}, "actor"),
        ],
    )
    def test_bad_filters_are_form_errors_not_500(self, personas, changes, params, field):
        response = audit_get(personas, personas.company_admin, params)
        assert response.status_code == 200
        assert field in response.context["form"].errors
        assert response.context["page"] is None
        assert "<script>alert(1)</script>" not in response.content.decode()

    def test_an_estate_outside_the_switcher_is_refused(self, personas, changes):
        response = audit_get(personas, personas.manager_a, {"estate": personas.estate_b.pk})
        assert "estate" in response.context["form"].errors
        assert response.context["page"] is None

    def test_no_events_is_an_empty_state(self, personas):
        AuditEvent.objects.all().delete()
        html = audit_get(personas, personas.manager_a).content.decode()
        assert "No events match" in html
