"""Technicians with skills and shifts in estate A of the shared personas."""

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.utils import translation

from jiayuan.core.roles import Role
from jiayuan.core.testing import Personas, build_personas, make_building, make_staff, make_unit
from jiayuan.dispatch import services
from jiayuan.servicedesk import services as desk
from jiayuan.servicedesk.models import Kind

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday morning: the day shift (08:00–18:00) is on, the night shift is not.
MORNING = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
DAY_SHIFT = [(d, dt.time(8), dt.time(18)) for d in range(7)]
NIGHT_SHIFT = [(d, dt.time(20), dt.time(8)) for d in range(7)]
# Different faults, so that none is taken for a duplicate report of another.
FAULTS = ("厨房水龙头一直滴水", "马桶水箱不停进水", "阳台地漏堵了返臭", "热水器进水阀门拧不动")


@dataclass
class Crew:
    p: Personas
    plumber: object  # day shift, plumbing expert, building 1
    electrician: object  # day shift, electrical only
    night_plumber: object  # night shift, plumbing
    building_9: object
    unit_901: object

    def repair(self, category="plumbing", unit=None, text="卫生间水管漏水", urgency="normal"):
        return desk.request_create(
            actor=self.p.clerk_a,
            estate=self.p.estate_a,
            kind=Kind.REPAIR,
            category=category,
            urgency=urgency,
            description=text,
            unit=unit or self.p.unit_a101,
            reporter=self.p.resident_a101,
        )


def technician(p, username, name, skills, shifts, max_open=5, buildings=()):
    user = make_staff(username, name, p.estate_a, Role.TECHNICIAN)
    services.profile_save(
        actor=p.dispatcher_a,
        estate=p.estate_a,
        user=user,
        skills=skills,
        shifts=shifts,
        max_open=max_open,
        buildings=buildings,
    )
    return user


def build_crew() -> Crew:
    p = build_personas()
    building_9 = make_building(p.estate_a, "9号楼")
    return Crew(
        p=p,
        plumber=technician(p, "plumber", "钱师傅", {"plumbing": 3}, DAY_SHIFT),
        electrician=technician(p, "electrician", "孙电工", {"electrical": 2}, DAY_SHIFT),
        night_plumber=technician(p, "night", "夜班李", {"plumbing": 1}, NIGHT_SHIFT),
        building_9=building_9,
        unit_901=make_unit(building_9, "901"),
    )


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def crew(db, morning):
    return build_crew()
