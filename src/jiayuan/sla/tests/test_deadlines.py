"""Request clocks: which policy applies, when each target is due, pausing, meeting,
reopening, and the check's warnings and escalations, sent once."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from jiayuan.comms.models import Notification
from jiayuan.core.models import AuditEvent
from jiayuan.org.models import Team
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Category, Kind, ServiceRequest, Urgency
from jiayuan.sla import deadlines, policies
from jiayuan.sla.events import SlaEvent
from jiayuan.sla.models import EscalationStep, RequestTarget, SlaAlert, SlaPolicy, Target
from jiayuan.sla.tasks import sla_check

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
State = RequestTarget.State


def at(*args) -> dt.datetime:
    return dt.datetime(*args, tzinfo=SH)


def report(p, *, kind=Kind.REPAIR, category=Category.PLUMBING, urgency=Urgency.NORMAL):
    return services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=kind,
        category=category,
        urgency=urgency,
        description="厨房水管漏水",
        unit=p.unit_a101,
        reporter=p.resident_a101,
    )


def clocks(request) -> dict[str, RequestTarget]:
    return {row.target: row for row in RequestTarget.objects.filter(request=request)}


def fresh(request) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


# ----------------------------------------------------------------------------- policies


@pytest.mark.parametrize(
    ("kind", "category", "urgency", "expected"),
    [
        (Kind.REPAIR, Category.PLUMBING, Urgency.EMERGENCY, "Emergency repair"),
        (Kind.REPAIR, Category.ELECTRICAL, Urgency.URGENT, "Urgent repair"),
        (Kind.REPAIR, Category.PLUMBING, Urgency.NORMAL, "Repair"),
        (Kind.COMPLAINT, Category.NOISE_NEIGHBOR, Urgency.NORMAL, "Complaint"),
        (Kind.INQUIRY, Category.OTHER, Urgency.NORMAL, "Inquiry"),
        # A fee question follows the fee policy even when it comes as an inquiry.
        (Kind.INQUIRY, Category.BILLING, Urgency.NORMAL, "Fee question"),
        (Kind.SUGGESTION, Category.GREENING, Urgency.NORMAL, "Default"),
    ],
)
def test_the_most_specific_built_in_policy_applies(personas, kind, category, urgency, expected):
    request = ServiceRequest(kind=kind, category=category, urgency=urgency)
    policy = policies.policy_for(personas.company.pk, personas.estate_a.pk, request)
    with_english = dict(zip(policies.DEFAULT_POLICIES, policies.default_policies(1), strict=True))
    names = {default.name: policy.name for default, policy in with_english.items()}
    assert policy.name == names[expected]


def test_an_estate_policy_beats_the_company_one(personas):
    p = personas
    for estate in (None, p.estate_a):
        SlaPolicy.objects.create(
            company=p.company,
            estate=estate,
            name=f"own {estate}",
            kind=Kind.REPAIR,
            accept_minutes=7 if estate else 9,
        )
    SlaPolicy.objects.create(company=p.company, name="catch-all", accept_minutes=11)
    request = ServiceRequest(kind=Kind.REPAIR, category="plumbing", urgency=Urgency.NORMAL)
    assert policies.policy_for(p.company.pk, p.estate_a.pk, request).accept_minutes == 7
    assert policies.policy_for(p.company.pk, p.estate_b.pk, request).accept_minutes == 9
    inquiry = ServiceRequest(kind=Kind.INQUIRY, category="other", urgency=Urgency.NORMAL)
    assert policies.policy_for(p.company.pk, p.estate_b.pk, inquiry).accept_minutes == 11


# ----------------------------------------------------------------------------- due times


def test_an_emergency_counts_around_the_clock(personas, time_machine):
    time_machine.move_to(at(2026, 11, 21, 23, 50), tick=False)  # a Saturday night
    request = report(personas, urgency=Urgency.EMERGENCY)
    rows = clocks(request)
    assert rows[Target.ACCEPT].due_at == at(2026, 11, 21, 23, 55)
    assert rows[Target.ARRIVAL].due_at == at(2026, 11, 22, 0, 20)
    assert fresh(request).due_at == at(2026, 11, 21, 23, 55)


def test_a_normal_repair_counts_business_hours_over_the_weekend(personas, time_machine):
    # Friday 17:00: one working hour left that day (08:30–12:00, 13:30–18:00).
    time_machine.move_to(at(2026, 11, 20, 17, 0), tick=False)
    request = report(personas)
    rows = clocks(request)
    assert set(rows) == {Target.ACCEPT, Target.RESPONSE, Target.RESOLUTION}
    assert rows[Target.ACCEPT].due_at == at(2026, 11, 23, 9, 30)  # 60 + 60 minutes
    # 24 business hours = 1 h on Friday, 8 h on Monday and Tuesday, 7 h on Wednesday.
    assert rows[Target.RESPONSE].due_at == at(2026, 11, 25, 17, 0)


def test_the_national_day_holiday_and_its_make_up_saturday(personas, time_machine):
    # 2026-09-30 (Wednesday) 17:00; 1–7 October are holidays, Saturday 10 October is worked.
    time_machine.move_to(at(2026, 9, 30, 17, 0), tick=False)
    rows = clocks(report(personas))
    assert rows[Target.ACCEPT].due_at == at(2026, 10, 8, 9, 30)
    # 24 h: 1 h on 30 Sept, then 8, 9, 10 (the make-up Saturday) October: 21 h, then 2 h.
    # 24 h: 1 h on 30 September, 8 h on 8 and 9 October, 7 h on Saturday 10 October.
    assert rows[Target.RESPONSE].due_at == at(2026, 10, 10, 17, 0)


# ----------------------------------------------------------------------------- the life cycle


def test_each_target_is_met_by_its_step_and_records_who(personas, time_machine):
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p)
    time_machine.move_to(at(2026, 11, 23, 9, 20), tick=False)
    request = services.request_accept(actor=p.clerk_a, request=request)
    time_machine.move_to(at(2026, 11, 23, 10, 0), tick=False)
    request = services.request_dispatch(
        actor=p.dispatcher_a, request=request, assignee=p.technician_a, team=p.team_a
    )
    rows = clocks(request)
    assert rows[Target.ACCEPT].state == State.MET
    assert rows[Target.ACCEPT].elapsed_minutes == pytest.approx(20)
    assert rows[Target.ACCEPT].on_time is True
    assert rows[Target.RESPONSE].state == State.MET
    assert rows[Target.RESPONSE].handler_id == p.technician_a.pk
    assert rows[Target.RESPONSE].team_id == p.team_a.pk
    assert rows[Target.RESOLUTION].state == State.RUNNING
    assert fresh(request).due_at == rows[Target.RESOLUTION].due_at


def test_a_hold_stops_the_clock_and_resuming_never_shortens_it(personas, time_machine):
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p)
    request = services.request_dispatch(
        actor=p.dispatcher_a, request=request, assignee=p.technician_a
    )
    due_before = clocks(request)[Target.RESOLUTION].due_at
    time_machine.move_to(at(2026, 11, 23, 10, 0), tick=False)
    request = services.request_hold(actor=p.dispatcher_a, request=request, reason="等配件")
    held = clocks(request)[Target.RESOLUTION]
    assert (held.state, held.due_at, held.elapsed_minutes) == (State.PAUSED, None, 60)
    assert fresh(request).due_at is None
    time_machine.move_to(at(2026, 11, 24, 10, 0))  # a whole working day later
    request = services.request_resume(actor=p.dispatcher_a, request=request)
    resumed = clocks(request)[Target.RESOLUTION]
    assert resumed.state == State.RUNNING
    assert resumed.due_at > due_before
    assert resumed.due_at - due_before == dt.timedelta(days=1)


def test_a_rejected_completion_runs_the_resolution_clock_again(personas, time_machine):
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p)
    request = services.request_dispatch(
        actor=p.dispatcher_a, request=request, assignee=p.technician_a
    )
    request = services.request_arrive(actor=p.technician_a, request=request)
    time_machine.move_to(at(2026, 11, 23, 11, 0), tick=False)
    request = services.request_complete(
        actor=p.technician_a, request=request, work_notes="换了阀门"
    )
    assert clocks(request)[Target.RESOLUTION].state == State.MET
    time_machine.move_to(at(2026, 11, 24, 9, 0), tick=False)
    request = services.request_reopen(actor=p.clerk_a, request=request, reason="还在漏")
    again = clocks(request)[Target.RESOLUTION]
    assert (again.state, again.met_at, again.on_time) == (State.RUNNING, None, None)
    assert again.elapsed_minutes == pytest.approx(120)


def test_a_cancelled_request_stops_its_clocks(personas, time_machine):
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p)
    services.request_cancel(actor=p.clerk_a, request=request, reason="业主自行修好")
    assert {row.state for row in clocks(request).values()} == {State.STOPPED}
    assert {row.next_check_at for row in clocks(request).values()} == {None}


# ----------------------------------------------------------------------------- the check


def _alerts(request, code):
    return AuditEvent.objects.filter(target_id=str(request.pk), code=code)


def test_warning_then_escalation_up_the_chain_each_sent_once(personas, time_machine):
    p = personas
    Team.objects.filter(pk=p.team_a.pk).update(lead=p.dispatcher_a)
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=Kind.REPAIR,
        category=Category.ELECTRICAL,
        urgency=Urgency.EMERGENCY,
        description="配电箱冒烟",
        common_area=p.lobby_a,
        channel="staff",
    )
    request = services.request_dispatch(
        actor=p.dispatcher_a, request=request, assignee=p.technician_a, team=p.team_a
    )
    # Arrival within 30 minutes: the warning at 80%, 24 minutes in.
    time_machine.move_to(at(2026, 11, 23, 9, 23), tick=False)
    assert sla_check.enqueue().return_value == 0
    time_machine.move_to(at(2026, 11, 23, 9, 24), tick=False)
    assert sla_check.enqueue().return_value == 1
    assert sla_check.enqueue().return_value == 0
    warning = _alerts(request, SlaEvent.WARNED).get()
    assert warning.after["target"] == Target.ARRIVAL
    assert Notification.objects.filter(recipient=p.technician_a, kind="sla").count() == 1

    # Breached at 09:30: the team lead at once, the estate manager an hour later, the
    # company's service director four hours after that.
    time_machine.move_to(at(2026, 11, 23, 9, 30), tick=False)
    assert sla_check.enqueue().return_value == 1
    assert Notification.objects.filter(recipient=p.dispatcher_a, kind="sla").count() == 1
    time_machine.move_to(at(2026, 11, 23, 10, 29), tick=False)
    assert sla_check.enqueue().return_value == 0
    time_machine.move_to(at(2026, 11, 23, 10, 30), tick=False)
    assert sla_check.enqueue().return_value == 1
    assert Notification.objects.filter(recipient=p.manager_a, kind="sla").count() == 1
    time_machine.move_to(at(2026, 11, 23, 15, 0), tick=False)
    assert sla_check.enqueue().return_value == 1
    assert sla_check.enqueue().return_value == 0
    assert Notification.objects.filter(recipient=p.company_admin, kind="sla").count() == 1
    assert _alerts(request, SlaEvent.ESCALATED).count() == 3
    arrival = clocks(request)[Target.ARRIVAL]
    assert (arrival.escalation_level, arrival.next_check_at) == (3, None)
    assert SlaAlert.objects.filter(target=arrival).count() == 4


def test_a_late_check_sends_every_due_step_once(personas, time_machine):
    """After downtime the check catches up: breach and the due steps, no warning."""
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p, urgency=Urgency.EMERGENCY)
    time_machine.move_to(at(2026, 11, 23, 11, 0), tick=False)
    sent = sla_check.enqueue().return_value
    assert sent > 0
    assert _alerts(request, SlaEvent.WARNED).count() == 0
    assert sla_check.enqueue().return_value == 0


def test_a_met_target_is_not_escalated(personas, time_machine):
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p, urgency=Urgency.EMERGENCY)
    time_machine.move_to(at(2026, 11, 23, 9, 2), tick=False)
    services.request_accept(actor=p.clerk_a, request=request)
    time_machine.move_to(at(2026, 11, 23, 9, 10), tick=False)
    sla_check.enqueue()
    accept = clocks(request)[Target.ACCEPT]
    assert accept.state == State.MET
    assert not SlaAlert.objects.filter(target=accept).exists()


def test_an_alert_recorded_already_is_not_sent_again(personas, time_machine):
    """Even if a clock's bookkeeping were lost, the unique alert row stops a second send."""
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p, urgency=Urgency.EMERGENCY)
    time_machine.move_to(at(2026, 11, 23, 9, 4, 30), tick=False)
    assert sla_check.enqueue().return_value == 1  # acceptance: warned at 4 minutes
    RequestTarget.objects.filter(request=request, target=Target.ACCEPT).update(
        warned_at=None, next_check_at=at(2026, 11, 23, 9, 4)
    )
    assert sla_check.enqueue().return_value == 0
    assert _alerts(request, SlaEvent.WARNED).count() == 1


