import time
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import authenticate
from django.core.management import CommandError, call_command
from django.test import RequestFactory

from jiayuan.accounts.models import User
from jiayuan.core.phones import validate_mainland_mobile
from jiayuan.core.roles import Role
from jiayuan.org.demo import (
    DEMO_COMPANY_CODE,
    DEMO_PASSWORD,
    SMALL_PLAN,
    DemoError,
    build_demo,
    demo_logins,
)
from jiayuan.org.models import (
    CommonArea,
    Company,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    Unit,
)

pytestmark = pytest.mark.django_db


def _build_small():
    return build_demo(plan=SMALL_PLAN)


def _snapshot_of_people():
    return list(Resident.objects.order_by("pk").values_list("name", "mobile", "tier"))


def test_small_demo_builds_quickly_with_every_kind_of_record():
    started = time.monotonic()
    company_built = _build_small()
    assert time.monotonic() - started < 10

    company = Company.objects.get(code=DEMO_COMPANY_CODE)
    assert company_built == company
    estates = {estate.kind: estate for estate in Estate.objects.filter(company=company)}
    assert set(estates) == {Estate.Kind.RESIDENTIAL, Estate.Kind.COMMERCIAL}
    home_units = sum(s.entrances * s.floors * s.units_per_floor for s in SMALL_PLAN.residential)
    assert Unit.objects.filter(estate=estates[Estate.Kind.RESIDENTIAL]).count() == home_units
    assert Unit.objects.filter(estate=estates[Estate.Kind.COMMERCIAL]).exists()
    kinds = set(CommonArea.objects.filter(estate__company=company).values_list("kind", flat=True))
    assert {CommonArea.Kind.LOBBY, CommonArea.Kind.GARAGE, CommonArea.Kind.PUMP_ROOM} <= kinds
    roles = set(Membership.objects.filter(company=company).values_list("role", flat=True))
    assert roles == set(Role.values)
    assert Team.objects.filter(estate__company=company).count() == 5
    relations = set(Residency.objects.values_list("relation", flat=True))
    assert relations == set(Residency.Relation.values)
    assert Resident.objects.filter(tier=Resident.Tier.VIP).exists()


def test_demo_units_and_residents_are_valid_data():
    _build_small()
    for unit in Unit.objects.filter(estate__kind=Estate.Kind.RESIDENTIAL):
        unit.full_clean()
        assert Decimal(60) <= unit.gross_area <= Decimal(180)
        assert Decimal("0.78") <= unit.inner_area / unit.gross_area <= Decimal("0.85")
    mobiles = list(Resident.objects.values_list("mobile", flat=True))
    assert len(mobiles) == len(set(mobiles))
    for mobile in mobiles:
        validate_mainland_mobile(mobile)
    names = Resident.objects.values_list("name", flat=True)
    assert all(2 <= len(name) <= 4 for name in names)


def test_every_login_signs_in_by_username_and_by_mobile():
    _build_small()
    logins = demo_logins()
    staff_roles = [login.role for login in logins if not login.role.startswith("Owner portal")]
    assert len(staff_roles) == len(Role) == len(set(staff_roles))
    assert any(login.role.startswith("Owner portal") for login in logins)
    for login in logins:
        for identifier in (login.username, login.mobile):
            request = RequestFactory().post("/accounts/login/")
            user = authenticate(request, username=identifier, password=DEMO_PASSWORD)
            assert user is not None, identifier
            assert user.username == login.username


def test_owner_portal_account_sees_only_its_own_units():
    _build_small()
    portal_user = User.objects.filter(resident__isnull=False).first()
    own_units = set(
        Residency.objects.filter(resident__user=portal_user).values_list("unit_id", flat=True)
    )
    assert set(Unit.objects.restrict(portal_user).values_list("pk", flat=True)) == own_units


def test_the_same_seed_gives_the_same_people():
    _build_small()
    first = _snapshot_of_people()
    call_command("demo", "--reset", "--small", stdout=StringIO())
    assert _snapshot_of_people() == first


def test_building_twice_is_refused_and_the_command_skips():
    _build_small()
    counts = (Unit.objects.count(), Resident.objects.count(), User.objects.count())
    with pytest.raises(DemoError):
        _build_small()
    out = StringIO()
    call_command("demo", "--small", stdout=out)
    assert "already exists" in out.getvalue()
    assert (Unit.objects.count(), Resident.objects.count(), User.objects.count()) == counts


def test_reset_removes_everything_and_builds_again():
    _build_small()
    counts = (Unit.objects.count(), Resident.objects.count(), User.objects.count())
    out = StringIO()
    call_command("demo", "--reset", "--small", stdout=out)
    assert "Deleted the demo company" in out.getvalue()
    assert Company.objects.filter(code=DEMO_COMPANY_CODE).count() == 1
    assert (Unit.objects.count(), Resident.objects.count(), User.objects.count()) == counts


def test_reset_leaves_other_companies_alone(personas):
    _build_small()
    call_command("demo", "--reset", "--small", stdout=StringIO())
    assert Unit.objects.filter(estate=personas.estate_a).count() == 2
    assert User.objects.filter(pk=personas.owner_a101.pk).exists()


def test_an_existing_account_with_a_demo_username_stops_the_build_and_writes_nothing():
    User.objects.create(username="demo_manager", name="someone else")
    with pytest.raises(CommandError, match="demo_manager"):
        call_command("demo", "--small", stdout=StringIO())
    assert not Company.objects.exists()
    assert not Unit.objects.exists()


def test_the_command_prints_progress_and_one_login_per_role():
    out = StringIO()
    call_command("demo", "--small", stdout=out)
    text = out.getvalue()
    assert "Demo built in" in text
    assert DEMO_PASSWORD in text
    for username in ("demo_admin", "demo_manager", "demo_desk1", "demo_tech1", "demo_finance"):
        assert username in text
    assert "13900000002" in text
