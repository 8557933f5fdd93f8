"""Keeping the rollups equal to the records: an estate's month is rebuilt whole from its
requests (a few thousand rows at most), and the job rebuilds the months whose requests, or
what hangs on them, changed since it last looked. Rebuilding is idempotent, so the job
looks back a little further than its last run to catch transactions that were still open."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import TruncMonth
from django.utils import timezone

from jiayuan.core.models import AuditEvent
from jiayuan.dashboard.facts import (
    RequestRecord,
    bucket_of,
    facts_of,
    hold_minutes,
    repeat_complaints,
    times_of,
)
from jiayuan.dashboard.models import DayStat, MonthStat, RollupRun, TimeBucket
from jiayuan.org.models import Company, Estate
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import Handling, Kind, Rating, ReturnVisit, ServiceRequest
from jiayuan.sla.models import RequestTarget

# Transactions still open when the job last looked may commit changes stamped before it.
LOOK_BACK = timedelta(minutes=10)
HOLD_CODES = (DeskEvent.HELD.value, DeskEvent.RESUMED.value)
_REQUEST_FIELDS = (
    "id",
    "team_id",
    "kind",
    "category",
    "channel",
    "status",
    "unit_id",
    "parent_id",
    "first_contact_id",
    "created_at",
    "accepted_at",
    "dispatched_at",
    "arrived_at",
    "completed_at",
    "replied_at",
    "closed_at",
    "reopen_count",
)
_RECORD_FIELDS = set(RequestRecord.__dataclass_fields__)


def month_bounds(month: date) -> tuple[datetime, datetime]:
    """The month's first moment and the next month's, in the site's time zone."""
    zone = timezone.get_default_timezone()
    start = datetime(month.year, month.month, 1, tzinfo=zone)
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return start, datetime(following.year, following.month, 1, tzinfo=zone)


def read_records(
    estate_id: int, start: datetime, end: datetime
) -> list[tuple[dict, RequestRecord]]:
    """The estate's requests that came in within [start, end), each with its trail,
    rating, return visit, clocks, holds and whether it repeats a complaint. Seven queries."""
    rows = list(
        ServiceRequest.objects.filter(
            estate_id=estate_id, created_at__gte=start, created_at__lt=end
        ).values(*_REQUEST_FIELDS)
    )
    ids = [row["id"] for row in rows]
    in_month = Q(request__estate_id=estate_id, request__created_at__gte=start) & Q(
        request__created_at__lt=end
    )
    handlers = defaultdict(set)
    for request_id, handler_id in Handling.objects.filter(in_month).values_list(
        "request_id", "handler_id"
    ):
        handlers[request_id].add(handler_id)
    ratings = {
        row[0]: row[1:]
        for row in Rating.objects.filter(in_month).values_list(
            "request_id", "overall", "timeliness", "attitude", "quality", "is_automatic"
        )
    }
    visits = dict(
        ReturnVisit.objects.filter(in_month)
        .exclude(outcome="")
        .values_list("request_id", "outcome")
    )
    targets = defaultdict(dict)
    for request_id, target, state, on_time, breached_at in RequestTarget.objects.filter(
        in_month
    ).values_list("request_id", "target", "state", "on_time", "breached_at"):
        late = on_time is False or breached_at is not None
        targets[request_id][target] = (state, on_time, late)
    holds = _hold_events(estate_id, start, set(ids))
    repeats = repeat_complaints(
        list(
            ServiceRequest.objects.filter(
                estate_id=estate_id,
                kind=Kind.COMPLAINT,
                created_at__gte=start - timedelta(days=30),
                created_at__lt=end,
            ).values_list("id", "unit_id", "category", "created_at")
        )
    )
    records = []
    for row in rows:
        pk = row["id"]
        fields = {name: value for name, value in row.items() if name in _RECORD_FIELDS}
        record = RequestRecord(
            **fields,
            is_duplicate=row["parent_id"] is not None,
            handler_ids=handlers.get(pk, set()) - {None},
            rating=ratings.get(pk),
            visit_outcome=visits.get(pk, ""),
            targets=targets.get(pk, {}),
            hold_minutes=hold_minutes(holds.get(pk, [])),
            is_repeat_complaint=pk in repeats,
        )
        records.append((row, record))
    return records


def _hold_events(estate_id: int, start: datetime, ids: set[int]) -> dict[int, list]:
    content_type = ContentType.objects.get_for_model(ServiceRequest)
    events = defaultdict(list)
    rows = AuditEvent.objects.filter(
        estate_id=estate_id, code__in=HOLD_CODES, target_type=content_type, at__gte=start
    ).values_list("target_id", "at", "code")
    for target_id, at, code in rows.order_by("at", "id"):
        if int(target_id) in ids:
            events[int(target_id)].append((at, code == DeskEvent.HELD.value))
    return events


