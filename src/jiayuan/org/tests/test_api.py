"""The org endpoints: who reads what, writes through the services with the pages' rules,
masked mobiles, bad input, and lists whose query count does not grow with rows."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import make_building, make_owner, make_staff, make_unit
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import (
    Building,
    CommonArea,
    Estate,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
)

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
LONG = "长" * 10_000


def ids(response) -> set[int]:
    assert response.status_code == 200, response.content
    return {item["id"] for item in response.json()["items"]}


def events(code) -> int:
    return AuditEvent.objects.filter(code=code.value).count()


class TestEstates:
    def test_company_admin_sees_the_company_estates_with_counts(self, personas):
        body = ApiClient(personas.company_admin).get("/org/estates").json()
        assert body["count"] == 2
        by_code = {item["code"]: item for item in body["items"]}
        assert set(by_code) == {"A", "B"}
        assert by_code["A"]["building_count"] == 1
        assert by_code["A"]["unit_count"] == 2
        assert by_code["A"]["kind_label"] == "Residential"

    def test_estate_staff_and_owners_see_their_estate_only(self, personas):
        for user in (personas.manager_a, personas.technician_a, personas.owner_a101):
            assert ids(ApiClient(user).get("/org/estates")) == {personas.estate_a.pk}
        assert ids(ApiClient(personas.outsider).get("/org/estates")) == {personas.estate_c.pk}

    def test_another_estate_is_not_found(self, personas):
        client = ApiClient(personas.clerk_b)
        assert client.get(f"/org/estates/{personas.estate_a.pk}").status_code == 404
        assert client.get(f"/org/estates/{personas.estate_b.pk}").status_code == 200


class TestBuildingReads:
    def test_list_filters_by_estate(self, personas):
        client = ApiClient(personas.company_admin)
        assert ids(client.get("/org/buildings")) == {
            personas.building_a1.pk,
            personas.building_b1.pk,
        }
        filtered = client.get("/org/buildings", estate=personas.estate_b.pk)
        assert ids(filtered) == {personas.building_b1.pk}

    def test_filtering_by_an_estate_out_of_sight_is_404(self, personas):
        response = ApiClient(personas.clerk_b).get("/org/buildings", estate=personas.estate_a.pk)
        assert response.status_code == 404

    def test_detail_has_the_unit_count(self, personas):
        body = ApiClient(personas.manager_a).get(f"/org/buildings/{personas.building_a1.pk}")
        assert body.json()["unit_count"] == 2
        assert body.json()["name"] == "1号楼"


class TestBuildingWrites:
    def url(self, personas):
        return f"/org/estates/{personas.estate_a.pk}/buildings"

    def test_a_manager_adds_a_building_and_the_change_is_audited(self, personas):
        response = ApiClient(personas.manager_a).post(
            self.url(personas), {"name": "2号楼", "floors_above": 33, "floors_below": 2}
        )
        assert response.status_code == 201
        body = response.json()
        assert body["estate_id"] == personas.estate_a.pk
        assert body["unit_count"] == 0
        building = Building.objects.get(pk=body["id"])
        assert building.floors_above == 33
        event = AuditEvent.objects.get(code=OrgEvent.BUILDING_CREATED.value)
        assert event.actor == personas.manager_a
        assert event.after["name"] == "2号楼"

    def test_a_clerk_may_read_but_not_add(self, personas):
        response = ApiClient(personas.clerk_a).post(self.url(personas), {"name": "2号楼"})
        assert response.status_code == 403
        assert not Building.objects.filter(name="2号楼").exists()

    def test_staff_of_another_estate_get_404(self, personas):
        response = ApiClient(personas.clerk_b).post(self.url(personas), {"name": "2号楼"})
        assert response.status_code == 404

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({}, "name"),
            ({"name": ""}, "name"),
            ({"name": None}, "name"),
            ({"name": LONG}, "name"),
            ({"name": "2号楼", "floors_above": "many"}, "floors_above"),
            ({"name": "2号楼", "floors_above": -1}, "floors_above"),
            ({"name": "2号楼", "floors_above": 10**30}, "floors_above"),
            ({"name": "2号楼", "note": LONG}, "note"),
            ({"name": ["2号楼"]}, "name"),
            ({"name": "2号楼", "estate": 99}, "estate"),
        ],
    )
    def test_bad_input_is_422_on_the_field_with_nothing_written(self, personas, body, field):
        before = Building.objects.count()
        response = ApiClient(personas.manager_a).post(self.url(personas), body)
        assert response.status_code == 422, response.content
        assert field in field_errors(response)
        assert Building.objects.count() == before
        assert events(OrgEvent.BUILDING_CREATED) == 0

    def test_a_duplicate_name_is_422(self, personas):
        response = ApiClient(personas.manager_a).post(self.url(personas), {"name": "1号楼"})
        assert response.status_code == 422
        assert Building.objects.filter(estate=personas.estate_a, name="1号楼").count() == 1

    def test_hostile_text_is_stored_verbatim_and_returned_as_json_text(self, personas):
        response = ApiClient(personas.manager_a).post(
            self.url(personas), {"name": "X座", "note": HOSTILE}
        )
        assert response.status_code == 201
        assert response["Content-Type"] == "application/json; charset=utf-8"
        assert response.json()["note"] == HOSTILE

    def test_update_changes_only_what_is_sent(self, personas):
        response = ApiClient(personas.manager_a).patch(
            f"/org/buildings/{personas.building_a1.pk}", {"note": "靠近东门"}
        )
        assert response.status_code == 200
        assert response.json()["note"] == "靠近东门"
        personas.building_a1.refresh_from_db()
        assert personas.building_a1.floors_above == 18
        event = AuditEvent.objects.get(code=OrgEvent.BUILDING_UPDATED.value)
        assert event.after == {"note": "靠近东门"}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"name": None}, "name"),
            ({"name": LONG}, "name"),
            ({"floors_above": "x"}, "floors_above"),
            ({"estate": 2}, "estate"),
        ],
    )
    def test_bad_update_is_422_and_changes_nothing(self, personas, body, field):
        response = ApiClient(personas.manager_a).patch(
            f"/org/buildings/{personas.building_a1.pk}", body
        )
        assert response.status_code == 422
        assert field in field_errors(response)
        personas.building_a1.refresh_from_db()
        assert personas.building_a1.name == "1号楼"
        assert personas.building_a1.estate == personas.estate_a

    def test_a_building_with_units_cannot_be_deleted(self, personas):
        response = ApiClient(personas.manager_a).delete(f"/org/buildings/{personas.building_a1.pk}")
        assert response.status_code == 422
        assert Building.objects.filter(pk=personas.building_a1.pk).exists()

    def test_an_empty_building_is_deleted(self, personas):
        empty = make_building(personas.estate_a, "空楼")
        assert ApiClient(personas.clerk_a).delete(f"/org/buildings/{empty.pk}").status_code == 403
        response = ApiClient(personas.manager_a).delete(f"/org/buildings/{empty.pk}")
        assert response.status_code == 204
        assert not Building.objects.filter(pk=empty.pk).exists()


class TestUnits:
    def test_filters(self, personas):
        extra = make_unit(personas.building_a1, "1801", floor=18)
        Unit.objects.filter(pk=extra.pk).update(status=Unit.Status.RENOVATING)
        client = ApiClient(personas.manager_a)
        assert ids(client.get("/org/units", status="renovating")) == {extra.pk}
        assert ids(client.get("/org/units", q="180")) == {extra.pk}
        assert ids(client.get("/org/units", building=personas.building_a1.pk)) == {
            personas.unit_a101.pk,
            personas.unit_a102.pk,
            extra.pk,
        }
        assert ids(client.get("/org/units", estate=personas.estate_a.pk, q="nothing")) == set()

    def test_an_owner_sees_only_their_own_unit(self, personas):
        client = ApiClient(personas.owner_a101)
        assert ids(client.get("/org/units")) == {personas.unit_a101.pk}
        assert client.get(f"/org/units/{personas.unit_a101.pk}").status_code == 200
        assert client.get(f"/org/units/{personas.unit_a102.pk}").status_code == 404

    def test_the_unit_answer(self, personas):
        body = ApiClient(personas.clerk_a).get(f"/org/units/{personas.unit_a101.pk}").json()
        assert body["label"] == "1号楼 101"
        assert body["building_name"] == "1号楼"
        assert body["gross_area"] == "89.50"
        assert body["status"] == "vacant"
        assert body["status_label"] == "Vacant"

    def test_a_manager_adds_a_unit(self, personas):
        response = ApiClient(personas.manager_a).post(
            f"/org/buildings/{personas.building_a1.pk}/units",
            {"number": "1502", "floor": 15, "gross_area": 120.5, "inner_area": "98.20"},
        )
        assert response.status_code == 201
        unit = Unit.objects.get(pk=response.json()["id"])
        assert unit.estate == personas.estate_a
        assert unit.gross_area == Decimal("120.50")
        assert events(OrgEvent.UNIT_CREATED) == 1

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"floor": 2, "gross_area": "80"}, "number"),
            ({"number": "201", "floor": 2, "gross_area": "-80"}, "gross_area"),
            ({"number": "201", "floor": 2, "gross_area": "abc"}, "gross_area"),
            ({"number": "201", "floor": 2, "gross_area": "NaN"}, "gross_area"),
            ({"number": "201", "floor": 2, "gross_area": "1e400"}, "gross_area"),
            ({"number": "201", "floor": 2, "gross_area": "80", "inner_area": "90"}, "inner_area"),
            ({"number": "201", "floor": 0, "gross_area": "80"}, "floor"),
            ({"number": "201", "floor": 99, "gross_area": "80"}, "floor"),
            ({"number": "201", "floor": 2.5, "gross_area": "80"}, "floor"),
            ({"number": LONG, "floor": 2, "gross_area": "80"}, "number"),
            ({"number": "201", "floor": 2, "gross_area": "80", "status": "sold"}, "status"),
            ({"number": "101", "floor": 1, "gross_area": "80"}, "__all__"),
        ],
    )
    def test_bad_unit_input_is_422_with_nothing_written(self, personas, body, field):
        before = Unit.objects.count()
        response = ApiClient(personas.manager_a).post(
            f"/org/buildings/{personas.building_a1.pk}/units", body
        )
        assert response.status_code == 422, response.content
        assert field in field_errors(response)
        assert Unit.objects.count() == before

    def test_update_and_its_permission(self, personas):
        url = f"/org/units/{personas.unit_a102.pk}"
        assert ApiClient(personas.technician_a).patch(url, {"status": "rented"}).status_code == 403
        assert ApiClient(personas.owner_a102).patch(url, {"status": "rented"}).status_code == 403
        assert ApiClient(personas.owner_a101).patch(url, {"status": "rented"}).status_code == 404
        response = ApiClient(personas.manager_a).patch(url, {"status": "rented"})
        assert response.status_code == 200
        assert response.json()["status_label"] == "Rented"
        bad = ApiClient(personas.manager_a).patch(url, {"inner_area": "500"})
        assert bad.status_code == 422
        assert Unit.objects.get(pk=personas.unit_a102.pk).inner_area == Decimal("72.30")


class TestCommonAreas:
    def test_list_and_detail(self, personas):
        CommonArea.objects.create(estate=personas.estate_b, name="地库", kind="garage")
        client = ApiClient(personas.security_a)
        assert ids(client.get("/org/common-areas")) == {personas.lobby_a.pk}
        body = client.get(f"/org/common-areas/{personas.lobby_a.pk}").json()
        assert body["kind"] == "lobby"
        assert body["kind_label"] == "Lobby"
        assert body["building_id"] == personas.building_a1.pk

    def test_an_owner_sees_the_common_areas_of_their_estate(self, personas):
        assert ids(ApiClient(personas.owner_a101).get("/org/common-areas")) == {personas.lobby_a.pk}


class TestResidentReads:
    def mobiles(self, user) -> dict[str, str]:
        items = ApiClient(user).get("/org/residents").json()["items"]
        return {item["name"]: item["mobile"] for item in items}

    def test_field_staff_see_masked_mobiles_and_the_desk_sees_them_whole(self, personas):
        assert self.mobiles(personas.technician_a) == {
            "张伟": "138****8001",
            "李娜": "138****8002",
        }
        assert self.mobiles(personas.clerk_a) == {"张伟": "13800138001", "李娜": "13800138002"}
        assert self.mobiles(personas.company_admin)["张伟"] == "13800138001"

    def test_an_owner_sees_only_their_own_record_with_their_own_number(self, personas):
        assert self.mobiles(personas.owner_a101) == {"张伟": "13800138001"}
        other = ApiClient(personas.owner_a101).get(f"/org/residents/{personas.resident_a102.pk}")
        assert other.status_code == 404

    def test_a_resident_living_in_two_estates_is_read_by_the_desk_of_either(self, personas):
        Residency.objects.create(
            resident=personas.resident_a101, unit=personas.unit_b101, relation="tenant"
        )
        assert self.mobiles(personas.clerk_b) == {"张伟": "13800138001"}

    def test_detail_lists_homes_past_and_present(self, personas, time_machine):
        time_machine.move_to(dt.datetime(2026, 5, 1, 12, tzinfo=dt.UTC))
        Residency.objects.create(
            resident=personas.resident_a101,
            unit=personas.unit_a102,
            relation="tenant",
            moved_in_on=dt.date(2025, 1, 1),
            moved_out_on=dt.date(2025, 12, 31),
        )
        body = ApiClient(personas.clerk_a).get(f"/org/residents/{personas.resident_a101.pk}")
        body = body.json()
        assert [home["unit_id"] for home in body["current_homes"]] == [personas.unit_a101.pk]
        history = {home["unit_id"]: home for home in body["residencies"]}
        assert set(history) == {personas.unit_a101.pk, personas.unit_a102.pk}
        assert history[personas.unit_a102.pk]["is_current"] is False
        assert body["has_portal_account"] is True

    def test_search_by_name_and_mobile(self, personas):
        client = ApiClient(personas.clerk_a)
        assert ids(client.get("/org/residents", q="张")) == {personas.resident_a101.pk}
        assert ids(client.get("/org/residents", q="13800138001")) == {personas.resident_a101.pk}

    def test_outsiders_search_finds_nothing_of_the_company(self, personas):
        assert ids(ApiClient(personas.outsider).get("/org/residents", q="138")) == set()


class TestResidentWrites:
    def url(self, personas):
        return f"/org/estates/{personas.estate_a.pk}/residents"

    def walk_in(self, personas, **overrides):
        return {
            "name": "王芳",
            "mobile": "+86 139-0013-9000",
            "unit": personas.unit_a102.pk,
            "relation": "tenant",
            "moved_in_on": "2026-04-01",
            **overrides,
        }

    def test_the_desk_registers_a_walk_in_with_their_unit(self, personas):
        response = ApiClient(personas.clerk_a).post(self.url(personas), self.walk_in(personas))
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["mobile"] == "13900139000"
        assert [home["unit_id"] for home in body["current_homes"]] == [personas.unit_a102.pk]
        resident = Resident.objects.get(pk=body["id"])
        assert resident.residencies.get().moved_in_on == dt.date(2026, 4, 1)
        assert events(OrgEvent.RESIDENT_CREATED) == 1
        assert events(OrgEvent.RESIDENCY_STARTED) == 1

    def test_a_technician_may_not_register_residents(self, personas):
        response = ApiClient(personas.technician_a).post(self.url(personas), self.walk_in(personas))
        assert response.status_code == 403
        assert not Resident.objects.filter(name="王芳").exists()

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"mobile": "12345"}, "mobile"),
            ({"mobile": "23800138000"}, "mobile"),
            ({"mobile": 13900139000}, "mobile"),
            ({"mobile": "13800138001"}, "mobile"),
            ({"name": ""}, "name"),
            ({"name": LONG}, "name"),
            ({"name": None}, "name"),
            ({"tier": "gold"}, "tier"),
            ({"relation": "landlord"}, "relation"),
            ({"moved_in_on": "2026-02-30"}, "moved_in_on"),
            ({"unit": "A-101"}, "unit"),
            ({"unit": 10**6}, "unit"),
            ({"note": LONG}, "note"),
        ],
    )
    def test_bad_input_is_422_on_the_field_with_nothing_written(self, personas, overrides, field):
        before = (Resident.objects.count(), Residency.objects.count())
        response = ApiClient(personas.clerk_a).post(
            self.url(personas), self.walk_in(personas, **overrides)
        )
        assert response.status_code == 422, response.content
        assert field in field_errors(response)
        assert (Resident.objects.count(), Residency.objects.count()) == before

    def test_a_unit_of_another_estate_is_refused_on_the_unit_field(self, personas):
        for unit in (personas.unit_b101, personas.unit_c101):
            response = ApiClient(personas.company_admin).post(
                self.url(personas), self.walk_in(personas, unit=unit.pk)
            )
            assert response.status_code == 422
            assert "unit" in field_errors(response)
        assert not Resident.objects.filter(name="王芳").exists()

    def test_hostile_text_is_kept_as_text(self, personas):
        response = ApiClient(personas.clerk_a).post(
            self.url(personas), self.walk_in(personas, name=HOSTILE, note=HOSTILE)
        )
        assert response.status_code == 201
        assert response.json()["name"] == HOSTILE

    def test_update_normalises_the_mobile_and_refuses_a_bad_one(self, personas):
        url = f"/org/residents/{personas.resident_a102.pk}"
        client = ApiClient(personas.clerk_a)
        response = client.patch(url, {"mobile": "0086 139 0000 1111", "tier": "vip"})
        assert response.status_code == 200
        assert response.json()["mobile"] == "13900001111"
        assert response.json()["tier_label"] == "VIP"
        bad = client.patch(url, {"mobile": "555-1234"})
        assert bad.status_code == 422
        assert field_errors(bad).keys() == {"mobile"}
        assert Resident.objects.get(pk=personas.resident_a102.pk).mobile == "13900001111"

    def test_update_permissions(self, personas):
        url = f"/org/residents/{personas.resident_a102.pk}"
        assert ApiClient(personas.technician_a).patch(url, {"note": "x"}).status_code == 403
        assert ApiClient(personas.owner_a101).patch(url, {"note": "x"}).status_code == 404
        assert ApiClient(personas.clerk_b).patch(url, {"note": "x"}).status_code == 404


class TestResidencies:
    def test_move_in_and_move_out(self, personas, time_machine):
        time_machine.move_to(dt.datetime(2026, 6, 1, 12, tzinfo=dt.UTC))
        client = ApiClient(personas.clerk_a)
        response = client.post(
            f"/org/residents/{personas.resident_a101.pk}/residencies",
            {"unit": personas.unit_a102.pk, "relation": "family", "moved_in_on": "2026-05-20"},
        )
        assert response.status_code == 201, response.content
        residency = response.json()
        assert residency["relation_label"] == "Family member"
        assert residency["unit_label"] == "1号楼 102"

        ended = client.post(
            f"/org/residencies/{residency['id']}/end", {"moved_out_on": "2026-05-31"}
        )
        assert ended.status_code == 200
        assert ended.json()["moved_out_on"] == "2026-05-31"
        assert ended.json()["is_current"] is False

        again = client.post(f"/org/residencies/{residency['id']}/end")
        assert again.status_code == 422

    def test_move_out_before_move_in_is_refused(self, personas):
        residency = Residency.objects.get(resident=personas.resident_a101)
        Residency.objects.filter(pk=residency.pk).update(moved_in_on=dt.date(2026, 1, 10))
        response = ApiClient(personas.clerk_a).post(
            f"/org/residencies/{residency.pk}/end", {"moved_out_on": "2026-01-01"}
        )
        assert response.status_code == 422
        assert "moved_out_on" in field_errors(response)
        assert Residency.objects.get(pk=residency.pk).moved_out_on is None

    def test_an_unseen_unit_is_refused_on_the_unit_field(self, personas):
        response = ApiClient(personas.clerk_a).post(
            f"/org/residents/{personas.resident_a101.pk}/residencies",
            {"unit": personas.unit_b101.pk, "relation": "owner"},
        )
        assert response.status_code == 422
        assert field_errors(response) == {"unit": "No such unit."}

    @pytest.mark.parametrize(
        "body", [{}, {"unit": 1}, {"unit": 1, "relation": 3}, {"unit": [], "relation": "owner"}]
    )
    def test_incomplete_move_in_is_422(self, personas, body):
        before = Residency.objects.count()
        response = ApiClient(personas.clerk_a).post(
            f"/org/residents/{personas.resident_a101.pk}/residencies", body
        )
        assert response.status_code == 422
        assert Residency.objects.count() == before

    def test_field_staff_and_owners_may_not_move_people(self, personas):
        residency = Residency.objects.get(resident=personas.resident_a101)
        url = f"/org/residencies/{residency.pk}/end"
        assert ApiClient(personas.technician_a).post(url).status_code == 403
        assert ApiClient(personas.owner_a101).post(url).status_code == 403
        assert ApiClient(personas.owner_a102).post(url).status_code == 404
        assert Residency.objects.get(pk=residency.pk).moved_out_on is None


class TestStaffAndTeams:
    def test_a_manager_sees_the_estate_staff(self, personas):
        items = ApiClient(personas.manager_a).get("/org/staff").json()["items"]
        assert {(item["user"]["username"], item["role"]) for item in items} == {
            ("manager_a", "estate_manager"),
            ("clerk_a", "service_desk"),
            ("dispatcher_a", "dispatcher"),
            ("tech_a", "technician"),
            ("security_a", "security"),
        }

    def test_staff_list_per_estate(self, personas):
        client = ApiClient(personas.company_admin)
        items = client.get("/org/staff", estate=personas.estate_b.pk).json()["items"]
        assert {item["user"]["username"] for item in items} == {"admin", "clerk_b"}

    def test_a_technician_sees_only_their_own_membership(self, personas):
        items = ApiClient(personas.technician_a).get("/org/staff").json()["items"]
        assert [item["user"]["username"] for item in items] == ["tech_a"]

    def test_teams_with_members_and_skills(self, personas):
        body = ApiClient(personas.dispatcher_a).get(f"/org/teams/{personas.team_a.pk}").json()
        assert body["skills"] == ["plumbing", "electrical"]
        assert body["skill_labels"] == ["Plumbing", "Electrical"]
        assert [member["username"] for member in body["members"]] == ["tech_a"]

    def test_owners_see_no_teams(self, personas):
        client = ApiClient(personas.owner_a101)
        assert ids(client.get("/org/teams")) == set()
        assert client.get(f"/org/teams/{personas.team_a.pk}").status_code == 404


class TestMe:
    def test_an_owner_profile(self, personas):
        body = ApiClient(personas.owner_a101).get("/me").json()
        assert body["username"] == "owner_a101"
        assert body["mobile"] == "13800138001"
        assert body["is_resident"] is True
        assert body["roles"] == []
        assert [estate["id"] for estate in body["estates"]] == [personas.estate_a.pk]

    def test_a_staff_profile(self, personas):
        body = ApiClient(personas.company_admin).get("/me").json()
        assert body["is_resident"] is False
        assert body["roles"] == [
            {
                "role": "company_admin",
                "role_label": "Company admin",
                "company_id": personas.company.pk,
                "estate_id": None,
            }
        ]
        assert {estate["id"] for estate in body["estates"]} == {
            personas.estate_a.pk,
            personas.estate_b.pk,
        }

    def test_my_units_are_the_current_homes(self, personas):
        body = ApiClient(personas.owner_a101).get("/me/units").json()
        assert body["count"] == 1
        home = body["items"][0]
        assert home["unit"]["id"] == personas.unit_a101.pk
        assert home["relation"] == "owner"
        assert home["estate"]["id"] == personas.estate_a.pk

    def test_staff_have_no_homes_and_no_resident_record(self, personas):
        client = ApiClient(personas.manager_a)
        assert client.get("/me/units").json() == {"items": [], "count": 0}
        assert client.get("/me/resident").status_code == 404

    def test_my_resident_record(self, personas):
        body = ApiClient(personas.owner_a102).get("/me/resident").json()
        assert body["id"] == personas.resident_a102.pk
        assert body["mobile"] == "13800138002"


class TestQueryCounts:
    """Each list costs the same number of queries for 3 rows as for 30."""

    LISTS = [
        ("company_admin", "/org/estates"),
        ("manager_a", "/org/buildings"),
        ("manager_a", "/org/units"),
        ("technician_a", "/org/common-areas"),
        ("technician_a", "/org/residents"),
        ("clerk_a", "/org/residents"),
        ("manager_a", "/org/staff"),
        ("manager_a", "/org/teams"),
        ("owner_a101", "/me/units"),
    ]

    def grow(self, personas, start: int, stop: int):
        for n in range(start, stop):
            Estate.objects.create(
                company=personas.company, name=f"新区{n}", code=f"N{n}", kind="commercial"
            )
            building = make_building(personas.estate_a, f"新{n}号楼")
            unit = make_unit(building, "101")
            make_owner(f"owner_new{n}", f"业主{n}", f"1370000{n:04d}", unit)
            Residency.objects.create(resident=personas.resident_a101, unit=unit, relation="family")
            CommonArea.objects.create(estate=personas.estate_a, name=f"花园{n}", kind="garden")
            staff = make_staff(f"tech_new{n}", f"师傅{n}", personas.estate_a, Role.TECHNICIAN)
            team = Team.objects.create(estate=personas.estate_a, name=f"班组{n}", lead=staff)
            TeamMember.objects.create(team=team, user=staff)

    def count(self, user, path) -> int:
        client = ApiClient(user)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(path)
        assert response.status_code == 200
        return len(queries)

    @pytest.mark.parametrize(("who", "path"), LISTS)
    def test_lists_do_not_grow_with_rows(self, personas, who, path, django_assert_max_num_queries):
        user = getattr(personas, who)
        self.grow(personas, 0, 2)
        few = self.count(user, path)
        self.grow(personas, 2, 30)
        client = ApiClient(user)
        with django_assert_max_num_queries(few):
            assert client.get(path).json()["count"] > 2
