"""The estate pages: who reaches every route, and the estate, building, unit and common-area
pages' behaviour (forms, bad input, 403 for a role that only sees)."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import make_unit
from jiayuan.org.models import Building, CommonArea, Estate, Residency, Resident, Unit
from jiayuan.org.urls_pages import urlpatterns

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"

# The object each route with a pk is tried on: all of them belong to estate A.
OBJECT_OF_ROUTE = {
    "estate_detail": lambda p: p.estate_a,
    "estate_edit": lambda p: p.estate_a,
    "building_detail": lambda p: p.building_a1,
    "building_edit": lambda p: p.building_a1,
    "building_delete": lambda p: p.building_a1,
    "unit_detail": lambda p: p.unit_a101,
    "unit_edit": lambda p: p.unit_a101,
    "unit_delete": lambda p: p.unit_a101,
    "common_area_edit": lambda p: p.lobby_a,
    "common_area_delete": lambda p: p.lobby_a,
    "resident_detail": lambda p: p.resident_a101,
    "resident_edit": lambda p: p.resident_a101,
    "residency_start": lambda p: p.resident_a101,
    "residency_end": lambda p: p.resident_a101.residencies.get(),
    "resident_portal": lambda p: p.resident_a101,
    "membership_revoke": lambda p: p.clerk_a.memberships.get(),
    "team_detail": lambda p: p.team_a,
    "team_edit": lambda p: p.team_a,
    "team_member_add": lambda p: p.team_a,
    "team_member_remove": lambda p: p.team_a.memberships.get(),
}
POST_ONLY = {"membership_revoke", "team_member_remove"}
ROUTES = [pattern.name for pattern in urlpatterns]
OBJECT_ROUTES = [
    name for name in ROUTES if "<int:pk>" in str(urlpatterns[ROUTES.index(name)].pattern)
]
LIST_ROUTES = [
    "estate_list",
    "building_list",
    "unit_list",
    "common_area_list",
    "resident_list",
    "staff_list",
    "team_list",
]


def url_of(name, personas):
    if name in OBJECT_OF_ROUTE:
        return reverse(f"org:{name}", args=[OBJECT_OF_ROUTE[name](personas).pk])
    return reverse(f"org:{name}")


def visit(client, name, personas):
    url = url_of(name, personas)
    return client.post(url) if name in POST_ONLY else client.get(url)


def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_every_route_with_a_pk_has_an_object_to_try():
    assert set(OBJECT_ROUTES) == set(OBJECT_OF_ROUTE)


class TestWhoReachesWhat:
    @pytest.mark.parametrize("name", ROUTES)
    def test_anonymous_is_sent_to_sign_in(self, client, personas, name):
        response = visit(client, name, personas)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("accounts:login"))

    @pytest.mark.parametrize("name", ROUTES)
    def test_an_account_without_a_role_finds_nothing(self, personas, name):
        assert visit(personas.client_for(personas.stranger), name, personas).status_code == 404

    @pytest.mark.parametrize("name", OBJECT_ROUTES)
    @pytest.mark.parametrize("who", ["outsider", "clerk_b"])
    def test_objects_of_estate_a_are_missing_for_other_estates(self, personas, name, who):
        client = personas.client_for(getattr(personas, who))
        url = url_of(name, personas)
        events = AuditEvent.objects.count()
        assert client.get(url).status_code in (404, 405)
        assert client.post(url, {"name": "x", "note": "x"}).status_code == 404
        assert AuditEvent.objects.count() == events

    @pytest.mark.parametrize("name", LIST_ROUTES)
    def test_lists_of_the_other_company_show_nothing_of_estate_a(self, personas, name):
        response = personas.client_for(personas.outsider).get(reverse(f"org:{name}"))
        assert response.status_code == 200
        page = response.content.decode()
        for text in ("阳光花园", "1号楼", "张伟", "陈客服", "工程部", "1号楼大堂"):
            assert text not in page

    @pytest.mark.parametrize("name", [n for n in ROUTES if n not in ("unit_detail", "my_units")])
    def test_a_resident_reaches_no_staff_page(self, personas, name):
        assert visit(personas.client_for(personas.owner_a101), name, personas).status_code == 404


class TestEstates:
    def test_company_admin_lists_every_estate_of_the_company_with_counts(self, personas):
        make_unit(personas.building_a1, "103")
        response = personas.client_for(personas.company_admin).get(reverse("org:estate_list"))
        estates = list(response.context["estates"])
        assert {e.name for e in estates} == {"金融中心", "阳光花园"}
        estate_a = next(e for e in estates if e.pk == personas.estate_a.pk)
        assert (estate_a.building_count, estate_a.unit_count) == (1, 3)

    def test_staff_list_their_own_estate_only(self, personas):
        response = personas.client_for(personas.technician_a).get(reverse("org:estate_list"))
        assert [e.name for e in response.context["estates"]] == ["阳光花园"]

    def test_detail_shows_buildings_areas_teams_and_staff(self, personas):
        client = english(personas.client_for(personas.manager_a))
        response = client.get(reverse("org:estate_detail", args=[personas.estate_a.pk]))
        page = response.content.decode()
        for text in ("1号楼", "1号楼大堂", "工程部", "Technician", "Service desk"):
            assert text in page
        assert reverse("org:estate_edit", args=[personas.estate_a.pk]) in page

    def test_manager_edits_the_estate(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:estate_edit", args=[personas.estate_a.pk]),
            {
                "name": "阳光花园",
                "code": "A",
                "kind": "residential",
                "total_area": "52000.5",
                "service_phone": "0571-88886666",
                "is_active": "on",
            },
        )
        assert response.status_code == 302
        estate = Estate.objects.get(pk=personas.estate_a.pk)
        assert (estate.total_area, estate.service_phone) == (Decimal("52000.50"), "0571-88886666")

    def test_clerk_may_look_but_not_edit(self, personas):
        client = personas.client_for(personas.clerk_a)
        url = reverse("org:estate_edit", args=[personas.estate_a.pk])
        assert client.get(url).status_code == 403
        response = client.post(url, {"name": "改名", "code": "A", "kind": "residential"})
        assert response.status_code == 403
        assert Estate.objects.get(pk=personas.estate_a.pk).name == "阳光花园"
        detail = client.get(reverse("org:estate_detail", args=[personas.estate_a.pk]))
        assert url not in detail.content.decode()

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"total_area": "-10"}, "total_area"),
            ({"total_area": "lots"}, "total_area"),
            ({"name": ""}, "name"),
            ({"name": "x" * 10_000}, "name"),
            ({"code": "with space"}, "code"),
            ({"kind": "castle"}, "kind"),
            ({"name": "金融中心"}, None),
        ],
    )
    def test_bad_input_is_shown_on_the_form_and_saves_nothing(self, personas, data, field):
        client = personas.client_for(personas.manager_a)
        values = {"name": "阳光花园", "code": "A", "kind": "residential"} | data
        response = client.post(reverse("org:estate_edit", args=[personas.estate_a.pk]), values)
        assert response.status_code == 200
        form = response.context["form"]
        assert form.errors[field or "__all__"]
        estate = Estate.objects.get(pk=personas.estate_a.pk)
        assert (estate.name, estate.code, estate.total_area) == ("阳光花园", "A", None)


class TestBuildings:
    def test_list_counts_units_of_the_current_estate(self, personas):
        response = personas.client_for(personas.clerk_a).get(reverse("org:building_list"))
        buildings = list(response.context["buildings"])
        assert [(b.name, b.unit_count) for b in buildings] == [("1号楼", 2)]
        assert reverse("org:building_create") not in response.content.decode()

    def test_clerk_b_sees_the_buildings_of_estate_b(self, personas):
        response = personas.client_for(personas.clerk_b).get(reverse("org:building_list"))
        assert [b.name for b in response.context["buildings"]] == ["A座"]

    def test_manager_creates_a_building(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:building_create"),
            {"name": "2号楼", "floors_above": "33", "floors_below": "2", "note": ""},
        )
        building = Building.objects.get(estate=personas.estate_a, name="2号楼")
        assert response["Location"] == reverse("org:building_detail", args=[building.pk])
        assert (building.floors_above, building.floors_below) == (33, 2)

    def test_clerk_cannot_create(self, personas):
        client = personas.client_for(personas.clerk_a)
        assert client.get(reverse("org:building_create")).status_code == 403
        response = client.post(reverse("org:building_create"), {"name": "2号楼", "floors_above": 3})
        assert response.status_code == 403
        assert Building.objects.filter(estate=personas.estate_a).count() == 1

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"name": ""}, "name"),
            ({"floors_above": "-3"}, "floors_above"),
            ({"floors_above": "many"}, "floors_above"),
            ({"note": "x" * 10_000}, "note"),
            ({"name": "1号楼"}, None),
        ],
    )
    def test_bad_input_creates_nothing(self, personas, data, field):
        client = personas.client_for(personas.manager_a)
        values = {"name": "2号楼", "floors_above": "10", "floors_below": "0"} | data
        response = client.post(reverse("org:building_create"), values)
        assert response.status_code == 200
        assert response.context["form"].errors[field or "__all__"]
        assert Building.objects.filter(estate=personas.estate_a).count() == 1

    def test_hostile_names_are_stored_as_text_and_shown_escaped(self, personas):
        client = personas.client_for(personas.manager_a)
        client.post(
            reverse("org:building_create"),
            {"name": HOSTILE, "floors_above": "3", "floors_below": "0"},
        )
        page = client.get(reverse("org:building_list")).content.decode()
        assert ESCAPED in page
        assert HOSTILE not in page

    def test_technician_sees_but_cannot_edit(self, personas):
        client = personas.client_for(personas.technician_a)
        url = reverse("org:building_edit", args=[personas.building_a1.pk])
        assert (
            client.get(reverse("org:building_detail", args=[personas.building_a1.pk])).status_code
            == 200
        )
        response = client.post(url, {"name": "改名", "floors_above": "18", "floors_below": "0"})
        assert response.status_code == 403
        assert Building.objects.get(pk=personas.building_a1.pk).name == "1号楼"

    def test_manager_edits_a_building(self, personas):
        client = personas.client_for(personas.manager_a)
        url = reverse("org:building_edit", args=[personas.building_a1.pk])
        assert client.get(url).context["form"].initial["name"] == "1号楼"
        client.post(url, {"name": "1号楼", "floors_above": "20", "floors_below": "1", "note": "东"})
        assert Building.objects.get(pk=personas.building_a1.pk).floors_above == 20

    def test_delete_with_units_is_refused_with_the_reason(self, personas):
        client = english(personas.client_for(personas.manager_a))
        response = client.post(reverse("org:building_delete", args=[personas.building_a1.pk]))
        assert response.status_code == 200
        assert "still has units" in response.content.decode()
        assert Building.objects.filter(pk=personas.building_a1.pk).exists()

    def test_delete_an_empty_building(self, personas):
        building = Building.objects.create(estate=personas.estate_a, name="空楼")
        client = personas.client_for(personas.manager_a)
        response = client.post(reverse("org:building_delete", args=[building.pk]))
        assert response["Location"] == reverse("org:building_list")
        assert not Building.objects.filter(pk=building.pk).exists()

    def test_clerk_cannot_delete(self, personas):
        building = Building.objects.create(estate=personas.estate_a, name="空楼")
        client = personas.client_for(personas.clerk_a)
        assert client.post(reverse("org:building_delete", args=[building.pk])).status_code == 403
        assert Building.objects.filter(pk=building.pk).exists()

    def test_detail_pages_units_by_fifty_top_floor_first(self, personas):
        building = Building.objects.create(estate=personas.estate_a, name="高楼", floors_above=30)
        Unit.objects.bulk_create(
            Unit(
                estate=personas.estate_a,
                building=building,
                number=f"{floor}0{n}",
                floor=floor,
                gross_area=Decimal("80"),
            )
            for floor in range(1, 27)
            for n in (1, 2)
        )
        client = personas.client_for(personas.clerk_a)
        url = reverse("org:building_detail", args=[building.pk])
        first = client.get(url).context["page"]
        assert (len(first.object_list), first.paginator.num_pages) == (50, 2)
        assert first.object_list[0].floor == 26
        last = client.get(url, {"page": "2"}).context["page"]
        assert [u.number for u in last.object_list] == ["101", "102"]
        assert client.get(url, {"page": "nonsense"}).status_code == 200


class TestUnits:
    def test_filters_by_building_status_and_number(self, personas):
        building = Building.objects.create(estate=personas.estate_a, name="2号楼", floors_above=9)
        make_unit(building, "101")
        Unit.objects.filter(pk=personas.unit_a102.pk).update(status=Unit.Status.RENTED)
        client = personas.client_for(personas.clerk_a)
        url = reverse("org:unit_list")

        def labels(**params):
            return [u.label for u in client.get(url, params).context["page"].object_list]

        assert labels() == ["1号楼 101", "1号楼 102", "2号楼 101"]
        assert labels(building=building.pk) == ["2号楼 101"]
        assert labels(status="rented") == ["1号楼 102"]
        assert labels(q="102") == ["1号楼 102"]

    def test_bad_filters_are_reported_and_ignored(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.get(
            reverse("org:unit_list"),
            {"building": personas.building_b1.pk, "status": "sold", "q": "x" * 500},
        )
        assert response.status_code == 200
        assert set(response.context["filters"].errors) == {"building", "status", "q"}
        assert response.context["page"].paginator.count == 2

    def test_htmx_gets_only_the_results(self, personas):
        client = personas.client_for(personas.clerk_a)
        response = client.get(
            reverse("org:unit_list"), {"q": "101"}, headers={"HX-Request": "true"}
        )
        page = response.content.decode()
        assert page.lstrip().startswith('<div id="unit-results">')
        assert "<html" not in page

    def test_fifty_a_page(self, personas):
        Unit.objects.bulk_create(
            Unit(
                estate=personas.estate_a,
                building=personas.building_a1,
                number=f"X{n:03}",
                floor=5,
                gross_area=Decimal("70"),
            )
            for n in range(60)
        )
        response = personas.client_for(personas.clerk_a).get(reverse("org:unit_list"))
        page = response.context["page"]
        assert (len(page.object_list), page.paginator.count) == (50, 62)

    def test_the_list_costs_the_same_queries_for_many_units(
        self, personas, django_assert_max_num_queries
    ):
        client = personas.client_for(personas.clerk_a)
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("org:unit_list"))
        Unit.objects.bulk_create(
            Unit(
                estate=personas.estate_a,
                building=Building.objects.create(estate=personas.estate_a, name=f"{n}号楼"),
                number="101",
                floor=1,
                gross_area=Decimal("70"),
            )
            for n in range(2, 40)
        )
        with django_assert_max_num_queries(len(few)):
            response = client.get(reverse("org:unit_list"))
        assert len(response.context["page"].object_list) == 40

    def test_owner_sees_own_unit_and_only_their_own_residency(self, personas):
        lodger = Resident.objects.create(
            company=personas.company, name="赵租客", mobile="13500135000"
        )
        Residency.objects.create(resident=lodger, unit=personas.unit_a101, relation="tenant")
        client = personas.client_for(personas.owner_a101)
        response = client.get(reverse("org:unit_detail", args=[personas.unit_a101.pk]))
        assert response.status_code == 200
        page = response.content.decode()
        assert "张伟" in page
        assert "13800138001" in page
        assert "赵租客" not in page
        assert reverse("org:unit_edit", args=[personas.unit_a101.pk]) not in page
        other = client.get(reverse("org:unit_detail", args=[personas.unit_a102.pk]))
        assert other.status_code == 404

    def test_mobile_is_masked_for_a_technician_and_whole_for_the_desk(self, personas):
        url = reverse("org:unit_detail", args=[personas.unit_a101.pk])
        technician_page = personas.client_for(personas.technician_a).get(url).content.decode()
        assert "138****8001" in technician_page
        assert "13800138001" not in technician_page
        clerk_page = personas.client_for(personas.clerk_a).get(url).content.decode()
        assert "13800138001" in clerk_page

    def test_past_residents_are_listed_apart(self, personas):
        residency = personas.resident_a102.residencies.get()
        residency.moved_in_on = dt.date(2020, 1, 1)
        residency.moved_out_on = dt.date(2024, 1, 1)
        residency.save()
        response = personas.client_for(personas.clerk_a).get(
            reverse("org:unit_detail", args=[personas.unit_a102.pk])
        )
        assert response.context["current"] == []
        assert [r.resident.name for r in response.context["past"]] == ["李娜"]

    def test_manager_creates_a_unit(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:unit_create"),
            {
                "building": personas.building_a1.pk,
                "entrance": "2单元",
                "number": "1501",
                "floor": "15",
                "gross_area": "120.5",
                "inner_area": "98",
                "status": "vacant",
            },
        )
        unit = Unit.objects.get(number="1501")
        assert response["Location"] == reverse("org:unit_detail", args=[unit.pk])
        assert (unit.estate, unit.entrance) == (personas.estate_a, "2单元")

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"gross_area": "-5"}, "gross_area"),
            ({"gross_area": "abc"}, "gross_area"),
            ({"inner_area": "200"}, "inner_area"),
            ({"floor": "99"}, "floor"),
            ({"number": ""}, "number"),
            ({"number": "x" * 10_000}, "number"),
            ({"building": ""}, "building"),
            ({"status": "sold"}, "status"),
        ],
    )
    def test_bad_units_are_not_created(self, personas, data, field):
        client = personas.client_for(personas.manager_a)
        values = {
            "building": personas.building_a1.pk,
            "number": "1501",
            "floor": "15",
            "gross_area": "120.5",
            "status": "vacant",
        } | data
        response = client.post(reverse("org:unit_create"), values)
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert Unit.objects.count() == 4

    def test_a_building_of_another_estate_cannot_be_chosen(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:unit_create"),
            {
                "building": personas.building_c1.pk,
                "number": "1501",
                "floor": "1",
                "gross_area": "50",
                "status": "vacant",
            },
        )
        assert response.context["form"].errors["building"]
        assert not Unit.objects.filter(number="1501").exists()

    def test_dispatcher_cannot_change_a_unit(self, personas):
        client = personas.client_for(personas.dispatcher_a)
        url = reverse("org:unit_edit", args=[personas.unit_a101.pk])
        response = client.post(
            url, {"number": "101", "floor": "1", "gross_area": "1", "status": "vacant"}
        )
        assert response.status_code == 403
        assert Unit.objects.get(pk=personas.unit_a101.pk).gross_area == Decimal("89.50")

    def test_manager_changes_a_unit(self, personas):
        client = personas.client_for(personas.manager_a)
        url = reverse("org:unit_edit", args=[personas.unit_a101.pk])
        form = client.get(url).context["form"]
        data = {k: v for k, v in form.initial.items() if v is not None} | {"status": "renovating"}
        assert client.post(url, data).status_code == 302
        assert Unit.objects.get(pk=personas.unit_a101.pk).status == Unit.Status.RENOVATING

    def test_delete_a_unit_with_residents_is_refused_with_the_reason(self, personas):
        client = english(personas.client_for(personas.manager_a))
        response = client.post(reverse("org:unit_delete", args=[personas.unit_a101.pk]))
        assert response.status_code == 200
        assert "Residents are on record" in response.content.decode()
        assert Unit.objects.filter(pk=personas.unit_a101.pk).exists()

    def test_delete_an_empty_unit_returns_to_its_building(self, personas):
        unit = make_unit(personas.building_a1, "1801", floor=18)
        client = personas.client_for(personas.manager_a)
        assert client.get(reverse("org:unit_delete", args=[unit.pk])).status_code == 200
        response = client.post(reverse("org:unit_delete", args=[unit.pk]))
        assert response["Location"] == reverse("org:building_detail", args=[unit.building_id])
        assert not Unit.objects.filter(pk=unit.pk).exists()
        assert AuditEvent.objects.filter(code="org.unit_deleted").count() == 1

    def test_clerk_cannot_delete_a_unit(self, personas):
        unit = make_unit(personas.building_a1, "1801", floor=18)
        client = personas.client_for(personas.clerk_a)
        assert client.post(reverse("org:unit_delete", args=[unit.pk])).status_code == 403
        assert Unit.objects.filter(pk=unit.pk).exists()


class TestCommonAreas:
    def test_list_and_create(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.post(
            reverse("org:common_area_create"),
            {"name": "地下车库B1", "kind": "garage", "building": "", "note": ""},
        )
        assert response["Location"] == reverse("org:common_area_list")
        area = CommonArea.objects.get(name="地下车库B1")
        assert area.estate == personas.estate_a and area.building is None
        page = client.get(reverse("org:common_area_list")).content.decode()
        assert "地下车库B1" in page and "1号楼大堂" in page

    @pytest.mark.parametrize(
        ("data", "field"),
        [
            ({"name": ""}, "name"),
            ({"kind": "dungeon"}, "kind"),
            ({"note": "x" * 10_000}, "note"),
            ({"name": "1号楼大堂"}, None),
        ],
    )
    def test_bad_areas_are_not_created(self, personas, data, field):
        client = personas.client_for(personas.manager_a)
        values = {"name": "花园", "kind": "garden"} | data
        response = client.post(reverse("org:common_area_create"), values)
        assert response.context["form"].errors[field or "__all__"]
        assert CommonArea.objects.count() == 1

    def test_edit_and_delete(self, personas):
        client = personas.client_for(personas.manager_a)
        client.post(
            reverse("org:common_area_edit", args=[personas.lobby_a.pk]),
            {
                "name": "1号楼大堂",
                "kind": "lobby",
                "building": personas.building_a1.pk,
                "note": "有门禁",
            },
        )
        assert CommonArea.objects.get(pk=personas.lobby_a.pk).note == "有门禁"
        client.post(reverse("org:common_area_delete", args=[personas.lobby_a.pk]))
        assert not CommonArea.objects.exists()

    def test_security_sees_but_cannot_change(self, personas):
        client = personas.client_for(personas.security_a)
        assert "1号楼大堂" in client.get(reverse("org:common_area_list")).content.decode()
        edit = reverse("org:common_area_edit", args=[personas.lobby_a.pk])
        assert client.post(edit, {"name": "x", "kind": "lobby"}).status_code == 403
        delete = reverse("org:common_area_delete", args=[personas.lobby_a.pk])
        assert client.post(delete).status_code == 403
        assert CommonArea.objects.get(pk=personas.lobby_a.pk).name == "1号楼大堂"