def test_the_escalation_chain_of_the_estate_is_used(personas, time_machine):
    p = personas
    EscalationStep.objects.create(
        company=p.company,
        estate=p.estate_a,
        level=1,
        recipient=EscalationStep.Recipient.SERVICE_DIRECTOR,
        delay_minutes=0,
    )
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    report(p, urgency=Urgency.EMERGENCY)
    time_machine.move_to(at(2026, 11, 23, 9, 6), tick=False)
    sla_check.enqueue()
    assert Notification.objects.filter(recipient=p.company_admin, kind="sla").exists()
    assert not Notification.objects.filter(recipient=p.manager_a, kind="sla").exists()


def test_present_words_and_tones(personas, time_machine):
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    request = report(p, urgency=Urgency.EMERGENCY)
    time_machine.move_to(at(2026, 11, 23, 9, 3), tick=False)
    views = {v.label: v for v in deadlines.present(clocks(request).values())}
    accept = views[str(Target.ACCEPT.label)]
    assert accept.tone == "ok"
    assert "2" in accept.words
    time_machine.move_to(at(2026, 11, 23, 9, 45), tick=False)
    views = {v.label: v for v in deadlines.present(clocks(request).values())}
    assert views[str(Target.ARRIVAL.label)].tone == "late"


@pytest.mark.parametrize("default", policies.DEFAULT_POLICIES, ids=lambda d: d.name)
def test_each_built_in_target_is_planned_on_its_clock(personas, time_machine, default):
    """A request matching each built-in policy gets exactly its targets, minutes and
    clocks (arrival only for repairs)."""
    p = personas
    time_machine.move_to(at(2026, 11, 23, 9, 0), tick=False)
    kind = default.kind or (Kind.INQUIRY if default.category else Kind.SUGGESTION)
    request = services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=kind,
        category=default.category or Category.OTHER,
        urgency=default.urgency or Urgency.NORMAL,
        description="测试",
        channel="staff",
    )
    expected = {
        target: getattr(default, target)
        for target in policies.TARGETS
        if getattr(default, target) and (target != Target.ARRIVAL or kind == Kind.REPAIR)
    }
    rows = clocks(request)
    assert {t: (r.minutes, r.clock) for t, r in rows.items()} == expected
    for row in rows.values():
        schedule = deadlines.Schedules().of(request, row.clock)
        assert row.due_at == schedule.add(request.created_at, row.minutes)
