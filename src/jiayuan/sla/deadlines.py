"""A request's SLA clocks: started when it is reported, paused while it waits (on hold),
met when it reaches the states that keep each promise, and watched by the SLA check that
warns the handler and escalates breaches up the chain.

The service desk calls `plan` and `save_planned` when a request is created and `moved`
on every change of state, inside its own transaction; the check runs as a periodic job.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiayuan.comms.services import notify
from jiayuan.core.audit import record_event
from jiayuan.core.roles import Role
from jiayuan.servicedesk.models import Kind, ServiceRequest, Status
from jiayuan.sla.calendar import Schedule
from jiayuan.sla.events import SlaEvent
from jiayuan.sla.models import Clock, EscalationStep, RequestTarget, SlaAlert, Target
from jiayuan.sla.policies import escalation_chain, policy_for
from jiayuan.sla.selectors import schedule_for

logger = logging.getLogger(__name__)

S = Status
State = RequestTarget.State

# The states that keep each promise, by kind. Declining answers the owner: it meets
# acceptance and the first response, and stops the rest.
_RESPONDED = {
    Kind.REPAIR: {S.DISPATCHED, S.IN_PROGRESS, S.COMPLETED},
    Kind.COMPLAINT: {S.INVESTIGATING, S.REPLIED},
}
_RESOLVED = {Kind.REPAIR: {S.COMPLETED}}
_SIMPLE_DONE = {S.REPLIED}


def meets(target: str, kind: str, status: str) -> bool:
    """Whether reaching `status` keeps the promise `target` for a request of `kind`."""
    if target == Target.ACCEPT:
        return status not in (S.SUBMITTED, S.CANCELLED)
    if target == Target.RESPONSE:
        return status == S.DECLINED or status in _RESPONDED.get(kind, _SIMPLE_DONE)
    if target == Target.ARRIVAL:
        return status == S.IN_PROGRESS
    return status in _RESOLVED.get(kind, _SIMPLE_DONE)


def applies(target: str, kind: str) -> bool:
    return target != Target.ARRIVAL or kind == Kind.REPAIR


# Leaving these for a working state again (a reopen) runs the resolution clock again.
_REOPENS_RESOLUTION = {S.COMPLETED, S.REPLIED, S.CLOSED}
_FINAL = {S.CLOSED, S.CANCELLED, S.DECLINED}


class Schedules:
    """The schedules of one piece of work, read once per estate and clock."""

    def __init__(self):
        self._cache: dict[tuple, Schedule] = {}

    def of(self, request: ServiceRequest, clock: str) -> Schedule:
        key = (request.company_id, request.estate_id, clock)
        if key not in self._cache:
            self._cache[key] = schedule_for(
                request.company_id, request.estate_id, always_open=clock == Clock.CALENDAR
            )
        return self._cache[key]


# ----------------------------------------------------------------------------- clock arithmetic


def _next_check(row: RequestTarget, schedule: Schedule, chain) -> datetime | None:
    """The next instant the check has something to do for this clock."""
    if row.state != State.RUNNING:
        return None
    if row.breached_at is None:
        return row.warn_at if row.warned_at is None and row.warn_at else row.due_at
    if row.escalation_level < len(chain):
        base = max(row.escalated_at or row.breached_at, row.running_since)
        return schedule.add(base, chain[row.escalation_level].delay_minutes)
    return None


def _run(row: RequestTarget, schedule: Schedule, since: datetime, chain) -> None:
    """Start (or resume) counting at `since`, from the minutes already counted."""
    row.state = State.RUNNING
    row.running_since = since
    row.due_at = schedule.add(since, max(row.minutes - row.elapsed_minutes, 0))
    warn_minutes = row.minutes * row.warn_percent / 100
    row.warn_at = (
        schedule.add(since, warn_minutes - row.elapsed_minutes)
        if row.warned_at is None and row.elapsed_minutes < warn_minutes
        else None
    )
    row.next_check_at = _next_check(row, schedule, chain)


def _count_until(row: RequestTarget, schedule: Schedule, at: datetime) -> None:
    """Stop counting at `at`, keeping the minutes counted so far."""
    if row.running_since is not None:
        row.elapsed_minutes += schedule.between(row.running_since, at)
    row.running_since = None
    row.due_at = None
    row.warn_at = None
    row.next_check_at = None


def elapsed_now(row: RequestTarget, schedule: Schedule, now: datetime) -> float:
    if row.running_since is None:
        return row.elapsed_minutes
    return row.elapsed_minutes + schedule.between(row.running_since, now)


# ----------------------------------------------------------------------------- life cycle


def plan(request: ServiceRequest) -> list[RequestTarget]:
    """The clocks of a new request (not saved yet), started at its creation; sets the
    request's `due_at` to the earliest due time."""
    policy = policy_for(request.company_id, request.estate_id, request)
    schedules = Schedules()
    chain = escalation_chain(request.company_id, request.estate_id)
    rows = []
    for target in Target.values:
        minutes = policy.minutes_of(target)
        if minutes is None or not applies(target, request.kind):
            continue
        row = RequestTarget(
            target=target,
            policy_name=policy.name,
            minutes=minutes,
            clock=policy.clock_of(target),
            warn_percent=policy.warn_percent,
            started_at=request.created_at,
        )
        _run(row, schedules.of(request, row.clock), request.created_at, chain)
        rows.append(row)
    request.due_at = _earliest_due(rows)
    return rows


