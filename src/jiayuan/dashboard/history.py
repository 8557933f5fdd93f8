"""Months of finished service-desk history, written in bulk: requests with their handler
trail, SLA clocks, ratings, return visits and holds, timed as a real desk's would be (calls
by day, technicians slower at night, one team slower than the rest, the unhappy owners
those whose repair took long or came back). The demo uses it so the dashboards are alive
on first start, and the dashboard benchmark to make a million requests.

Rows are written directly, not through the services: the services stamp "now" and would
take hours for a million requests. What they write matches what the services would have
left behind for a request that went the same way."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import F
from django.db.models.functions import Coalesce

from jiayuan.core.models import AuditEvent
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import (
    NUMBER_PREFIX,
    Channel,
    Handling,
    Kind,
    Rating,
    ReturnVisit,
    ServiceRequest,
    Status,
    Urgency,
)
from jiayuan.sla.models import Clock, RequestTarget, Target

BATCH = 2_000
KIND_WEIGHTS = {
    Kind.REPAIR: 68,
    Kind.INQUIRY: 14,
    Kind.COMPLAINT: 10,
    Kind.SUGGESTION: 5,
    Kind.PRAISE: 3,
}
CATEGORIES = {
    Kind.REPAIR: ("plumbing", "plumbing", "electrical", "electrical", "elevator", "doors_locks",
                  "hvac", "gas", "fire_safety", "civil"),
    Kind.COMPLAINT: ("noise_neighbor", "cleaning", "parking", "security", "billing", "greening"),
    Kind.INQUIRY: ("billing", "billing", "parking", "other"),
    Kind.SUGGESTION: ("greening", "cleaning", "security", "other"),
    Kind.PRAISE: ("other",),
}  # fmt: skip
CHANNEL_WEIGHTS = {
    Channel.PORTAL: 45,
    Channel.PHONE: 28,
    Channel.WECHAT: 12,
    Channel.WALK_IN: 8,
    Channel.STAFF: 4,
    Channel.INSPECTION: 2,
    Channel.IOT: 1,
}
WEEKEND = 0.8  # calls at the weekend against a weekday
WEEK_MEAN = (5 + 2 * WEEKEND) / 7
# Calls by hour of the day (local time): the morning and the evening after work.
HOURLY = (1, 1, 0, 0, 0, 1, 2, 5, 9, 10, 9, 8, 6, 7, 8, 8, 8, 9, 10, 10, 8, 5, 3, 2)
# target → minutes per urgency (calendar clock): the defaults of sla.policies, simplified.
TARGET_MINUTES = {
    Kind.REPAIR: {
        Urgency.EMERGENCY: {"accept": 5, "response": 10, "arrival": 30, "resolution": 1440},
        Urgency.URGENT: {"accept": 30, "response": 60, "arrival": 120, "resolution": 1440},
        Urgency.NORMAL: {"accept": 120, "response": 1440, "resolution": 2880},
    },
    "other": {"accept": 120, "response": 1440, "resolution": 2880},
}
TEXT = {
    Kind.REPAIR: "报修：{}",
    Kind.COMPLAINT: "投诉：{}",
    Kind.INQUIRY: "咨询：{}",
    Kind.SUGGESTION: "建议：{}",
    Kind.PRAISE: "表扬：师傅服务很好",
}
TAGS_LOW = ["来得太慢", "没修好"]
TAGS_HIGH = ["师傅专业", "很及时"]


@dataclass
class EstateHistory:
    """One estate's people and places the history draws on."""

    company_id: int
    estate_id: int
    # (unit id, building id, resident id or None, the resident's account or None)
    households: list[tuple]
    desk: list[int]  # desk clerks' user ids
    # team id → technicians' user ids; categories are shared out among the teams
    teams: dict[int, list[int]]
    slow_team: int | None = None
    numbers: dict = field(default_factory=lambda: defaultdict(int))


def _lognormal(rng: random.Random, median: float, spread: float = 0.7) -> float:
    return median * math.exp(rng.gauss(0, spread))


