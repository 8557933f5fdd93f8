"""What one request counts for on the dashboards, defined once: the rollup job folds these
facts into MonthStat, DayStat and TimeBucket rows, and the tests check them on hand-built
requests. Pure functions of plain values, so the definitions read in one place.

Definitions where the records allow more than one reading (docs/decisions.md §26):
- A request counts in the period it came in (created_at), whatever happened later.
- A report that joined an incident (a duplicate) is received but not counted: the incident
  carries the work. Cancelled and declined requests are not counted either.
- Times are wall-clock minutes from the moment the request came in: first response to
  accepted, arrival to arrived on site (repairs), resolution to completed or replied.
- Resolved: counted, and completed, replied or closed. First-contact resolution: resolved
  with nobody but the person who took it ever holding it.
- An automatic rating (the owner did not rate) is counted apart and not in the averages.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from jiayuan.servicedesk.models import Kind, ReturnVisit, Status

RESOLVED = frozenset({Status.COMPLETED, Status.REPLIED, Status.CLOSED})
NOT_COUNTED = frozenset({Status.CANCELLED, Status.DECLINED})
REPEAT_WINDOW = timedelta(days=30)
# Time buckets grow by 5%: a percentile read from them is within 2.5% of the exact value.
BUCKET_GROWTH = 1.05
_LOG_GROWTH = math.log(BUCKET_GROWTH)


def bucket_of(minutes: float) -> int:
    return 0 if minutes < 1 else int(math.log(minutes) / _LOG_GROWTH) + 1


def bucket_value(bucket: int) -> float:
    """The middle (geometric) of a bucket's minutes."""
    if bucket == 0:
        return 0.5
    return BUCKET_GROWTH ** (bucket - 0.5)


def percentile_from_buckets(counts: dict[int, int], share: float) -> float | None:
    """The time below which `share` of the requests fall, from their bucket counts."""
    total = sum(counts.values())
    if not total:
        return None
    rank = share * total
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return bucket_value(bucket)
    return bucket_value(max(counts))