def save_planned(request: ServiceRequest, rows: list[RequestTarget]) -> None:
    for row in rows:
        row.request = request
    RequestTarget.objects.bulk_create(rows)


def moved(request: ServiceRequest, old_status: str, at: datetime | None = None) -> None:
    """Bring the request's clocks up to its new status (already set, not yet saved) and
    set its `due_at`. Call inside the transaction that holds the request's row lock."""
    at = at or timezone.now()
    new_status = request.status
    rows = list(RequestTarget.objects.filter(request=request))
    if not rows:
        return
    schedules = Schedules()
    chain = _chain_of(request)  # cached per process: no query
    changed = []
    for row in rows:
        if row.state == State.STOPPED or (
            row.state == State.MET and row.target != Target.RESOLUTION
        ):
            continue  # settled for good: only a met resolution can run again
        schedule = schedules.of(request, row.clock)
        before = _tracked(row)
        if row.state == State.RUNNING and meets(row.target, request.kind, new_status):
            _count_until(row, schedule, at)
            row.state, row.met_at = State.MET, at
            row.on_time = row.elapsed_minutes <= row.minutes
            row.handler_id, row.team_id = request.assignee_id, request.team_id
        elif row.state in (State.RUNNING, State.PAUSED) and new_status in _FINAL:
            _count_until(row, schedule, at)
            row.state = State.STOPPED
        elif row.state == State.RUNNING and new_status == S.ON_HOLD:
            _count_until(row, schedule, at)
            row.state = State.PAUSED
        elif row.state == State.PAUSED and new_status != S.ON_HOLD:
            _run(row, schedule, at, chain)
        elif (
            row.target == Target.RESOLUTION
            and row.state == State.MET
            and old_status in _REOPENS_RESOLUTION
            and new_status not in _FINAL
            and not meets(row.target, request.kind, new_status)
        ):
            # The owner said it is not resolved: the clock goes on from where it stopped.
            row.met_at, row.on_time, row.handler_id, row.team_id = None, None, None, None
            _run(row, schedule, at, chain)
        if _tracked(row) != before:
            changed.append(row)
    if changed:
        RequestTarget.objects.bulk_update(changed, _SAVED_FIELDS)
    request.due_at = _earliest_due(rows)


_SAVED_FIELDS = [
    "state",
    "running_since",
    "elapsed_minutes",
    "due_at",
    "warn_at",
    "met_at",
    "on_time",
    "handler_id",
    "team_id",
    "next_check_at",
]


def _tracked(row: RequestTarget) -> tuple:
    return tuple(getattr(row, name) for name in _SAVED_FIELDS)


def _earliest_due(rows) -> datetime | None:
    due = [row.due_at for row in rows if row.state == State.RUNNING and row.due_at]
    return min(due) if due else None


def _chain_of(request: ServiceRequest) -> list[EscalationStep]:
    return escalation_chain(request.company_id, request.estate_id)