def _weighted(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _moment(rng: random.Random, day: datetime) -> datetime:
    hour = rng.choices(range(24), weights=HOURLY)[0]
    return day + timedelta(hours=hour, minutes=rng.randrange(60), seconds=rng.randrange(60))


class _Writer:
    """Collects rows and writes them in batches, the request first so the rest can point
    at it."""

    def __init__(self):
        self.requests: list[ServiceRequest] = []
        self.parts: list[tuple[ServiceRequest, list]] = []
        self.written = 0

    def add(self, request: ServiceRequest, parts: list) -> None:
        self.requests.append(request)
        self.parts.append((request, parts))
        if len(self.requests) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if not self.requests:
            return
        ServiceRequest.objects.bulk_create(self.requests)
        # bulk_create stamps updated_at with now (auto_now); history last changed when it closed.
        ServiceRequest.objects.filter(pk__in=[r.pk for r in self.requests]).update(
            updated_at=Coalesce(F("closed_at"), F("created_at"))
        )
        by_model = defaultdict(list)
        for request, parts in self.parts:
            for part in parts:
                if isinstance(part, AuditEvent):
                    part.target_id = str(request.pk)
                    part.target_label = request.number
                else:
                    part.request_id = request.pk
                by_model[type(part)].append(part)
        for model, rows in by_model.items():
            model.objects.bulk_create(rows, batch_size=BATCH)
        self.written += len(self.requests)
        self.requests, self.parts = [], []


def generate(
    estate: EstateHistory,
    *,
    start: datetime,
    days: int,
    per_day: float,
    seed: int,
    progress: Callable[[int], None] = lambda written: None,
) -> int:
    """Write `days` days of finished requests for the estate from `start` (a local
    midnight), about `per_day` a day; the number written."""
    rng = random.Random(seed)
    writer = _Writer()
    team_of_category = {}
    teams = sorted(estate.teams)
    for index, category in enumerate(sorted({c for cs in CATEGORIES.values() for c in cs})):
        team_of_category[category] = teams[index % len(teams)] if teams else None
    request_type = ContentType.objects.get_for_model(ServiceRequest)
    for offset in range(days):
        day = start + timedelta(days=offset)
        # Fewer calls at the weekend, more in summer (air conditioning, water); `per_day`
        # stays the mean over a week.
        weekday_factor = (WEEKEND if day.weekday() >= 5 else 1.0) / WEEK_MEAN
        season = 1.0 + 0.25 * math.sin((day.timetuple().tm_yday - 100) / 365 * 2 * math.pi)
        count = max(0, round(rng.gauss(per_day * weekday_factor * season, math.sqrt(per_day))))
        for created_at in sorted(_moment(rng, day) for _ in range(count)):
            request, parts = _one(rng, estate, created_at, team_of_category, request_type)
            writer.add(request, parts)
        if writer.written and offset % 30 == 29:
            progress(writer.written)
    writer.flush()
    progress(writer.written)
    return writer.written


def _one(rng, estate: EstateHistory, created_at, team_of_category, request_type):
    kind = _weighted(rng, KIND_WEIGHTS)
    category = rng.choice(CATEGORIES[kind])
    urgency = Urgency.NORMAL
    if kind == Kind.REPAIR:
        urgency = rng.choices(
            [Urgency.EMERGENCY, Urgency.URGENT, Urgency.NORMAL], weights=[4, 16, 80]
        )[0]
    unit_id, building_id, resident_id, user_id = rng.choice(estate.households)
    clerk = rng.choice(estate.desk)
    prefix = NUMBER_PREFIX[kind]
    estate.numbers[(prefix, created_at.date())] += 1
    number = f"{prefix}{created_at:%Y%m%d}-{estate.numbers[(prefix, created_at.date())]:04d}"
    channel = _weighted(rng, CHANNEL_WEIGHTS)
    request = ServiceRequest(
        company_id=estate.company_id,
        estate_id=estate.estate_id,
        number=number,
        kind=kind,
        category=category,
        urgency=urgency,
        channel=channel,
        unit_id=unit_id,
        building_id=building_id,
        description=TEXT[kind].format(category),
        reporter_id=resident_id,
        reporter_user_id=user_id if channel == Channel.PORTAL else None,
        first_contact_id=clerk,
        created_at=created_at,
        updated_at=created_at,
    )
    parts: list = []
    if rng.random() < 0.03:
        request.status = Status.CANCELLED
        request.closed_at = created_at + timedelta(minutes=_lognormal(rng, 20))
        return request, parts
    night = created_at.hour < 7 or created_at.hour >= 22
    urgency_speed = {Urgency.EMERGENCY: 0.3, Urgency.URGENT: 0.6, Urgency.NORMAL: 1.0}[urgency]
    accepted_at = created_at + timedelta(
        minutes=_lognormal(rng, 9 * urgency_speed * (3 if night else 1))
    )
    request.accepted_at = accepted_at
    if rng.random() < 0.01:
        request.status = Status.DECLINED
        request.closed_at = accepted_at
        return request, parts
    met: dict[str, datetime] = {"accept": accepted_at}
    handler, team = clerk, None
    slow = 1.0
    hold = 0.0
    if kind == Kind.REPAIR:
        team = team_of_category.get(category)
        handler = rng.choice(estate.teams[team]) if team else clerk
        slow = 2.4 if team is not None and team == estate.slow_team else 1.0
        dispatched_at = accepted_at + timedelta(minutes=_lognormal(rng, 12 * urgency_speed))
        taken_at = dispatched_at + timedelta(minutes=_lognormal(rng, 4))
        arrived_at = taken_at + timedelta(
            minutes=_lognormal(rng, 35 * urgency_speed * slow * (2 if night else 1))
        )
        if rng.random() < 0.04:
            hold = _lognormal(rng, 240)
        completed_at = arrived_at + timedelta(minutes=_lognormal(rng, 50) + hold)
        reopened = rng.random() < (0.12 if slow > 1 else 0.05)
        if reopened:
            # The owner said no; the technician came back and finished it.
            completed_at += timedelta(minutes=_lognormal(rng, 600))
            request.reopen_count = 1
        request.dispatched_at, request.arrived_at, request.completed_at = (
            dispatched_at,
            arrived_at,
            completed_at,
        )
        request.assignee_id, request.team_id = handler, team
        request.work_notes = "已处理"
        done_at = completed_at
        met.update(response=dispatched_at, arrival=arrived_at, resolution=completed_at)
        parts.append(
            Handling(
                handler_id=handler,
                team_id=team,
                assigned_by_id=clerk,
                assigned_at=dispatched_at,
                accepted_at=taken_at,
                arrived_at=arrived_at,
                ended_at=completed_at,
                outcome=Handling.Outcome.COMPLETED,
            )
        )
        if hold:
            held_at = arrived_at + timedelta(minutes=10)
            for at, code in (
                (held_at, DeskEvent.HELD),
                (held_at + timedelta(minutes=hold), DeskEvent.RESUMED),
            ):
                parts.append(
                    AuditEvent(
                        at=at,
                        company_id=estate.company_id,
                        estate_id=estate.estate_id,
                        code=code.value,
                        target_type=request_type,
                        actor_id=handler,
                    )
                )
    else:
        if kind == Kind.COMPLAINT and rng.random() < 0.5:
            handler = rng.choice(estate.desk)  # investigated by a colleague
        reply_median = {Kind.COMPLAINT: 900, Kind.INQUIRY: 25}.get(kind, 240)
        replied_at = accepted_at + timedelta(minutes=_lognormal(rng, reply_median))
        request.replied_at = replied_at
        request.assignee_id = handler
        request.reply = "已回复"
        done_at = replied_at
        met.update(response=replied_at, resolution=replied_at)
        parts.append(
            Handling(
                handler_id=handler,
                assigned_by_id=clerk,
                assigned_at=accepted_at,
                accepted_at=accepted_at,
                ended_at=replied_at,
                outcome=Handling.Outcome.REPLIED,
            )
        )
    request.status = Status.CLOSED
    request.closed_at = done_at + timedelta(minutes=_lognormal(rng, 600))
    request.auto_closed = rng.random() < 0.1
    request.updated_at = request.closed_at
    targets = (
        TARGET_MINUTES[Kind.REPAIR][urgency] if kind == Kind.REPAIR else TARGET_MINUTES["other"]
    )
    for target, minutes in targets.items():
        if target not in met:
            continue
        taken = (met[target] - created_at).total_seconds() / 60
        on_time = taken <= minutes
        parts.append(
            RequestTarget(
                target=Target(target),
                policy_name="默认",
                minutes=minutes,
                clock=Clock.CALENDAR,
                state=RequestTarget.State.MET,
                started_at=created_at,
                elapsed_minutes=taken,
                due_at=created_at + timedelta(minutes=minutes),
                breached_at=None if on_time else created_at + timedelta(minutes=minutes),
                met_at=met[target],
                on_time=on_time,
                handler_id=handler,
                team_id=team,
            )
        )
    if kind != Kind.PRAISE:
        parts.extend(_rating_and_visit(rng, request, kind, created_at, done_at, slow, hold))
    return request, parts


def _rating_and_visit(rng, request, kind, created_at, done_at, slow, hold):
    hours = (done_at - created_at).total_seconds() / 3600
    mood = 4.7 - 0.35 * min(hours / 24, 3) - (1.6 if request.reopen_count else 0)
    mood -= 0.6 if kind == Kind.COMPLAINT else 0
    mood -= 0.3 if slow > 1 else 0
    mood -= 0.3 if hold else 0
    parts = []
    rated = rng.random()
    rated_at = request.closed_at + timedelta(minutes=_lognormal(rng, 120))
    if rated < 0.62:

        def score(shift=0.0):
            return max(1, min(5, round(rng.gauss(mood + shift, 0.6))))

        overall = score()
        parts.append(
            Rating(
                overall=overall,
                timeliness=score(-0.2 * slow),
                attitude=score(0.2),
                quality=score(),
                comment="" if overall >= 3 else "处理太慢了，希望改进",
                tags=TAGS_LOW if overall <= 2 else TAGS_HIGH if overall >= 5 else [],
                rated_by_id=request.reporter_user_id,
                rated_at=rated_at,
            )
        )
    else:
        # The owner did not rate within the desk's time: rated automatically, as the desk does.
        parts.append(
            Rating(
                overall=5, timeliness=5, attitude=5, quality=5, is_automatic=True,
                rated_at=request.closed_at + timedelta(hours=48),
            )
        )  # fmt: skip
    # The default return-visit policy: every complaint, and repairs the owner did not rate.
    if kind == Kind.COMPLAINT or (kind == Kind.REPAIR and rated >= 0.62):
        due = request.closed_at + timedelta(hours=72)
        satisfied = rng.random() < max(0.3, min(0.97, (mood - 1) / 3.5))
        parts.append(
            ReturnVisit(
                due_at=due,
                done_at=request.closed_at + timedelta(hours=rng.uniform(2, 60)),
                done_by_id=request.first_contact_id,
                method=ReturnVisit.Method.PHONE,
                outcome=ReturnVisit.Outcome.SATISFIED
                if satisfied
                else ReturnVisit.Outcome.UNSATISFIED,
            )
        )
    return parts