def exact_percentile(values: list[float], share: float) -> float | None:
    """The nearest-rank percentile, the one percentile_from_buckets() approximates."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(share * len(ordered)))
    return ordered[rank - 1]


def minutes_between(start: datetime | None, end: datetime | None) -> int | None:
    if start is None or end is None or end < start:
        return None
    return int((end - start).total_seconds() // 60)


@dataclass
class RequestRecord:
    """One request with what hangs on it, as the rollup job reads them."""

    id: int
    kind: str
    status: str
    created_at: datetime
    accepted_at: datetime | None = None
    dispatched_at: datetime | None = None
    arrived_at: datetime | None = None
    completed_at: datetime | None = None
    replied_at: datetime | None = None
    closed_at: datetime | None = None
    reopen_count: int = 0
    is_duplicate: bool = False
    first_contact_id: int | None = None
    handler_ids: set = field(default_factory=set)
    # (overall, timeliness, attitude, quality, is_automatic)
    rating: tuple | None = None
    visit_outcome: str = ""
    # target → (state, on_time, breached)
    targets: dict = field(default_factory=dict)
    hold_minutes: int = 0
    is_repeat_complaint: bool = False


def facts_of(record: RequestRecord) -> dict[str, int]:
    """The MonthStat measures this one request adds (only the non-zero ones)."""
    out: dict[str, int] = defaultdict(int)
    out["received"] = 1
    if record.is_duplicate:
        out["duplicates"] = 1
        return out
    if record.status == Status.CANCELLED:
        out["cancelled"] = 1
        return out
    if record.status == Status.DECLINED:
        out["declined"] = 1
        return out
    out["counted"] = 1
    resolved = record.status in RESOLVED
    if resolved:
        out["resolved"] = 1
        if record.first_contact_id and record.handler_ids <= {record.first_contact_id}:
            out["first_contact"] = 1
        if record.reopen_count:
            out["reopened"] = 1
    if record.kind == Kind.REPAIR and record.completed_at and resolved:
        out["completed_repairs"] = 1
        if not record.reopen_count:
            out["first_time_fixed"] = 1
    if record.kind == Kind.COMPLAINT:
        out["complaints"] = 1
        if record.is_repeat_complaint:
            out["repeat_complaints"] = 1
    if record.rating is not None:
        overall, timeliness, attitude, quality, automatic = record.rating
        if automatic:
            out["auto_rated"] = 1
        else:
            out["rated"] = 1
            out["rating_sum"] = overall
            out["rating_low"] = int(overall <= 2)
            out["timeliness_sum"] = timeliness
            out["attitude_sum"] = attitude
            out["quality_sum"] = quality
    if record.visit_outcome:
        out["visits_done"] = 1
        out["visits_satisfied"] = int(record.visit_outcome == ReturnVisit.Outcome.SATISFIED)
    for name, minutes in times_of(record).items():
        out[f"{name}_count"] = 1
        out[f"{name}_minutes"] = minutes
    for target, (state, on_time, breached) in record.targets.items():
        if state == "met":
            out[f"{target}_met"] = 1
            out[f"{target}_on_time"] = int(bool(on_time))
        out[f"{target}_breached"] = int(bool(breached))
    for stage, minutes in stages_of(record).items():
        out[f"{stage}_count"] = 1
        out[f"{stage}_minutes"] = minutes
    return out


def times_of(record: RequestRecord) -> dict[str, int]:
    """First-response, arrival and resolution minutes of a counted request, where reached."""
    times = {}
    response = minutes_between(record.created_at, record.accepted_at)
    if response is not None:
        times["response"] = response
    if record.kind == Kind.REPAIR:
        arrival = minutes_between(record.created_at, record.arrived_at)
        if arrival is not None:
            times["arrival"] = arrival
    if record.status in RESOLVED:
        resolution = minutes_between(record.created_at, resolved_at(record))
        if resolution is not None:
            times["resolution"] = resolution
    return times


def resolved_at(record: RequestRecord) -> datetime | None:
    return record.completed_at or record.replied_at or record.closed_at


def stages_of(record: RequestRecord) -> dict[str, int]:
    """Minutes spent in each stage the request passed through (the funnel)."""
    stages = {
        "wait_accept": minutes_between(record.created_at, record.accepted_at),
        "wait_owner": minutes_between(record.completed_at or record.replied_at, record.closed_at),
    }
    if record.kind == Kind.REPAIR:
        stages["wait_dispatch"] = minutes_between(record.accepted_at, record.dispatched_at)
        stages["wait_arrival"] = minutes_between(record.dispatched_at, record.arrived_at)
        stages["on_site"] = minutes_between(record.arrived_at, record.completed_at)
    else:
        stages["investigate"] = minutes_between(record.accepted_at, record.replied_at)
    if record.hold_minutes:
        stages["on_hold"] = record.hold_minutes
    return {stage: minutes for stage, minutes in stages.items() if minutes is not None}


def hold_minutes(events: list[tuple[datetime, bool]]) -> int:
    """Minutes on hold from (at, is_hold) events in time order; a hold still running does
    not count yet."""
    total = 0
    since = None
    for at, is_hold in events:
        if is_hold and since is None:
            since = at
        elif not is_hold and since is not None:
            total += minutes_between(since, at) or 0
            since = None
    return total


def repeat_complaints(complaints: list[tuple[int, int | None, str, datetime]]) -> set[int]:
    """Ids of complaints that repeat one of the same household and category made in the 30
    days before. `complaints`: (id, unit_id, category, created_at)."""
    by_place: dict[tuple, list[datetime]] = defaultdict(list)
    repeats = set()
    for pk, unit_id, category, created_at in sorted(complaints, key=lambda row: row[3]):
        if unit_id is None:
            continue
        earlier = by_place[(unit_id, category)]
        if earlier and created_at - earlier[-1] <= REPEAT_WINDOW:
            repeats.add(pk)
        earlier.append(created_at)
    return repeats