def replay(request: ServiceRequest, changes: list[tuple[datetime, str, str]]) -> None:
    """Count the request's clocks again from its history: its creation, then each change
    of state (when, from, to) in order. For histories written after the fact (the demo's,
    an import); live requests are counted as they go."""
    RequestTarget.objects.filter(request=request).delete()
    final = request.status
    request.status = S.SUBMITTED
    save_planned(request, plan(request))
    for at, old, new in changes:
        request.status = new
        moved(request, old, at=at)
    request.status = final
    ServiceRequest.objects.filter(pk=request.pk).update(due_at=request.due_at)


# ----------------------------------------------------------------------------- the check


def check_due(*, now: datetime | None = None, batch: int = 200) -> int:
    """Warn and escalate every clock whose next check time has come; returns how many
    alerts were sent. Each clock is locked while it is handled and what was sent is
    recorded with it, so a second run (or a second worker) sends nothing twice."""
    now = now or timezone.now()
    sent = 0
    while True:
        with transaction.atomic():
            rows = list(
                RequestTarget.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_check_at__lte=now)
                .select_related("request", "request__estate", "request__assignee", "request__team")
                .order_by("next_check_at")[:batch]
            )
            schedules = Schedules()
            staff = _EstateStaff()
            chains: dict[tuple, list] = {}
            for row in rows:
                request = row.request
                key = (request.company_id, request.estate_id)
                if key not in chains:
                    chains[key] = _chain_of(request)
                sent += _check_one(row, schedules.of(request, row.clock), chains[key], staff, now)
            RequestTarget.objects.bulk_update(
                rows,
                ["warned_at", "breached_at", "escalation_level", "escalated_at", "next_check_at"],
            )
        if len(rows) < batch:
            return sent


def _check_one(row: RequestTarget, schedule: Schedule, chain, staff, now: datetime) -> int:
    sent = 0
    if row.warned_at is None and row.warn_at and row.warn_at <= now and row.due_at > now:
        row.warned_at = now
        sent += _alert(row, SlaAlert.WARNING, _warning_recipients(row.request, staff), now)
    if row.breached_at is None and row.due_at and row.due_at <= now:
        row.breached_at = row.due_at
        row.warned_at = row.warned_at or now  # a warning after the breach says nothing new
    while row.breached_at is not None and row.escalation_level < len(chain):
        step = chain[row.escalation_level]
        base = max(row.escalated_at or row.breached_at, row.running_since)
        step_due = schedule.add(base, step.delay_minutes)
        if step_due > now:
            break
        # The next step counts from when this one was due, however late the check ran.
        row.escalation_level += 1
        row.escalated_at = step_due
        sent += _alert(row, step.level, _escalation_recipients(row.request, step, staff), now)
    row.next_check_at = _next_check(row, schedule, chain)
    return sent


# ----------------------------------------------------------------------------- alerts


def _alert(row: RequestTarget, step: int, recipients: list, now: datetime) -> int:
    """Record the step once (a unique row), with its timeline event and notifications."""
    request = row.request
    try:
        with transaction.atomic():
            SlaAlert.objects.create(
                target=row, step=step, at=now, recipients=[u.pk for u in recipients]
            )
    except IntegrityError:
        logger.info("SLA alert %s of target %s was already sent", step, row.pk)
        return 0
    label = row.get_target_display()
    names = "、".join(sorted({u.get_short_name() or u.get_username() for u in recipients}))
    if step == SlaAlert.WARNING:
        code = SlaEvent.WARNED
        title = _("%(number)s: %(target)s is due %(due)s") % {
            "number": request.number,
            "target": label,
            "due": timezone.localtime(row.due_at).strftime("%m-%d %H:%M"),
        }
    else:
        code = SlaEvent.ESCALATED
        title = _("%(number)s is overdue (%(target)s): escalated to you") % {
            "number": request.number,
            "target": label,
        }
    record_event(
        actor=None,
        code=code,
        target=request,
        estate=request.estate,
        after={
            "target": row.target,
            "step": step,
            "due_at": row.due_at.isoformat() if row.due_at else None,
            "to": names,
        },
    )
    if recipients:
        notify(
            recipients=recipients,
            kind="sla",
            title=title,
            body=request.description[:200],
            link=reverse("servicedesk:detail", args=[request.pk]),
            estate=request.estate,
        )
    return 1


