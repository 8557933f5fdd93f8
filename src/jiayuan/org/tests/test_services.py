"""Every write in org/services.py: who may do it, who is refused (403) or kept in the dark
(404), what bad input does, and the audit event it leaves."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils import translation

from jiayuan.accounts.models import User
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import PASSWORD
from jiayuan.org import services
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import (
    Building,
    CommonArea,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
)

pytestmark = pytest.mark.django_db


def tenant_without_account(personas) -> Resident:
    resident = Resident.objects.create(
        company=personas.company, name="钱多多", mobile="13700137000"
    )
    Residency.objects.create(resident=resident, unit=personas.unit_a102, relation="tenant")
    return resident


# Each service once, as a call that should work for the first actor named: (name, allowed
# actor, an actor who sees the object but may not do this, call).
CALLS = [
    (
        "estate_update",
        "manager_a",
        "clerk_a",
        lambda p, actor: services.estate_update(actor=actor, estate=p.estate_a, city="杭州"),
    ),
    (
        "building_create",
        "manager_a",
        "clerk_a",
        lambda p, actor: services.building_create(actor=actor, estate=p.estate_a, name="9号楼"),
    ),
    (
        "building_update",
        "manager_a",
        "technician_a",
        lambda p, actor: services.building_update(actor=actor, building=p.building_a1, note="东门"),
    ),
    (
        "building_delete",
        "manager_a",
        "clerk_a",
        lambda p, actor: services.building_delete(
            actor=actor, building=Building.objects.create(estate=p.estate_a, name="空楼")
        ),
    ),
    (
        "unit_create",
        "manager_a",
        "clerk_a",
        lambda p, actor: services.unit_create(
            actor=actor, building=p.building_a1, number="301", floor=3, gross_area=Decimal("90")
        ),
    ),
    (
        "unit_update",
        "manager_a",
        "dispatcher_a",
        lambda p, actor: services.unit_update(
            actor=actor, unit=p.unit_a101, status=Unit.Status.RENOVATING
        ),
    ),
    (
        "unit_delete",
        "manager_a",
        "clerk_a",
        lambda p, actor: services.unit_delete(
            actor=actor,
            unit=Unit.objects.create(
                estate=p.estate_a,
                building=p.building_a1,
                number="999",
                floor=9,
                gross_area=Decimal("50"),
            ),
        ),
    ),
    (
        "common_area_create",
        "manager_a",
        "security_a",
        lambda p, actor: services.common_area_create(
            actor=actor, estate=p.estate_a, name="中心花园", kind=CommonArea.Kind.GARDEN
        ),
    ),
    (
        "common_area_update",
        "manager_a",
        "security_a",
        lambda p, actor: services.common_area_update(actor=actor, area=p.lobby_a, note="24小时"),
    ),
    (
        "common_area_delete",
        "manager_a",
        "security_a",
        lambda p, actor: services.common_area_delete(actor=actor, area=p.lobby_a),
    ),
    (
        "resident_create",
        "clerk_a",
        "technician_a",
        lambda p, actor: services.resident_create(
            actor=actor, estate=p.estate_a, name="王芳", mobile="13900139000", unit=p.unit_a102
        ),
    ),
    (
        "resident_update",
        "clerk_a",
        "technician_a",
        lambda p, actor: services.resident_update(
            actor=actor, resident=p.resident_a101, tier=Resident.Tier.VIP
        ),
    ),
    (
        "resident_open_portal",
        "clerk_a",
        "technician_a",
        lambda p, actor: services.resident_open_portal(
            actor=actor, resident=tenant_without_account(p), password=PASSWORD
        ),
    ),
    (
        "residency_start",
        "clerk_a",
        "technician_a",
        lambda p, actor: services.residency_start(
            actor=actor,
            resident=p.resident_a101,
            unit=p.unit_a102,
            relation=Residency.Relation.FAMILY,
        ),
    ),
    (
        "residency_end",
        "clerk_a",
        "technician_a",
        lambda p, actor: services.residency_end(
            actor=actor, residency=p.resident_a101.residencies.get()
        ),
    ),
    (
        "staff_add",
        "manager_a",
        "clerk_a",
        lambda p, actor: services.staff_add(
            actor=actor,
            estate=p.estate_a,
            username="new_tech",
            name="新师傅",
            role=Role.TECHNICIAN,
            password=PASSWORD,
        ),
    ),
    (
        "membership_grant",
        "manager_a",
        None,  # who may see staff accounts may grant this role: see TestStaff
        lambda p, actor: services.membership_grant(
            actor=actor, user=p.technician_a, estate=p.estate_a, role=Role.SECURITY
        ),
    ),
    (
        "membership_revoke",
        "manager_a",
        "dispatcher_a",
        lambda p, actor: services.membership_revoke(
            actor=actor, membership=p.security_a.memberships.get()
        ),
    ),
    (
        "team_create",
        "manager_a",
        "dispatcher_a",
        lambda p, actor: services.team_create(
            actor=actor, estate=p.estate_a, name="保洁班", skills=["cleaning"]
        ),
    ),
    (
        "team_update",
        "manager_a",
        "technician_a",
        lambda p, actor: services.team_update(actor=actor, team=p.team_a, skills=["elevator"]),
    ),
    (
        "team_member_add",
        "manager_a",
        "technician_a",
        lambda p, actor: services.team_member_add(actor=actor, team=p.team_a, user=p.security_a),
    ),
    (
        "team_member_remove",
        "manager_a",
        "technician_a",
        lambda p, actor: services.team_member_remove(
            actor=actor, member=p.team_a.memberships.get()
        ),
    ),
]
CALL_IDS = [name for name, *_ in CALLS]


@pytest.mark.parametrize(("name", "allowed", "refused", "call"), CALLS, ids=CALL_IDS)
def test_the_right_role_may_and_an_audit_event_is_written(personas, name, allowed, refused, call):
    events_before = AuditEvent.objects.count()
    call(personas, getattr(personas, allowed))
    new_events = AuditEvent.objects.order_by("id")[events_before:]
    assert new_events, f"{name} wrote no audit event"
    assert all(event.actor == getattr(personas, allowed) for event in new_events)
    assert all(event.company_id == personas.company.pk for event in new_events)


@pytest.mark.parametrize(
    ("name", "allowed", "refused", "call"),
    [call for call in CALLS if call[2]],
    ids=[name for name, _, refused, _ in CALLS if refused],
)
def test_a_role_that_only_sees_is_refused_with_403_and_nothing_changes(
    personas, name, allowed, refused, call
):
    events_before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        call(personas, getattr(personas, refused))
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(("name", "allowed", "refused", "call"), CALLS, ids=CALL_IDS)
@pytest.mark.parametrize("stranger", ["outsider", "clerk_b", "stranger"])
def test_who_cannot_see_the_estate_gets_404(personas, name, allowed, refused, call, stranger):
    events_before = AuditEvent.objects.count()
    with pytest.raises(Http404):
        call(personas, getattr(personas, stranger))
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(("name", "allowed", "refused", "call"), CALLS, ids=CALL_IDS)
def test_a_resident_changes_nothing(personas, name, allowed, refused, call):
    """An owner sees their own estate, building, unit and record: 403 there, 404 elsewhere."""
    events_before = AuditEvent.objects.count()
    with pytest.raises((PermissionDenied, Http404)):
        call(personas, personas.owner_a101)
    assert AuditEvent.objects.count() == events_before


def last_event(code):
    return AuditEvent.objects.filter(code=code.value).latest("id")


class TestEstates:
    def test_company_admin_creates_an_estate_with_an_event_in_that_estate(self, personas):
        estate = services.estate_create(
            actor=personas.company_admin,
            company=personas.company,
            name="新城",
            code="N",
            kind=Estate.Kind.RESIDENTIAL,
        )
        event = last_event(OrgEvent.ESTATE_CREATED)
        assert event.estate == estate
        assert event.after["name"] == "新城"

    def test_estate_manager_cannot_create_estates(self, personas):
        with pytest.raises(PermissionDenied):
            services.estate_create(
                actor=personas.manager_a, company=personas.company, name="x", code="x", kind="x"
            )
        with pytest.raises(Http404):
            services.estate_create(
                actor=personas.outsider, company=personas.company, name="x", code="x", kind="x"
            )

    def test_update_records_before_and_after_of_the_changed_fields_only(self, personas):
        services.estate_update(
            actor=personas.manager_a, estate=personas.estate_a, total_area=Decimal("12000.50")
        )
        event = last_event(OrgEvent.ESTATE_UPDATED)
        assert event.before == {"total_area": None}
        assert event.after == {"total_area": "12000.50"}

    def test_an_unchanged_save_writes_no_event(self, personas):
        services.estate_update(actor=personas.manager_a, estate=personas.estate_a, name="阳光花园")
        assert not AuditEvent.objects.filter(code=OrgEvent.ESTATE_UPDATED.value).exists()

    @pytest.mark.parametrize(
        "changes",
        [
            {"total_area": Decimal("-1")},
            {"code": "空 格"},
            {"name": "x" * 10_000},
            {"name": "金融中心"},  # estate B's name
            {"company": None},
        ],
    )
    def test_bad_changes_are_refused_and_nothing_is_saved(self, personas, changes):
        with pytest.raises(ValidationError):
            services.estate_update(actor=personas.manager_a, estate=personas.estate_a, **changes)
        fresh = Estate.objects.get(pk=personas.estate_a.pk)
        assert (fresh.name, fresh.code, fresh.total_area) == ("阳光花园", "A", None)


class TestBuildings:
    def test_create_records_the_new_building(self, personas):
        building = services.building_create(
            actor=personas.manager_a, estate=personas.estate_a, name="2号楼", floors_above=30
        )
        event = last_event(OrgEvent.BUILDING_CREATED)
        assert event.target_id == str(building.pk)
        assert event.after["floors_above"] == 30
        assert event.estate == personas.estate_a

    def test_the_same_name_twice_in_one_estate_is_a_clear_error(self, personas):
        services.building_create(actor=personas.manager_a, estate=personas.estate_a, name="2号楼")
        with translation.override("en"):
            with pytest.raises(ValidationError) as caught:
                services.building_create(
                    actor=personas.manager_a, estate=personas.estate_a, name="2号楼"
                )
            assert "already exists" in " ".join(caught.value.messages)
        assert Building.objects.filter(estate=personas.estate_a, name="2号楼").count() == 1

    def test_a_concurrent_creator_winning_after_validation_still_gives_a_clear_error(
        self, personas, monkeypatch
    ):
        """The other request saved the same name after this one's full_clean passed: the
        database constraint decides, and the loser sees a validation error, not a 500."""
        services.building_create(actor=personas.manager_a, estate=personas.estate_a, name="2号楼")
        monkeypatch.setattr(Building, "full_clean", lambda self, **kwargs: None)
        with translation.override("en"):
            with pytest.raises(ValidationError) as caught:
                services.building_create(
                    actor=personas.manager_a, estate=personas.estate_a, name="2号楼"
                )
            assert "already exists" in " ".join(caught.value.messages)
        assert Building.objects.filter(estate=personas.estate_a, name="2号楼").count() == 1
        assert AuditEvent.objects.filter(code=OrgEvent.BUILDING_CREATED.value).count() == 1

    def test_the_same_name_in_another_estate_is_fine(self, personas):
        services.building_create(
            actor=personas.company_admin, estate=personas.estate_b, name="1号楼"
        )

    def test_a_building_with_units_is_not_deleted(self, personas):
        with translation.override("en"), pytest.raises(ValidationError) as caught:
            services.building_delete(actor=personas.manager_a, building=personas.building_a1)
        assert "still has units" in caught.value.messages[0]
        assert Building.objects.filter(pk=personas.building_a1.pk).exists()

    def test_a_building_with_common_areas_only_is_not_deleted(self, personas):
        building = Building.objects.create(estate=personas.estate_a, name="会所")
        CommonArea.objects.create(
            estate=personas.estate_a, building=building, name="会所大堂", kind="lobby"
        )
        with translation.override("en"), pytest.raises(ValidationError) as caught:
            services.building_delete(actor=personas.manager_a, building=building)
        assert "Common areas" in caught.value.messages[0]

    def test_delete_keeps_the_old_values_in_the_event(self, personas):
        building = Building.objects.create(estate=personas.estate_a, name="空楼")
        services.building_delete(actor=personas.manager_a, building=building)
        event = last_event(OrgEvent.BUILDING_DELETED)
        assert event.before["name"] == "空楼"
        assert not Building.objects.filter(pk=building.pk).exists()

    def test_a_field_that_is_not_editable_is_refused(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.building_update(
                actor=personas.manager_a, building=personas.building_a1, estate=personas.estate_b
            )
        assert "estate" in caught.value.error_dict

    def test_an_outsider_learns_nothing_from_a_bad_field(self, personas):
        with pytest.raises(Http404):
            services.building_update(
                actor=personas.outsider, building=personas.building_a1, estate=personas.estate_c
            )

    def test_bad_values(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.building_create(
                actor=personas.manager_a, estate=personas.estate_a, name="", floors_above=-1
            )
        assert {"name", "floors_above"} <= set(caught.value.error_dict)
        assert Building.objects.filter(estate=personas.estate_a).count() == 1


class TestUnits:
    def create(self, personas, **fields):
        values = {"number": "301", "floor": 3, "gross_area": Decimal("90")} | fields
        return services.unit_create(
            actor=personas.manager_a, building=personas.building_a1, **values
        )

    def test_create_copies_the_estate_of_the_building(self, personas):
        unit = self.create(personas)
        assert unit.estate == personas.estate_a
        assert last_event(OrgEvent.UNIT_CREATED).after["number"] == "301"

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"gross_area": Decimal("-5")}, "gross_area"),
            ({"gross_area": Decimal("0")}, "gross_area"),
            ({"inner_area": Decimal("95")}, "inner_area"),
            ({"floor": 40}, "floor"),
            ({"floor": 0}, "floor"),
            ({"number": "x" * 10_000}, "number"),
            ({"status": "sold"}, "status"),
            ({"number": "101"}, "__all__"),
        ],
    )
    def test_bad_units_are_refused_on_the_right_field(self, personas, fields, field):
        count = Unit.objects.count()
        with pytest.raises(ValidationError) as caught:
            self.create(personas, **fields)
        assert field in caught.value.error_dict
        assert Unit.objects.count() == count

    def test_update_records_the_change(self, personas):
        services.unit_update(
            actor=personas.manager_a, unit=personas.unit_a101, gross_area=Decimal("100.00")
        )
        event = last_event(OrgEvent.UNIT_UPDATED)
        assert event.before == {"gross_area": "89.50"}
        assert event.after == {"gross_area": "100.00"}

    def test_a_unit_with_residents_on_record_is_kept(self, personas):
        with pytest.raises(ValidationError):
            services.unit_delete(actor=personas.manager_a, unit=personas.unit_a101)
        assert Unit.objects.filter(pk=personas.unit_a101.pk).exists()


class TestCommonAreas:
    def test_building_of_another_estate_is_refused(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.common_area_create(
                actor=personas.manager_a,
                estate=personas.estate_a,
                name="车库",
                kind=CommonArea.Kind.GARAGE,
                building=personas.building_b1,
            )
        assert "building" in caught.value.error_dict
        with pytest.raises(ValidationError):
            services.common_area_update(
                actor=personas.manager_a, area=personas.lobby_a, building=personas.building_b1
            )
        assert CommonArea.objects.get(pk=personas.lobby_a.pk).building == personas.building_a1

    def test_delete_records_the_old_area(self, personas):
        services.common_area_delete(actor=personas.manager_a, area=personas.lobby_a)
        assert last_event(OrgEvent.COMMON_AREA_DELETED).before["name"] == "1号楼大堂"


class TestResidents:
    def test_walk_in_with_unit_makes_resident_and_residency_in_one_go(self, personas):
        resident = services.resident_create(
            actor=personas.clerk_a,
            estate=personas.estate_a,
            name="  王芳 ",
            mobile="+86 139-0013-9000",
            unit=personas.unit_a102,
            relation=Residency.Relation.TENANT,
            moved_in_on=dt.date(2026, 3, 1),
        )
        assert (resident.name, resident.mobile) == ("王芳", "13900139000")
        residency = resident.residencies.get()
        assert residency.unit == personas.unit_a102
        assert residency.moved_in_on == dt.date(2026, 3, 1)
        created = last_event(OrgEvent.RESIDENT_CREATED)
        assert created.after["mobile"] == "13900139000"
        assert last_event(OrgEvent.RESIDENCY_STARTED).estate == personas.estate_a

    def test_estate_staff_must_name_the_unit(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.resident_create(
                actor=personas.clerk_a, estate=personas.estate_a, name="王芳", mobile="13900139000"
            )
        assert "unit" in caught.value.error_dict
        assert not Resident.objects.filter(mobile="13900139000").exists()

    def test_a_company_admin_may_register_without_a_unit(self, personas):
        resident = services.resident_create(
            actor=personas.company_admin,
            estate=personas.estate_a,
            name="王芳",
            mobile="13900139000",
        )
        assert not resident.residencies.exists()

    def test_the_unit_must_be_in_the_estate(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.resident_create(
                actor=personas.company_admin,
                estate=personas.estate_a,
                name="王芳",
                mobile="13900139000",
                unit=personas.unit_b101,
            )
        assert "unit" in caught.value.error_dict

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"mobile": "12345"}, "mobile"),
            ({"mobile": "13800138001"}, "mobile"),  # owner_a101's number
            ({"name": ""}, "name"),
            ({"note": "x" * 10_000}, "note"),
            ({"tier": "gold"}, "tier"),
            ({"relation": "landlord"}, "relation"),
        ],
    )
    def test_bad_input_writes_nothing(self, personas, fields, field):
        values = {
            "name": "王芳",
            "mobile": "13900139000",
            "unit": personas.unit_a102,
        } | fields
        residents, residencies = Resident.objects.count(), Residency.objects.count()
        with pytest.raises(ValidationError) as caught:
            services.resident_create(actor=personas.clerk_a, estate=personas.estate_a, **values)
        assert field in caught.value.error_dict
        assert (Resident.objects.count(), Residency.objects.count()) == (residents, residencies)

    def test_update_normalises_the_mobile_and_keeps_it_unique(self, personas):
        services.resident_update(
            actor=personas.clerk_a, resident=personas.resident_a101, mobile="139 0013 9000"
        )
        assert Resident.objects.get(pk=personas.resident_a101.pk).mobile == "13900139000"
        event = last_event(OrgEvent.RESIDENT_UPDATED)
        assert event.before == {"mobile": "13800138001"}
        assert event.company == personas.company
        with pytest.raises(ValidationError) as caught:
            services.resident_update(
                actor=personas.clerk_a, resident=personas.resident_a101, mobile="13800138002"
            )
        assert "mobile" in caught.value.error_dict

    def test_portal_account_signs_in_with_the_mobile(self, personas):
        resident = services.resident_create(
            actor=personas.clerk_a,
            estate=personas.estate_a,
            name="王芳",
            mobile="13900139000",
            unit=personas.unit_a102,
        )
        user = services.resident_open_portal(
            actor=personas.clerk_a, resident=resident, password=PASSWORD
        )
        assert user.mobile == "13900139000"
        assert user.check_password(PASSWORD)
        assert Resident.objects.get(pk=resident.pk).user == user
        with pytest.raises(ValidationError):
            services.resident_open_portal(
                actor=personas.clerk_a, resident=resident, password=PASSWORD
            )

    def test_portal_needs_a_good_password_on_the_password_field(self, personas):
        resident = Resident.objects.create(
            company=personas.company, name="钱", mobile="13700137000"
        )
        Residency.objects.create(resident=resident, unit=personas.unit_a102, relation="tenant")
        with pytest.raises(ValidationError) as caught:
            services.resident_open_portal(actor=personas.clerk_a, resident=resident, password="1")
        assert "password" in caught.value.error_dict
        assert not User.objects.filter(mobile="13700137000").exists()


class TestResidencies:
    def test_move_in_marks_a_vacant_unit_rented_for_a_tenant(self, personas):
        unit = Unit.objects.create(
            estate=personas.estate_a,
            building=personas.building_a1,
            number="201",
            floor=2,
            gross_area=Decimal("80"),
        )
        services.residency_start(
            actor=personas.clerk_a,
            resident=personas.resident_a102,
            unit=unit,
            relation=Residency.Relation.TENANT,
        )
        assert Unit.objects.get(pk=unit.pk).status == Unit.Status.RENTED

    def test_moving_into_the_same_unit_twice_is_refused(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.residency_start(
                actor=personas.clerk_a,
                resident=personas.resident_a101,
                unit=personas.unit_a101,
                relation=Residency.Relation.OWNER,
            )
        assert "unit" in caught.value.error_dict

    def test_a_unit_of_another_company_is_refused(self, personas):
        with pytest.raises(Http404):
            services.residency_start(
                actor=personas.clerk_a,
                resident=personas.resident_a101,
                unit=personas.unit_c101,
                relation=Residency.Relation.OWNER,
            )

    def test_move_out_records_the_date_and_cannot_happen_twice(self, personas, time_machine):
        time_machine.move_to(dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC))
        residency = personas.resident_a101.residencies.get()
        services.residency_end(actor=personas.clerk_a, residency=residency)
        event = last_event(OrgEvent.RESIDENCY_ENDED)
        assert event.before == {"moved_out_on": None}
        assert event.after == {"moved_out_on": "2026-05-01"}
        with pytest.raises(ValidationError):
            services.residency_end(actor=personas.clerk_a, residency=residency)

    def test_the_last_move_out_leaves_the_unit_vacant(self, personas):
        unit = personas.unit_a101
        Unit.objects.filter(pk=unit.pk).update(status=Unit.Status.OCCUPIED)
        family = services.residency_start(
            actor=personas.clerk_a,
            resident=personas.resident_a102,
            unit=unit,
            relation=Residency.Relation.FAMILY,
        )
        services.residency_end(actor=personas.clerk_a, residency=family)
        assert Unit.objects.get(pk=unit.pk).status == Unit.Status.OCCUPIED
        owner = personas.resident_a101.residencies.get(unit=unit)
        services.residency_end(actor=personas.clerk_a, residency=owner)
        assert Unit.objects.get(pk=unit.pk).status == Unit.Status.VACANT

    def test_moving_out_of_a_unit_under_renovation_keeps_it_so(self, personas):
        unit = personas.unit_a101
        Unit.objects.filter(pk=unit.pk).update(status=Unit.Status.RENOVATING)
        services.residency_end(
            actor=personas.clerk_a, residency=personas.resident_a101.residencies.get()
        )
        assert Unit.objects.get(pk=unit.pk).status == Unit.Status.RENOVATING

    def test_move_out_before_move_in_is_refused(self, personas):
        residency = personas.resident_a101.residencies.get()
        residency.moved_in_on = dt.date(2026, 3, 1)
        residency.save()
        with pytest.raises(ValidationError) as caught:
            services.residency_end(
                actor=personas.clerk_a, residency=residency, moved_out_on=dt.date(2026, 2, 1)
            )
        assert "moved_out_on" in caught.value.error_dict
        assert Residency.objects.get(pk=residency.pk).moved_out_on is None


class TestStaff:
    def test_staff_add_creates_the_account_and_the_role(self, personas):
        membership = services.staff_add(
            actor=personas.manager_a,
            estate=personas.estate_a,
            username="new_tech",
            name="新师傅",
            role=Role.TECHNICIAN,
            password=PASSWORD,
            mobile="13600136000",
            email="new@example.com",
        )
        user = membership.user
        assert (user.mobile, user.check_password(PASSWORD)) == ("13600136000", True)
        assert membership.estate == personas.estate_a
        added = last_event(OrgEvent.STAFF_ADDED)
        assert "password" not in added.after
        assert last_event(OrgEvent.MEMBERSHIP_GRANTED).after["role"] == Role.TECHNICIAN

    @pytest.mark.parametrize("role", [Role.ESTATE_MANAGER, Role.COMPANY_ADMIN])
    def test_an_estate_manager_cannot_make_managers(self, personas, role):
        with pytest.raises(PermissionDenied):
            services.staff_add(
                actor=personas.manager_a,
                estate=personas.estate_a,
                username="boss",
                name="新经理",
                role=role,
                password=PASSWORD,
            )
        assert not User.objects.filter(username="boss").exists()

    def test_a_company_admin_can_make_managers(self, personas):
        membership = services.staff_add(
            actor=personas.company_admin,
            estate=personas.estate_b,
            username="boss_b",
            name="新经理",
            role=Role.ESTATE_MANAGER,
            password=PASSWORD,
        )
        assert membership.role == Role.ESTATE_MANAGER

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"username": "clerk_a"}, "username"),
            ({"username": ""}, "username"),
            ({"mobile": "12345"}, "mobile"),
            ({"email": "not-an-email"}, "email"),
            ({"password": "123"}, "password"),
            ({"role": "king"}, "role"),
            ({"name": "x" * 10_000}, "name"),
        ],
    )
    def test_bad_input_creates_no_account(self, personas, fields, field):
        values = {
            "username": "new_tech",
            "name": "新师傅",
            "role": Role.TECHNICIAN,
            "password": PASSWORD,
        } | fields
        users = User.objects.count()
        with pytest.raises(ValidationError) as caught:
            services.staff_add(actor=personas.manager_a, estate=personas.estate_a, **values)
        assert field in caught.value.error_dict
        assert User.objects.count() == users

    def test_granting_a_role_twice_is_a_clear_error(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.membership_grant(
                actor=personas.manager_a,
                user=personas.technician_a,
                estate=personas.estate_a,
                role=Role.TECHNICIAN,
            )
        assert "role" in caught.value.error_dict

    def test_a_resident_cannot_become_staff(self, personas):
        with pytest.raises((ValidationError, Http404)):
            services.membership_grant(
                actor=personas.company_admin,
                user=personas.owner_a101,
                estate=personas.estate_a,
                role=Role.TECHNICIAN,
            )
        assert not Membership.objects.filter(user=personas.owner_a101).exists()

    @pytest.mark.parametrize("role", [Role.ESTATE_MANAGER, Role.COMPANY_ADMIN])
    def test_an_estate_manager_cannot_grant_manager_roles(self, personas, role):
        with pytest.raises(PermissionDenied):
            services.membership_grant(
                actor=personas.manager_a, user=personas.clerk_a, estate=personas.estate_a, role=role
            )
        assert personas.clerk_a.memberships.count() == 1

    def test_a_manager_cannot_grant_to_someone_outside_the_estate(self, personas):
        with pytest.raises(Http404):
            services.membership_grant(
                actor=personas.manager_a,
                user=personas.clerk_b,
                estate=personas.estate_a,
                role=Role.SERVICE_DESK,
            )

    def test_company_admin_grants_a_company_wide_admin_role(self, personas):
        membership = services.membership_grant(
            actor=personas.company_admin,
            user=personas.manager_a,
            estate=None,
            company=personas.company,
            role=Role.COMPANY_ADMIN,
        )
        assert membership.estate is None

    def test_revoke_keeps_the_old_membership_in_the_event(self, personas):
        membership = personas.clerk_a.memberships.get()
        services.membership_revoke(actor=personas.manager_a, membership=membership)
        assert not Membership.objects.filter(pk=membership.pk).exists()
        event = last_event(OrgEvent.MEMBERSHIP_REVOKED)
        assert event.before["role"] == Role.SERVICE_DESK

    def test_an_estate_manager_cannot_revoke_a_manager(self, personas):
        with pytest.raises(PermissionDenied):
            services.membership_revoke(
                actor=personas.manager_a, membership=personas.manager_a.memberships.get()
            )

    def test_a_company_admin_cannot_drop_their_own_admin_role(self, personas):
        with pytest.raises(ValidationError):
            services.membership_revoke(
                actor=personas.company_admin,
                membership=personas.company_admin.memberships.get(),
            )


class TestTeams:
    def test_create_with_skills_and_lead(self, personas):
        team = services.team_create(
            actor=personas.manager_a,
            estate=personas.estate_a,
            name="电梯班",
            skills=["elevator"],
            lead=personas.technician_a,
        )
        assert team.lead == personas.technician_a
        assert last_event(OrgEvent.TEAM_CREATED).after["skills"] == ["elevator"]

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"skills": ["juggling"]}, "skills"),
            ({"skills": "plumbing"}, "skills"),
            ({"name": "工程部"}, "__all__"),
            ({"name": ""}, "name"),
        ],
    )
    def test_bad_teams_are_refused(self, personas, fields, field):
        values = {"name": "电梯班", "skills": ["elevator"]} | fields
        teams = Team.objects.count()
        with pytest.raises(ValidationError) as caught:
            services.team_create(actor=personas.manager_a, estate=personas.estate_a, **values)
        assert field in caught.value.error_dict
        assert Team.objects.count() == teams

    def test_lead_and_members_must_work_in_the_estate(self, personas):
        with pytest.raises(ValidationError) as caught:
            services.team_update(
                actor=personas.manager_a, team=personas.team_a, lead=personas.clerk_b
            )
        assert "lead" in caught.value.error_dict
        with pytest.raises(ValidationError) as caught:
            services.team_member_add(
                actor=personas.manager_a, team=personas.team_a, user=personas.clerk_b
            )
        assert "user" in caught.value.error_dict

    def test_a_member_is_added_once(self, personas):
        with pytest.raises(ValidationError):
            services.team_member_add(
                actor=personas.manager_a, team=personas.team_a, user=personas.technician_a
            )
        assert TeamMember.objects.filter(team=personas.team_a).count() == 1

    def test_remove_records_who_left(self, personas):
        member = personas.team_a.memberships.get()
        services.team_member_remove(actor=personas.manager_a, member=member)
        assert last_event(OrgEvent.TEAM_MEMBER_REMOVED).before == {
            "user_id": personas.technician_a.pk
        }
        assert not TeamMember.objects.filter(pk=member.pk).exists()


def test_company_bootstrap_makes_the_first_admin(db):
    company, admin = services.company_bootstrap(
        name="新物业", code="xin", admin_username="root", admin_password=PASSWORD
    )
    assert Membership.objects.get(user=admin).role == Role.COMPANY_ADMIN
    assert last_event(OrgEvent.COMPANY_CREATED).company == company
    with pytest.raises(ValidationError):
        services.company_bootstrap(
            name="新物业", code="xin2", admin_username="root2", admin_password=PASSWORD
        )


def test_every_problem_of_a_walk_in_is_reported_at_once(personas):
    with pytest.raises(ValidationError) as caught:
        services.resident_create(
            actor=personas.clerk_a, estate=personas.estate_a, name="", mobile="12345"
        )
    assert {"unit", "name", "mobile"} <= set(caught.value.error_dict)


def test_every_problem_of_a_new_staff_account_is_reported_at_once(personas):
    with pytest.raises(ValidationError) as caught:
        services.staff_add(
            actor=personas.manager_a,
            estate=personas.estate_a,
            username="clerk_a",
            name="重名",
            role=Role.TECHNICIAN,
            password="1",
            mobile="12345",
        )
    assert {"username", "mobile", "password"} <= set(caught.value.error_dict)
