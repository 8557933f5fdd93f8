"""A request's SLA clocks as staff read them on the desk's and the technician's pages and
in the API: the nearest due time of a list row (from `ServiceRequest.due_at`, no query)
and every clock of one request in words (one query). The clocks themselves are kept by
the sla app (jiayuan.sla.deadlines); owners never see them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone

from jiayuan.servicedesk.models import ServiceRequest
from jiayuan.sla import deadlines
from jiayuan.sla.models import RequestTarget


@dataclass(frozen=True)
class NearestDue:
    """A list row's badge: "late" (red), "soon" (amber, within DUE_SOON) or "ok"."""

    tone: str
    words: str
    at: datetime


def nearest_due(due_at: datetime | None, now: datetime) -> NearestDue | None:
    """The badge of a request whose earliest running clock is due at `due_at`; None when no
    clock runs."""
    if due_at is None:
        return None
    late, words = deadlines.due_words(due_at, now)
    tone = "late" if late else "soon" if due_at - now < deadlines.DUE_SOON else "ok"
    return NearestDue(tone, words, due_at)


def clocks_of(request: ServiceRequest, now: datetime | None = None) -> list:
    """Each clock of the request in words, for the staff's pages (one query)."""
    return deadlines.present(request.targets.all(), now or timezone.now())


def clock_details(request: ServiceRequest, now: datetime | None = None) -> list[dict]:
    """Each clock of the request with its numbers, for the API (one query, and one per
    clock kind still running to count its minutes up to now)."""
    now = now or timezone.now()
    rows = list(request.targets.all())
    by_target = {row.target: row for row in rows}
    schedules = deadlines.Schedules()
    details = []
    for view in deadlines.present(rows, now):
        row = by_target[view.target]
        elapsed = row.elapsed_minutes
        if row.state == RequestTarget.State.RUNNING:
            elapsed = deadlines.elapsed_now(row, schedules.of(request, row.clock), now)
        details.append(
            {
                "target": row.target,
                "label": view.label,
                "state": row.state,
                "tone": view.tone,
                "words": view.words,
                "due_at": row.due_at,
                "minutes": row.minutes,
                "clock": row.clock,
                "elapsed_minutes": round(elapsed, 1),
                "met_at": row.met_at,
                "on_time": row.on_time,
            }
        )
    return details