class _EstateStaff:
    """The staff of an estate in given roles, read once per batch of the check: a busy
    minute alerts many requests of the same estate."""

    def __init__(self):
        self._found: dict[tuple, list] = {}

    def get(self, estate, roles, *, company_wide_only: bool = False) -> list:
        key = (estate.pk, tuple(roles), company_wide_only)
        if key not in self._found:
            self._found[key] = self._read(estate, roles, company_wide_only)
        return self._found[key]

    @staticmethod
    def _read(estate, roles, company_wide_only: bool) -> list:
        from jiayuan.org.models import Membership

        rows = Membership.objects.filter(
            company_id=estate.company_id, is_active=True, role__in=roles, estate__isnull=True
        )
        if not company_wide_only:
            rows = rows | Membership.objects.filter(estate=estate, is_active=True, role__in=roles)
        return [m.user for m in rows.select_related("user") if m.user.is_active]


def _warning_recipients(request: ServiceRequest, staff: _EstateStaff) -> list:
    """Whoever holds the request; nobody yet: the estate's dispatchers and desk."""
    if request.assignee_id:
        return [request.assignee]
    if request.team_id:
        members = [m.user for m in request.team.memberships.select_related("user")]
        if members:
            return members
    return staff.get(request.estate, [Role.DISPATCHER, Role.SERVICE_DESK])


def _escalation_recipients(
    request: ServiceRequest, step: EscalationStep, staff: _EstateStaff
) -> list:
    recipient = EscalationStep.Recipient
    if step.recipient == recipient.TEAM_LEAD:
        lead = request.team.lead if request.team_id and request.team.lead_id else None
        if lead is not None and lead.is_active:
            return [lead]
        # No team or no lead: the dispatchers answer for the estate's teams.
        return staff.get(request.estate, [Role.DISPATCHER])
    if step.recipient == recipient.ESTATE_MANAGER:
        return staff.get(request.estate, [Role.ESTATE_MANAGER])
    return staff.get(request.estate, [Role.COMPANY_ADMIN], company_wide_only=True)


# ----------------------------------------------------------------------------- display


@dataclass(frozen=True)
class TargetView:
    target: str
    label: str
    state: str
    tone: str  # ok, soon, late, done, missed, paused, off
    words: str
    due_at: datetime | None
    clock: str


def span(minutes: float) -> str:
    """A length of time in words: "2 d 3 h", "1 h 20 min", "35 min"."""
    minutes = round(abs(minutes))
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)d d %(h)d h") % {"d": days, "h": hours}
    if hours:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": mins}
    return _("%(m)d min") % {"m": mins}


def due_words(due_at: datetime, now: datetime) -> tuple[bool, str]:
    """Whether `due_at` has passed, and the time left or overdue in words."""
    left = (due_at - now) / timedelta(minutes=1)
    if left < 0:
        return True, _("Overdue by %(span)s") % {"span": span(left)}
    return False, _("%(span)s left") % {"span": span(left)}


def present(rows, now: datetime | None = None) -> list[TargetView]:
    """Each clock of a request in words and a tone, for pages and the API."""
    now = now or timezone.now()
    views = []
    order = {value: n for n, value in enumerate(Target.values)}
    for row in sorted(rows, key=lambda r: order[r.target]):
        label = str(row.get_target_display())
        if row.state == State.RUNNING:
            late, words = due_words(row.due_at, now)
            warned = row.warned_at is not None or (row.warn_at and row.warn_at <= now)
            tone = "late" if late else "soon" if warned else "ok"
        elif row.state == State.PAUSED:
            tone = "paused"
            words = _("Paused, %(span)s left") % {
                "span": span(max(row.minutes - row.elapsed_minutes, 0))
            }
        elif row.state == State.MET:
            tone = "done" if row.on_time else "missed"
            template = _("Met in %(span)s") if row.on_time else _("Met late, in %(span)s")
            words = template % {"span": span(row.elapsed_minutes)}
        else:
            tone, words = "off", _("Not counted")
        views.append(TargetView(row.target, label, row.state, tone, words, row.due_at, row.clock))
    return views


DUE_SOON = timedelta(hours=1)
DUE_FILTERS = {
    "overdue": gettext_lazy("Overdue"),
    "soon": gettext_lazy("Due within 1 hour"),
}
