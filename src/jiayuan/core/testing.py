"""Personas shared by every test: two estates of one company, a third estate of another
company, staff of each role that matters, two owners and two outsiders."""

import importlib.util
import sys
import threading
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from django.db import connection
from django.test import Client

from jiayuan.accounts.models import User
from jiayuan.core.roles import Role
from jiayuan.org.models import (
    Building,
    CommonArea,
    Company,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
)

PASSWORD = "Jiayuan-test-2026"  # noqa: S105 - the personas' password in tests only


@dataclass
class Personas:
    company: Company
    other_company: Company
    estate_a: Estate
    estate_b: Estate
    estate_c: Estate  # the other company's
    building_a1: Building
    building_b1: Building
    building_c1: Building
    unit_a101: Unit
    unit_a102: Unit
    unit_b101: Unit
    unit_c101: Unit
    lobby_a: CommonArea
    team_a: Team
    company_admin: User
    manager_a: User
    clerk_a: User
    dispatcher_a: User
    technician_a: User
    security_a: User
    clerk_b: User
    owner_a101: User
    owner_a102: User
    resident_a101: Resident
    resident_a102: Resident
    outsider: User  # staff of the other company
    stranger: User  # an account with no role and no home

    def client_for(self, user: User) -> Client:
        client = Client()
        client.force_login(user)
        return client


def make_user(username: str, name: str, mobile: str | None = None) -> User:
    user = User(username=username, name=name, mobile=mobile, email=f"{username}@example.com")
    user.set_password(PASSWORD)
    user.save()
    return user


def make_staff(username: str, name: str, estate: Estate | None, role: str, company=None) -> User:
    user = make_user(username, name)
    Membership.objects.create(
        user=user, company=company or estate.company, estate=estate, role=role
    )
    return user


def make_owner(username: str, name: str, mobile: str, unit: Unit) -> tuple[User, Resident]:
    user = make_user(username, name, mobile)
    resident = Resident.objects.create(
        company=unit.estate.company, user=user, name=name, mobile=mobile
    )
    Residency.objects.create(resident=resident, unit=unit, relation=Residency.Relation.OWNER)
    return user, resident


def make_building(estate: Estate, name: str) -> Building:
    return Building.objects.create(estate=estate, name=name, floors_above=18)


def make_unit(building: Building, number: str, floor: int = 1) -> Unit:
    return Unit.objects.create(
        estate=building.estate,
        building=building,
        number=number,
        floor=floor,
        gross_area=Decimal("89.50"),
        inner_area=Decimal("72.30"),
    )


def build_personas() -> Personas:
    company = Company.objects.create(name="幸福物业", code="xingfu")
    other = Company.objects.create(name="远方物业", code="yuanfang")
    estate_a = Estate.objects.create(
        company=company, name="阳光花园", code="A", kind=Estate.Kind.RESIDENTIAL
    )
    estate_b = Estate.objects.create(
        company=company, name="金融中心", code="B", kind=Estate.Kind.COMMERCIAL
    )
    estate_c = Estate.objects.create(
        company=other, name="远方小区", code="C", kind=Estate.Kind.RESIDENTIAL
    )
    building_a1 = make_building(estate_a, "1号楼")
    building_b1 = make_building(estate_b, "A座")
    building_c1 = make_building(estate_c, "1栋")
    unit_a101 = make_unit(building_a1, "101")
    unit_a102 = make_unit(building_a1, "102")
    unit_b101 = make_unit(building_b1, "101")
    unit_c101 = make_unit(building_c1, "101")
    lobby_a = CommonArea.objects.create(
        estate=estate_a, building=building_a1, name="1号楼大堂", kind=CommonArea.Kind.LOBBY
    )
    technician_a = make_staff("tech_a", "王师傅", estate_a, Role.TECHNICIAN)
    team_a = Team.objects.create(estate=estate_a, name="工程部", skills=["plumbing", "electrical"])
    TeamMember.objects.create(team=team_a, user=technician_a)
    owner_a101, resident_a101 = make_owner("owner_a101", "张伟", "13800138001", unit_a101)
    owner_a102, resident_a102 = make_owner("owner_a102", "李娜", "13800138002", unit_a102)
    return Personas(
        company=company,
        other_company=other,
        estate_a=estate_a,
        estate_b=estate_b,
        estate_c=estate_c,
        building_a1=building_a1,
        building_b1=building_b1,
        building_c1=building_c1,
        unit_a101=unit_a101,
        unit_a102=unit_a102,
        unit_b101=unit_b101,
        unit_c101=unit_c101,
        lobby_a=lobby_a,
        team_a=team_a,
        company_admin=make_staff("admin", "赵总", None, Role.COMPANY_ADMIN, company=company),
        manager_a=make_staff("manager_a", "刘经理", estate_a, Role.ESTATE_MANAGER),
        clerk_a=make_staff("clerk_a", "陈客服", estate_a, Role.SERVICE_DESK),
        dispatcher_a=make_staff("dispatcher_a", "周调度", estate_a, Role.DISPATCHER),
        technician_a=technician_a,
        security_a=make_staff("security_a", "孙保安", estate_a, Role.SECURITY),
        clerk_b=make_staff("clerk_b", "吴客服", estate_b, Role.SERVICE_DESK),
        owner_a101=owner_a101,
        owner_a102=owner_a102,
        resident_a101=resident_a101,
        resident_a102=resident_a102,
        outsider=make_staff("outsider", "外人", estate_c, Role.ESTATE_MANAGER),
        stranger=make_user("stranger", "路人"),
    )


def at_once(*calls) -> list:
    """Run each call in its own thread, all released together; each result is what the
    call returned or the exception it raised."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=5)
            results[index] = call()
        except Exception as exc:
            results[index] = exc
        finally:
            connection.close()  # the thread's own connection

    threads = [threading.Thread(target=run, args=item) for item in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)
    return results


BENCH = Path(__file__).resolve().parents[3] / "bench"


def load_bench(name: str):
    """A benchmark script under bench/ as a module, for the smoke test that keeps it
    runnable."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module
