"""KPI definitions on a small hand-built month, computed by hand and compared with what the
dashboard reads from its rollups; and the rollups proven equal to the raw records, after a
full rebuild and after the job's incremental runs."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jiayuan.dashboard import rollups, selectors
from jiayuan.dashboard.facts import facts_of
from jiayuan.dashboard.models import MEASURES, MonthStat
from jiayuan.dashboard.periods import parse_period
from jiayuan.servicedesk import services as desk
from jiayuan.servicedesk.models import Kind, ServiceRequest

SHANGHAI = ZoneInfo("Asia/Shanghai")
START = dt.datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)
JUNE = parse_period("2026-06", today=dt.date(2026, 7, 1))


class Clock:
    """Moves a time machine forward by minutes, so each step happens at a known time."""

    def __init__(self, traveller):
        self.traveller = traveller
        self.now = START

    def at(self, when):
        self.now = when
        self.traveller.move_to(when)

    def after(self, minutes):
        self.at(self.now + dt.timedelta(minutes=minutes))


def owner_repair(p, text, category="plumbing"):
    return desk.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind=Kind.REPAIR,
        category=category,
        description=text,
        unit=p.unit_a101,
    )


def refresh(request):
    request.refresh_from_db()
    return request


@pytest.fixture
def month(personas):
    """Seven requests of June in estate A:
    R1 repair: accepted 10 min, dispatched 20, arrived 60, completed 120, confirmed, rated 4.
    R2 repair: accepted 30, arrived 90, completed 150, reopened, completed 300, rated 2.
    R3 inquiry taken by the clerk: accepted 5, replied 15, confirmed (first contact).
    R4 repair cancelled by the owner.
    R5, R6 complaints about the same flat's noise, 18 days apart (R6 repeats R5).
    R7 repair put on hold for 120 minutes, then resumed; still open."""
    p = personas
    with time_machine.travel(START, tick=False) as traveller:
        clock = Clock(traveller)
        r1 = owner_repair(p, "厨房水龙头一直滴水")
        clock.after(10)
        desk.request_accept(actor=p.clerk_a, request=r1)
        clock.after(10)
        desk.request_dispatch(actor=p.dispatcher_a, request=refresh(r1), assignee=p.technician_a)
        clock.after(40)
        desk.request_arrive(actor=p.technician_a, request=refresh(r1))
        clock.after(60)
        desk.request_complete(actor=p.technician_a, request=refresh(r1), work_notes="换阀芯")
        clock.after(30)
        desk.request_confirm(actor=p.owner_a101, request=refresh(r1))
        desk.request_rate(
            actor=p.owner_a101, request=refresh(r1), overall=4, timeliness=3, attitude=5, quality=4
        )

        clock.at(START + dt.timedelta(days=1))
        r2 = owner_repair(p, "卫生间地漏堵了返臭")
        clock.after(30)
        desk.request_accept(actor=p.clerk_a, request=r2)
        desk.request_dispatch(actor=p.dispatcher_a, request=refresh(r2), assignee=p.technician_a)
        clock.after(60)
        desk.request_arrive(actor=p.technician_a, request=refresh(r2))
        clock.after(60)
        desk.request_complete(actor=p.technician_a, request=refresh(r2), work_notes="疏通")
        clock.after(10)
        desk.request_reopen(actor=p.owner_a101, request=refresh(r2), reason="还是堵")
        clock.after(20)
        desk.request_arrive(actor=p.technician_a, request=refresh(r2))
        clock.after(120)
        desk.request_complete(actor=p.technician_a, request=refresh(r2), work_notes="换存水弯")
        desk.request_confirm(actor=p.owner_a101, request=refresh(r2))
        desk.request_rate(actor=p.owner_a101, request=refresh(r2), overall=2)

        clock.at(START + dt.timedelta(days=2))
        r3 = desk.request_create(
            actor=p.clerk_a,
            estate=p.estate_a,
            kind=Kind.INQUIRY,
            category="billing",
            description="物业费怎么交",
            reporter=p.resident_a101,
            unit=p.unit_a101,
            channel="phone",
        )
        clock.after(5)
        desk.request_accept(actor=p.clerk_a, request=r3)
        clock.after(10)
        desk.request_reply(actor=p.clerk_a, request=refresh(r3), reply="可在业主端缴费")
        desk.request_confirm(actor=p.clerk_a, request=refresh(r3))

        r4 = owner_repair(p, "阳台推拉门卡住了", category="doors_locks")
        desk.request_cancel(actor=p.owner_a101, request=r4, reason="自己修好了")

        clock.at(START + dt.timedelta(days=2, hours=3))
        r5 = desk.request_create(
            actor=p.owner_a101,
            estate=p.estate_a,
            kind=Kind.COMPLAINT,
            category="noise_neighbor",
            description="楼上半夜装修",
            unit=p.unit_a101,
        )
        clock.at(START + dt.timedelta(days=20))
        r6 = desk.request_create(
            actor=p.owner_a101,
            estate=p.estate_a,
            kind=Kind.COMPLAINT,
            category="noise_neighbor",
            description="楼上又在半夜装修",
            unit=p.unit_a101,
        )
        clock.at(START + dt.timedelta(days=21))
        r7 = owner_repair(p, "热水器打不着火", category="gas")
        desk.request_accept(actor=p.clerk_a, request=r7)
        desk.request_hold(actor=p.clerk_a, request=refresh(r7), reason="等配件")
        clock.after(120)
        desk.request_resume(actor=p.clerk_a, request=refresh(r7))
    return {"r1": r1, "r2": r2, "r3": r3, "r4": r4, "r5": r5, "r6": r6, "r7": r7}


@pytest.fixture
def june(month, personas):
    rollups.refresh(personas.company)
    return selectors.kpis_of(personas.manager_a, selectors.Scope(personas.company.pk), JUNE)


def test_volume_and_rates_by_hand(june):
    assert june.received == 7
    assert june.cancelled == 1
    assert june.counted == 6
    # R1, R2 (repairs completed and confirmed), R3 (inquiry replied and confirmed).
    assert june.resolved == 3
    assert june.resolution_rate == pytest.approx(50.0)
    assert june.first_contact == 1
    assert june.first_contact_rate == pytest.approx(33.3)
    assert june.completed_repairs == 2
    assert june.first_time_fixed == 1
    assert june.first_time_fix_rate == pytest.approx(50.0)
    assert june.reopen_rate == pytest.approx(33.3)


def test_complaints_ratings_and_repeats_by_hand(june):
    assert june.complaints == 2
    assert june.repeat_complaints == 1
    assert june.rated == 2
    assert june.average_rating == pytest.approx(3.0)
    assert june.low_rating_rate == pytest.approx(50.0)
    dimensions = dict(june.rating_dimensions)
    # R1 rated 3/5/4, R2 rated 2 overall (its dimensions default to the overall score).
    assert list(dimensions.values()) == [pytest.approx(2.5), pytest.approx(3.5), pytest.approx(3.0)]


def test_times_and_stages_by_hand(june):
    # First response: R1 10, R2 30, R3 5, R7 0 minutes → median (nearest rank) 5.
    assert june.response_count == 4
    assert june.response_minutes == 45
    median, p90 = june.times["response"]
    assert median == pytest.approx(5, rel=0.03)
    assert p90 == pytest.approx(30, rel=0.03)
    # Arrival (repairs): R1 60; R2 arrived again after the reopen, at 180.
    assert june.arrival_count == 2
    assert june.arrival_minutes == 60 + 180
    # Resolution: R1 120, R2 300 (its last completion), R3 15.
    assert june.resolution_minutes == 120 + 300 + 15
    funnel = {stage: (mean, count) for stage, _label, mean, count in june.funnel}
    assert funnel["on_hold"] == (120, 1)
    assert funnel["wait_accept"] == (pytest.approx(45 / 4), 4)
    assert funnel["investigate"] == (10, 1)
    # Waiting for the technician: R1 40, R2 150 (dispatched at 30, there at 180) → 95;
    # R7's 120 minutes on hold weigh more.
    assert funnel["wait_arrival"] == (95, 2)
    label, mean, kpi = june.bottleneck
    assert (label, mean, kpi) == (selectors.STAGE_LABELS["on_hold"], 120, "resolution_time")


def test_rollups_equal_the_raw_records(month, personas):
    rollups.refresh(personas.company)
    start, end = JUNE.bounds()
    raw = {name: 0 for name in MEASURES}
    for _row, record in rollups.read_records(personas.estate_a.pk, start, end):
        for name, value in facts_of(record).items():
            raw[name] += value
    stored = selectors.kpis_of(personas.company_admin, selectors.Scope(personas.company.pk), JUNE)
    assert stored.totals == raw


def test_incremental_runs_match_a_full_rebuild(month, personas):
    with time_machine.travel(dt.datetime(2026, 6, 25, 9, tzinfo=SHANGHAI), tick=False) as clock:
        rollups.refresh(personas.company)
        clock.move_to(dt.datetime(2026, 6, 25, 10, tzinfo=SHANGHAI))
        r3 = ServiceRequest.objects.get(pk=month["r3"].pk)
        desk.request_rate(actor=personas.owner_a101, request=r3, overall=1)
        r7 = ServiceRequest.objects.get(pk=month["r7"].pk)
        desk.request_cancel(actor=personas.clerk_a, request=r7, reason="业主不需要了")
        clock.move_to(dt.datetime(2026, 6, 25, 11, tzinfo=SHANGHAI))
        assert rollups.refresh(personas.company) == 1
        incremental = list(MonthStat.objects.order_by("id").values(*MEASURES))
        rollups.refresh(personas.company, rebuild_all=True)
        rebuilt = list(MonthStat.objects.order_by("id").values(*MEASURES))
    assert sorted(map(sorted, (r.items() for r in incremental))) == sorted(
        map(sorted, (r.items() for r in rebuilt))
    )
    totals = selectors.kpis_of(personas.manager_a, selectors.Scope(personas.company.pk), JUNE)
    assert totals.rated == 3
    assert totals.cancelled == 2


def test_outsider_and_other_estate_see_no_numbers(june, personas):
    scope = selectors.Scope(personas.company.pk)
    assert selectors.kpis_of(personas.outsider, scope, JUNE).received == 0
    assert selectors.kpis_of(personas.clerk_b, scope, JUNE).received == 0
    assert selectors.kpis_of(personas.technician_a, scope, JUNE).received == 0


def test_people_kpis_by_hand(month, personas):
    people = {personas.technician_a.pk: "tech"}
    (tech,) = selectors.people_kpis(personas.manager_a, people, personas.estate_a, JUNE)
    # R1 and R2 dispatched to the technician; R2's reopen gives it back to them.
    assert tech.handled >= 2
    assert tech.repairs_completed == tech.handled
    assert tech.average_rating is not None


def test_auto_ratings_and_merged_duplicates_by_hand(personas):
    """A repair the owner never confirmed is closed and rated automatically: it counts as
    resolved and auto-rated but not in the average. A second report joined to it as a
    duplicate is received, not counted, and adds no time."""
    from jiayuan.servicedesk.incidents import incident_link

    p = personas
    with time_machine.travel(START, tick=False) as traveller:
        parent = owner_repair(p, "电梯按钮失灵，按了没反应", category="elevator")
        desk.request_accept(actor=p.clerk_a, request=parent)
        child = owner_repair(p, "电梯坏了，按键没有反应", category="elevator")
        incident_link(actor=p.clerk_a, request=child, parent=refresh(parent))
        desk.request_dispatch(
            actor=p.dispatcher_a, request=refresh(parent), assignee=p.technician_a
        )
        traveller.move_to(START + dt.timedelta(hours=1))
        desk.request_arrive(actor=p.technician_a, request=refresh(parent))
        desk.request_complete(actor=p.technician_a, request=refresh(parent), work_notes="换按钮")
        rated = owner_repair(p, "阳台灯不亮了", category="electrical")
        for step in ("accept", "dispatch", "arrive", "complete", "confirm"):
            kwargs = {"assignee": p.technician_a} if step == "dispatch" else {}
            kwargs |= {"work_notes": "换灯泡"} if step == "complete" else {}
            actor = {"accept": p.clerk_a, "dispatch": p.dispatcher_a, "confirm": p.owner_a101}.get(
                step, p.technician_a
            )
            getattr(desk, f"request_{step}")(actor=actor, request=refresh(rated), **kwargs)
        desk.request_rate(actor=p.owner_a101, request=refresh(rated), overall=3)
        traveller.move_to(START + dt.timedelta(days=3))
        assert desk.auto_close_due() >= 1
    rollups.refresh(p.company)
    june = selectors.kpis_of(p.manager_a, selectors.Scope(p.company.pk), JUNE)
    assert (june.received, june.duplicates, june.counted) == (3, 1, 2)
    assert june.resolved == 2
    assert (june.rated, june.auto_rated, june.average_rating) == (1, 1, 3.0)
    # Arrival: only the incident's own (60 minutes) and the other repair's (0).
    assert june.arrival_count == 2 and june.arrival_minutes == 60