@transaction.atomic
def rebuild_month(company_id: int, estate_id: int, month: date) -> int:
    """Replace the estate's rollup rows of the month by what its records say now; the
    number of requests folded in."""
    month = month.replace(day=1)
    # Two runs rebuilding the same estate at once would both delete, then both insert: the
    # second waits here for the first to commit, and then replaces its rows.
    Estate.objects.select_for_update(no_key=True).filter(pk=estate_id).first()
    start, end = month_bounds(month)
    zone = timezone.get_default_timezone()
    cells: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    days: dict[tuple, dict] = defaultdict(lambda: defaultdict(int))
    buckets: dict[tuple, int] = defaultdict(int)
    records = read_records(estate_id, start, end)
    for row, record in records:
        facts = facts_of(record)
        cell = cells[(row["team_id"], row["kind"], row["category"], row["channel"])]
        for name, value in facts.items():
            cell[name] += value
        day = days[
            (timezone.localtime(row["created_at"], zone).date(), row["team_id"], row["kind"])
        ]
        for name in ("received", "counted", "resolved", "rated", "rating_sum"):
            day[name] += facts.get(name, 0)
        day["targets_met"] += sum(v for k, v in facts.items() if k.endswith("_met"))
        day["targets_on_time"] += sum(v for k, v in facts.items() if k.endswith("_on_time"))
        if facts.get("counted"):
            for measure, minutes in times_of(record).items():
                buckets[(row["team_id"], row["kind"], measure, bucket_of(minutes))] += 1
    key = {"company_id": company_id, "estate_id": estate_id}
    MonthStat.objects.filter(estate_id=estate_id, month=month).delete()
    DayStat.objects.filter(estate_id=estate_id, day__gte=month, day__lt=end.date()).delete()
    TimeBucket.objects.filter(estate_id=estate_id, month=month).delete()
    MonthStat.objects.bulk_create(
        MonthStat(
            **key,
            month=month,
            team_id=team,
            kind=kind,
            category=category,
            channel=channel,
            **values,
        )
        for (team, kind, category, channel), values in cells.items()
    )
    DayStat.objects.bulk_create(
        DayStat(**key, day=day, team_id=team, kind=kind, **values)
        for (day, team, kind), values in days.items()
    )
    TimeBucket.objects.bulk_create(
        TimeBucket(
            **key, month=month, team_id=team, kind=kind, measure=measure, bucket=bucket, count=count
        )
        for (team, kind, measure, bucket), count in buckets.items()
    )
    return len(records)


def changed_months(company_id: int, since: datetime | None) -> set[tuple[int, date]]:
    """(estate, month) pairs whose requests or their rating, return visit, clocks or holds
    changed since `since`; every month with requests when `since` is None."""
    requests = ServiceRequest.objects.filter(company_id=company_id)
    if since is not None:
        touched = (
            Q(updated_at__gte=since)
            | Q(pk__in=Rating.objects.filter(rated_at__gte=since).values("request_id"))
            | Q(pk__in=ReturnVisit.objects.filter(done_at__gte=since).values("request_id"))
            | Q(
                pk__in=RequestTarget.objects.filter(
                    Q(met_at__gte=since) | Q(breached_at__gte=since)
                ).values("request_id")
            )
        )
        requests = requests.filter(touched)
    pairs = (
        requests.annotate(month=TruncMonth("created_at"))
        .values_list("estate_id", "month")
        .distinct()
    )
    return {(estate_id, _as_date(month)) for estate_id, month in pairs}


def _as_date(value) -> date:
    return value.date() if isinstance(value, datetime) else value


def refresh(
    company: Company,
    *,
    rebuild_all: bool = False,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Bring the company's rollups up to date; the number of estate-months rebuilt.
    `progress(done, total)` is told after each one, for long rebuilds."""
    started = timezone.now()
    run = RollupRun.objects.filter(company=company).first()
    since = None if rebuild_all or run is None or run.folded_until is None else run.folded_until
    months = sorted(changed_months(company.pk, since))
    if since is None:
        MonthStat.objects.filter(company=company).delete()
        DayStat.objects.filter(company=company).delete()
        TimeBucket.objects.filter(company=company).delete()
    for done, (estate_id, month) in enumerate(months, start=1):
        rebuild_month(company.pk, estate_id, month)
        progress(done, len(months))
    RollupRun.objects.update_or_create(
        company=company,
        defaults={
            "folded_until": started - LOOK_BACK,
            "finished_at": timezone.now(),
            "months_rebuilt": len(months),
        },
    )
    return len(months)
