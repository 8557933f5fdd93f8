"""Reading the estate as the dispatcher sees it: who is able now, where they are, how much
they hold, and which requests wait."""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q
from django.utils import timezone

from jiayuan.core.memo import Memo
from jiayuan.dispatch import assignment
from jiayuan.dispatch.models import DispatchRule, Mode, TechnicianProfile, on_duty
from jiayuan.org.models import Building
from jiayuan.servicedesk.models import Kind, ServiceRequest, Status
from jiayuan.sla.calendar import DEFAULT_TIME_ZONE
from jiayuan.sla.models import RequestTarget, Target

# Orders a technician holds: sent to them and not yet finished.
HELD = (Status.DISPATCHED, Status.IN_PROGRESS, Status.ON_HOLD)
WAITING = (Status.SUBMITTED, Status.ACCEPTED)
PLACE_MEMORY = timedelta(hours=12)


def local_now(now: datetime | None = None) -> datetime:
    return timezone.localtime(now or timezone.now(), zoneinfo.ZoneInfo(DEFAULT_TIME_ZONE))


def _natural(name: str):
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def building_order(estate_id: int) -> dict[int, int]:
    """Building id → its position along the estate (1号楼, 2号楼 … 10号楼)."""
    names = Building.objects.filter(estate_id=estate_id).values_list("id", "name")
    ordered = sorted(names, key=lambda row: _natural(row[1]))
    return {pk: position for position, (pk, _name) in enumerate(ordered)}


@dataclass
class Able:
    """A technician profile with the solver's view of them."""

    profile: TechnicianProfile
    worker: assignment.Worker


def technicians(estate_id: int, now: datetime | None = None, order=None) -> list[Able]:
    """The estate's active technician profiles, with shift, load and place now. Four
    queries whatever the number of technicians."""
    order = building_order(estate_id) if order is None else order
    local = local_now(now)
    profiles = list(
        TechnicianProfile.objects.filter(estate_id=estate_id, is_active=True, user__is_active=True)
        .select_related("user", "team")
        .prefetch_related("shifts", "buildings")
    )
    users = [p.user_id for p in profiles]
    held = dict(
        ServiceRequest.objects.filter(estate_id=estate_id, assignee_id__in=users, status__in=HELD)
        .values("assignee_id")
        .annotate(n=Count("id"))
        .values_list("assignee_id", "n")
    )
    # Where each is: the building of the order they were last sent to today (older work
    # says nothing of where they are, and reading all of it would grow with the years).
    places: dict[int, int] = {}
    latest = (
        ServiceRequest.objects.filter(
            estate_id=estate_id,
            assignee_id__in=users,
            building__isnull=False,
            dispatched_at__gte=(now or timezone.now()) - PLACE_MEMORY,
        )
        .filter(Q(status__in=HELD) | Q(arrived_at__isnull=False))
        .order_by("assignee_id", "-dispatched_at")
        .values_list("assignee_id", "building_id")
    )
    for user_id, building_id in latest:
        places.setdefault(user_id, building_id)
    found = []
    for profile in profiles:
        worker = assignment.Worker(
            key=profile.user_id,
            skills={code: int(level) for code, level in profile.skills.items() if level},
            on_duty=on_duty(profile.shifts.all(), local),
            load=held.get(profile.user_id, 0),
            cap=profile.max_open,
            place=order.get(places.get(profile.user_id)),
            covers=frozenset(order[b.pk] for b in profile.buildings.all() if b.pk in order),
        )
        found.append(Able(profile, worker))
    return found


def job_of(request: ServiceRequest, order: dict[int, int], now: datetime | None = None):
    now = now or timezone.now()
    due = _arrival_due({request.pk}).get(request.pk, request.due_at)
    return _job(request, order, due, now)


def _job(request, order, due, now) -> assignment.Job:
    return assignment.Job(
        key=request.pk,
        category=request.category,
        urgency=request.urgency,
        place=order.get(request.building_id),
        minutes_left=None if due is None else (due - now).total_seconds() / 60,
    )


def _arrival_due(request_ids) -> dict[int, datetime]:
    """The running arrival clock's due time per request (first response when no arrival)."""
    due: dict[int, datetime] = {}
    rows = RequestTarget.objects.filter(
        request_id__in=request_ids,
        target__in=(Target.ARRIVAL, Target.RESPONSE),
        state=RequestTarget.State.RUNNING,
    ).values_list("request_id", "target", "due_at")
    for request_id, _target, due_at in sorted(rows, key=lambda r: r[1] != Target.ARRIVAL):
        if due_at is not None:
            due.setdefault(request_id, due_at)
    return due


def waiting_requests(estate_id: int):
    return ServiceRequest.objects.filter(
        estate_id=estate_id,
        kind=Kind.REPAIR,
        status__in=WAITING,
        assignee__isnull=True,
        team__isnull=True,
        parent__isnull=True,
    )


def jobs(requests, order, now: datetime | None = None) -> list[assignment.Job]:
    now = now or timezone.now()
    requests = list(requests)
    due = _arrival_due([r.pk for r in requests])
    return [_job(r, order, due.get(r.pk, r.due_at), now) for r in requests]


_rules = Memo("dispatch.rules")  # keys: estate id


def rules_of(estate_id: int) -> dict[str, str]:
    """Category → mode for the estate ('' is every category without its own rule). Read at
    most once a minute per process (core.memo): every new repair asks."""

    def load():
        return dict(
            DispatchRule.objects.filter(estate_id=estate_id).values_list("category", "mode")
        )

    return _rules.get(estate_id, load)


def forget_rules(estate_id: int) -> None:
    """After a change of the estate's rules: this process sees it at once."""
    _rules.forget(lambda key: key == estate_id)


def mode_for(rules: dict[str, str], category: str) -> str:
    return rules.get(category) or rules.get("") or Mode.MANUAL


def rule_for(estate_id: int, category: str) -> DispatchRule | None:
    rules = {r.category: r for r in DispatchRule.objects.filter(estate_id=estate_id)}
    return rules.get(category) or rules.get("")


@dataclass
class Ranked:
    """One technician for one request, with the solver's reasons."""

    profile: TechnicianProfile
    suggestion: assignment.Suggestion

    @property
    def able(self) -> bool:
        return self.suggestion.refusal is None


def suggestions(request: ServiceRequest, now: datetime | None = None) -> list[Ranked]:
    """The estate's technicians for this request, the best first, the unable last. The
    caller has checked that the person may see the request."""
    now = now or timezone.now()
    order = building_order(request.estate_id)
    able = technicians(request.estate_id, now, order)
    by_user = {a.profile.user_id: a.profile for a in able}
    ranked = assignment.rank(job_of(request, order, now), [a.worker for a in able])
    return [Ranked(by_user[s.worker], s) for s in ranked]
