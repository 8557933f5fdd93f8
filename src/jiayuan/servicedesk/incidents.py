"""Duplicate reports of one fault become one incident.

When the lift of a building stops, five households call. The first report is the incident
(the request that is dispatched and worked); the later ones are linked to it as its
children (`ServiceRequest.parent`). A new request is compared with the open requests of
its estate at intake: same kind and category, reported within MATCH_WINDOW, at the same
place (the same unit or common area, or for equipment a building shares, the same
building), with similar words. Sure matches are linked at once; likely ones wait as a
`DuplicateSuggestion` for the desk to link or turn down.

A linked report waits on its incident: it is on hold (its SLA clocks paused, no step of
its own but being cancelled), its reporter is told of the incident's main steps, and when
the incident's work is done the report is done too and its reporter asked to confirm. The
desk can take a report out again (recorded, with a reason); it then goes on from the state
it was in. If the incident is cancelled or declined, its reports go on on their own.

Called from services: `match_new_request` at intake, `incident_moved` after every change
of state (`services._finish`), `takes_own_step` / `ensure_own_step` from the workflow
checks."""

import math
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.core.access import CHANGE, VIEW, ensure_allowed, roles_in_estate
from jiayuan.core.audit import record_event
from jiayuan.core.cleaning import clean_text
from jiayuan.core.db import columns_of, models_read
from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk import services, workflow
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import (
    REASON_MAX,
    UNRESOLVED_STATUSES,
    URGENCY_RANK,
    DuplicateSuggestion,
    Kind,
    ServiceRequest,
    Status,
)
from jiayuan.sla import deadlines
from jiayuan.triage.text import normalize

S = Status

# Work to be done can be one fault; a question or a thank-you is each person's own.
INCIDENT_KINDS = frozenset({Kind.REPAIR, Kind.COMPLAINT})
# Equipment and services a whole building shares: two flats of one building reporting the
# lift report the same lift. A leak or a dead socket is each flat's own fault.
SHARED_CATEGORIES = frozenset(
    {
        Category.ELEVATOR,
        Category.FIRE_SAFETY,
        Category.SECURITY,
        Category.CLEANING,
        Category.GREENING,
        Category.PARKING,
    }
)
# A fault is reported again within hours; a day later it is more likely a new fault.
MATCH_WINDOW = timedelta(hours=24)
# How much place, time and words each count in the likeness (0..1). Kind, category and
# estate must be equal before anything is compared, so the words decide most.
TEXT_WEIGHT, PLACE_WEIGHT, TIME_WEIGHT = 0.5, 0.3, 0.2
SAME_SPOT = 1.0  # the same unit or common area
SAME_BUILDING = 0.8  # shared equipment reported from elsewhere in the building
# Linked without asking: the same place, recent, and about half the words in common (two
# owners describing one stopped lift in their own words reach ~0.77; a different fault in
# the same place with other words stays below 0.65). Measured on the cases in
# tests/test_incidents.py.
AUTO_LINK = 0.75
# Offered to the desk: the same place and time with a few words in common. Below this a
# suggestion would mostly be noise the desk learns to ignore.
SUGGEST = 0.45
MAX_SUGGESTIONS = 3
# A report can join an incident while nobody works on it yet.
LINKABLE = frozenset({S.SUBMITTED, S.ACCEPTED})
# An incident is a request whose fault is still being dealt with.
UNRESOLVED = UNRESOLVED_STATUSES
# The incident's work is done: its reports are done with it.
RESOLVED = {Kind.REPAIR: S.COMPLETED, Kind.COMPLAINT: S.REPLIED}
# Who links and unlinks: the desk and the dispatchers of the estate (and managers).
LINKERS = workflow.DISPATCH
# The incident's steps its reporters hear of; the last three are only on their timeline.
TOLD_STEPS = frozenset({DeskEvent.DISPATCHED, DeskEvent.ARRIVED, DeskEvent.INVESTIGATING})
SHOWN_STEPS = TOLD_STEPS | {DeskEvent.HELD, DeskEvent.RESUMED, DeskEvent.TRANSFERRED}

_matching = ContextVar("incident_matching", default=True)


@contextmanager
def matching_off() -> Iterator[None]:
    """Intake without looking for duplicates: for histories written after the fact (the
    demo's, an import), whose times are not yet the real ones."""
    token = _matching.set(False)
    try:
        yield
    finally:
        _matching.reset(token)


def matching_enabled() -> bool:
    """`SERVICEDESK_MATCH_DUPLICATES` (default on). The test suites turn it off (the root
    conftest): their many identical made-up reports would otherwise join one another."""
    return getattr(settings, "SERVICEDESK_MATCH_DUPLICATES", True)


def is_held(request: ServiceRequest) -> bool:
    """Waiting on its incident. An ordinary hold always has a reason; this one has none,
    which tells the two apart once the incident's work is done and the report goes on."""
    return bool(request.parent_id) and request.status == S.ON_HOLD and not request.hold_reason


# ----------------------------------------------------------------------------- likeness


def _bigrams(text: str) -> Counter:
    letters = "".join(ch for ch in normalize(text) if ch.isalnum())
    if len(letters) < 2:
        return Counter(letters)
    return Counter(letters[i : i + 2] for i in range(len(letters) - 1))


def text_likeness(first: str, second: str) -> float:
    """Cosine of the character bigrams: Chinese has no spaces to split words at, and two
    characters side by side are most of its words."""
    a, b = _bigrams(first), _bigrams(second)
    if not a or not b:
        return 0.0
    shared = sum(count * b[gram] for gram, count in a.items())
    return shared / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def _same_spot(request: ServiceRequest, other: ServiceRequest) -> bool:
    if request.common_area_id:
        return request.common_area_id == other.common_area_id
    return bool(request.unit_id) and request.unit_id == other.unit_id


def likeness(request: ServiceRequest, candidate: ServiceRequest) -> float:
    """0..1: how likely `request` reports the same fault as `candidate` (both already of
    one estate, kind and category, at one place)."""
    place = SAME_SPOT if _same_spot(request, candidate) else SAME_BUILDING
    age = abs(request.created_at - candidate.created_at)
    recent = max(0.0, 1 - age / MATCH_WINDOW)
    words = text_likeness(request.description, candidate.description)
    return round(TEXT_WEIGHT * words + PLACE_WEIGHT * place + TIME_WEIGHT * recent, 3)


def _place_sql(request: ServiceRequest) -> tuple[str, list] | None:
    if request.common_area_id:
        where, params = "common_area_id = %s", [request.common_area_id]
    elif request.unit_id:
        where, params = "unit_id = %s", [request.unit_id]
    else:
        return None  # no place given: too vague to call anything the same fault
    if request.category in SHARED_CATEGORIES and request.building_id:
        where, params = f"({where} OR building_id = %s)", [*params, request.building_id]
    return where, params


# What the likeness and the link read of a candidate.
CANDIDATE_FIELDS = ("id", "created_at", "description", "unit_id", "common_area_id", "urgency")
_CANDIDATES_FROM = (
    f"SELECT {columns_of(ServiceRequest, 'r', CANDIDATE_FIELDS)} "  # noqa: S608 - ours
    f"FROM {ServiceRequest._meta.db_table} r"
)
_OPEN_STATUSES = sorted(UNRESOLVED)


def candidates(request: ServiceRequest, *, at_intake: bool = False) -> list[ServiceRequest]:
    """The open incidents `request` may belong to, best first, with `score` set; pairs the
    desk has already decided are left out (at intake, in the request's own transaction,
    there are none yet).

    Every new repair and complaint asks and most find none: the statement is written out
    rather than built by the ORM on each call (decisions §28). The place names the estate:
    leaving the estate out keeps PostgreSQL off the estate's index by date, which it would
    otherwise walk through the whole estate's recent requests for the sake of the order."""
    place = _place_sql(request)
    if request.kind not in INCIDENT_KINDS or request.parent_id or place is None:
        return []
    where, place_params = place
    adapt = connection.ops.adapt_datetimefield_value
    statuses = ", ".join(["%s"] * len(_OPEN_STATUSES))
    sql = (
        f"{_CANDIDATES_FROM} WHERE kind = %s AND category = %s AND parent_id IS NULL "
        f"AND status IN ({statuses}) AND created_at >= %s AND created_at <= %s AND id <> %s "
        f"AND {where}"
    )
    params = [
        request.kind,
        request.category,
        *_OPEN_STATUSES,
        adapt(request.created_at - MATCH_WINDOW),
        adapt(request.created_at),
        request.pk,
        *place_params,
    ]
    if not at_intake:
        sql += (
            f" AND id NOT IN (SELECT candidate_id FROM {DuplicateSuggestion._meta.db_table} "  # noqa: S608
            "WHERE request_id = %s AND decision <> %s)"
        )
        params += [request.pk, DuplicateSuggestion.Decision.PENDING]
    sql += " ORDER BY created_at DESC, id DESC LIMIT 20"
    found = []
    for row in models_read(ServiceRequest, sql, params, fields=CANDIDATE_FIELDS):
        row.score = likeness(request, row)
        found.append(row)
    return sorted(found, key=lambda row: -row.score)


def match_new_request(actor, request: ServiceRequest) -> ServiceRequest | None:
    """At intake, inside its transaction: link a sure duplicate to its incident, or leave
    likely ones for the desk. A new report more urgent than the open one (someone trapped
    in a lift that was only noisy) is never linked without a person looking. Returns the
    incident it joined, if any."""
    if not _matching.get() or not matching_enabled():
        return None
    found = [row for row in candidates(request, at_intake=True) if row.score >= SUGGEST]
    if not found:
        return None
    best = found[0]
    sure = best.score >= AUTO_LINK and URGENCY_RANK[request.urgency] >= URGENCY_RANK[best.urgency]
    if sure:
        parent = _locked(best.pk)
        if parent is not None and parent.parent_id is None and parent.status in UNRESOLVED:
            _link(None, request, parent, score=best.score)
            return parent
    for row in found[:MAX_SUGGESTIONS]:
        DuplicateSuggestion.objects.get_or_create(
            request=request, candidate=row, defaults={"score": row.score}
        )
    return None


# ----------------------------------------------------------------------------- checks


def ensure_linker(actor, request: ServiceRequest) -> None:
    """404 for whoever cannot see the request; 403 for people who see it but do not link
    (owners, technicians, finance)."""
    ensure_allowed(actor, VIEW, request)
    if not (actor.is_superuser or roles_in_estate(actor, request.estate) & LINKERS):
        raise PermissionDenied(_("You are not allowed to do this."))


def _no_such_parent() -> ValidationError:
    return ValidationError({"parent": _("There is no such request in this estate.")})


def _check_link(child: ServiceRequest, parent: ServiceRequest) -> None:
    if child.parent_id:
        raise services.RequestChanged(
            _("This request is already part of incident %(number)s.")
            % {"number": child.parent.number}
        )
    if child.kind not in INCIDENT_KINDS:
        raise ValidationError(_("Only repairs and complaints can be part of an incident."))
    if child.status not in LINKABLE:
        raise services.RequestChanged(
            _(
                "This request is “%(status)s”: only a request nobody works on yet can join an "
                "incident."
            )
            % {"status": child.get_status_display()}
        )
    if ServiceRequest.objects.filter(parent=child).exists():
        raise ValidationError(
            _("Other reports have joined this request: it is an incident itself.")
        )
    if parent.estate_id != child.estate_id:
        raise _no_such_parent()
    if parent.parent_id:
        raise ValidationError(
            {
                "parent": _("%(number)s is itself part of incident %(incident)s: link to that.")
                % {"number": parent.number, "incident": parent.parent.number}
            }
        )
    if parent.kind != child.kind:
        raise ValidationError(
            {
                "parent": _("%(number)s is of another kind (%(kind)s).")
                % {"number": parent.number, "kind": parent.get_kind_display()}
            }
        )
    if parent.status not in UNRESOLVED:
        raise ValidationError(
            {
                "parent": _("%(number)s is no longer open (“%(status)s”).")
                % {"number": parent.number, "status": parent.get_status_display()}
            }
        )


def takes_own_step(request: ServiceRequest, action: str) -> bool:
    """Whether a step of the workflow table is open to the request by itself: a report
    waiting on its incident is only cancelled (the desk's)."""
    return not is_held(request) or action == "cancel_by_desk"


def ensure_own_step(request: ServiceRequest, action: str) -> None:
    if not takes_own_step(request, action):
        raise ValidationError(
            _(
                "This request is part of incident %(number)s: dispatch the incident, or take "
                "this request out of it first."
            )
            % {"number": request.parent.number}
        )


# ----------------------------------------------------------------------------- writes


_LOADED = ("estate", "estate__company", "reporter_user", "parent")


def _locked(pk: int) -> ServiceRequest | None:
    rows = ServiceRequest.objects.select_for_update(of=("self",)).select_related(*_LOADED)
    return rows.filter(pk=pk).first()


def _lock_parent_first(parent: ServiceRequest, child: ServiceRequest):
    """Lock the incident, then the report: the order a change of the incident's state
    takes them in (`incident_moved`), so the two never wait on each other."""
    return _locked(parent.pk), _locked(child.pk)


def _link(actor, child: ServiceRequest, parent: ServiceRequest, *, score=None) -> None:
    old = child.status
    child.parent = parent
    child.held_from, child.hold_reason = old, ""
    child.status = S.ON_HOLD
    child.version += 1
    deadlines.moved(child, old)  # on hold: its clocks stop counting
    child.save(
        update_fields=[
            "parent",
            "held_from",
            "hold_reason",
            "status",
            "due_at",
            "version",
            "updated_at",
        ]
    )
    automatic = actor is None
    record_event(
        actor=actor,
        code=DeskEvent.INCIDENT_LINKED,
        target=child,
        estate=child.estate,
        before={"status": old},
        after={
            "status": child.status,
            "incident": parent.number,
            "incident_id": parent.pk,
            "automatic": automatic,
            **({"score": score} if score is not None else {}),
        },
    )
    record_event(
        actor=actor,
        code=DeskEvent.INCIDENT_JOINED,
        target=parent,
        estate=parent.estate,
        after={"report": child.number, "report_id": child.pk, "automatic": automatic},
    )
    DuplicateSuggestion.objects.filter(
        request=child, candidate=parent, decision=DuplicateSuggestion.Decision.PENDING
    ).update(
        decision=DuplicateSuggestion.Decision.LINKED, decided_by=actor, decided_at=timezone.now()
    )
    services._notify_owner(
        child,
        _("The same fault was already reported: your request %(number)s joins that repair")
        % {"number": child.number},
        _("You will see its progress on your request."),
    )


@transaction.atomic
def incident_link(
    *, actor, request: ServiceRequest, parent: ServiceRequest, expected_version=None
) -> ServiceRequest:
    """The desk links a report to the open incident of the same fault."""
    ensure_linker(actor, request)
    if (
        parent is None
        or not ServiceRequest.objects.restrict(actor, VIEW).filter(pk=parent.pk).exists()
    ):
        raise _no_such_parent()
    if parent.pk == request.pk:
        raise ValidationError({"parent": _("A request cannot be part of itself.")})
    parent, child = _lock_parent_first(parent, request)
    if child is None or parent is None:
        raise Http404(_("Not found."))
    services._ensure_version(child, expected_version)
    _check_link(child, parent)
    _link(actor, child, parent)
    return child


def _unlink(actor, child: ServiceRequest, parent: ServiceRequest, reason: str) -> None:
    old = child.status
    child.status = child.held_from or S.SUBMITTED
    child.held_from = ""
    child.parent = None
    child.version += 1
    deadlines.moved(child, old)  # its clocks count again from where they stopped
    child.save(update_fields=["parent", "held_from", "status", "due_at", "version", "updated_at"])
    record_event(
        actor=actor,
        code=DeskEvent.INCIDENT_UNLINKED,
        target=child,
        estate=child.estate,
        before={"status": old, "incident": parent.number},
        after={"status": child.status, "incident": parent.number, "reason": reason},
    )
    record_event(
        actor=actor,
        code=DeskEvent.INCIDENT_LEFT,
        target=parent,
        estate=parent.estate,
        after={"report": child.number, "report_id": child.pk, "reason": reason},
    )
    # Taken out once, the pair is not offered again.
    DuplicateSuggestion.objects.filter(request=child, candidate=parent).update(
        decision=DuplicateSuggestion.Decision.DISMISSED,
        decided_by=actor,
        decided_at=timezone.now(),
    )
    services._announce_if_waiting(child)


@transaction.atomic
def incident_unlink(
    *, actor, request: ServiceRequest, reason, expected_version=None
) -> ServiceRequest:
    """The desk takes a report out of its incident: it was not the same fault after all.
    The report goes on from the state it was in when it joined."""
    ensure_linker(actor, request)
    reason = clean_text(reason, "reason", required=True, limit=REASON_MAX)
    current = ServiceRequest.objects.filter(pk=request.pk).values_list("parent_id", flat=True)
    parent_id = current.first()
    if parent_id is None:
        raise services.RequestChanged(_("This request is not part of an incident."))
    parent, child = _lock_parent_first(ServiceRequest(pk=parent_id), request)
    services._ensure_version(child, expected_version)
    if child.parent_id != parent_id:
        raise services.RequestChanged(_("This request is not part of an incident."))
    if not is_held(child):
        raise ValidationError(
            _("This request was resolved with incident %(number)s: it can no longer be taken out.")
            % {"number": parent.number}
        )
    _unlink(actor, child, parent, reason)
    return child


@transaction.atomic
def suggestion_dismiss(*, actor, suggestion: DuplicateSuggestion) -> DuplicateSuggestion:
    """The desk says the two reports are not about the same fault; the pair is not offered
    again."""
    ensure_allowed(actor, VIEW, suggestion)
    ensure_allowed(actor, CHANGE, suggestion)
    locked = (
        DuplicateSuggestion.objects.select_for_update(of=("self",))
        .select_related("request", "request__estate", "candidate")
        .get(pk=suggestion.pk)
    )
    if locked.decision != DuplicateSuggestion.Decision.PENDING:
        raise services.RequestChanged(_("The desk has already decided about these two."))
    locked.decision = DuplicateSuggestion.Decision.DISMISSED
    locked.decided_by, locked.decided_at = actor, timezone.now()
    locked.save(update_fields=["decision", "decided_by", "decided_at"])
    record_event(
        actor=actor,
        code=DeskEvent.DUPLICATE_DISMISSED,
        target=locked.request,
        estate=locked.request.estate,
        after={"incident": locked.candidate.number, "score": locked.score},
    )
    return locked


@transaction.atomic
def suggestion_accept(
    *, actor, suggestion: DuplicateSuggestion, expected_version=None
) -> ServiceRequest:
    """The desk agrees: the newer report joins the older one's incident."""
    ensure_allowed(actor, VIEW, suggestion)
    if suggestion.decision != DuplicateSuggestion.Decision.PENDING:
        raise services.RequestChanged(_("The desk has already decided about these two."))
    return incident_link(
        actor=actor,
        request=suggestion.request,
        parent=suggestion.candidate,
        expected_version=expected_version,
    )


# ----------------------------------------------------------------------------- the incident moves


def incident_moved(actor, request: ServiceRequest, code: DeskEvent) -> None:
    """After every change of a request's state (services._finish, the row locked): if it
    is an incident, its waiting reports follow. Done: they are done too, their reporters
    asked to confirm. Cancelled or declined: they go on on their own and the desk is told.
    Any other main step: written on their timelines, their reporters told of the first
    ones."""
    if request.parent_id or request.kind not in INCIDENT_KINDS:
        return
    held = [
        child
        for child in ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("estate", "estate__company", "reporter_user")
        .filter(parent=request, status=S.ON_HOLD, hold_reason="")
        .order_by("pk")
    ]
    if not held:
        return
    if request.status == RESOLVED[request.kind]:
        for child in held:
            _resolve_with(actor, child, request)
    elif request.status in (S.CANCELLED, S.DECLINED):
        reason = _("Incident %(number)s was closed without the work: %(reason)s") % {
            "number": request.number,
            "reason": request.close_reason or request.get_status_display(),
        }
        for child in held:
            _unlink(actor, child, request, reason[:REASON_MAX])
            services._notify_staff(
                child,
                services._dispatchers_of(child.estate),
                _("%(number)s is on its own again: its incident %(incident)s was closed")
                % {"number": child.number, "incident": request.number},
                reason,
            )
    elif code in SHOWN_STEPS:
        for child in held:
            _tell_progress(actor, child, request, code)


def _tell_progress(actor, child: ServiceRequest, parent: ServiceRequest, code: DeskEvent) -> None:
    record_event(
        actor=actor,
        code=DeskEvent.INCIDENT_PROGRESS,
        target=child,
        estate=child.estate,
        after={"step": code.value, "incident": parent.number, **services._handler_snapshot(parent)},
    )
    if code in TOLD_STEPS:
        services._notify_owner(
            child,
            _("The fault you reported (%(number)s): %(step)s")
            % {"number": child.number, "step": code.label},
        )


def _resolve_with(actor, child: ServiceRequest, parent: ServiceRequest) -> None:
    """The incident's work is done: so is the report's. Its SLA clocks were paused while the
    incident held the work and stay so; they are settled when the report is closed (its
    reporter confirms, or the automatic closing), so the work is counted once, on the
    incident. A reporter who says it is not resolved sends it to the incident's handler."""
    old = child.status
    now = timezone.now()
    child.status = RESOLVED[parent.kind]
    child.held_from = ""
    child.assignee_id, child.team_id = parent.assignee_id, parent.team_id
    if child.status == S.COMPLETED:
        child.completed_at, child.work_notes = now, parent.work_notes
    else:
        child.replied_at, child.reply = now, parent.reply
    child.accepted_at = child.accepted_at or now
    child.version += 1
    child.save(
        update_fields=[
            "status",
            "held_from",
            "assignee",
            "team",
            "completed_at",
            "work_notes",
            "replied_at",
            "reply",
            "accepted_at",
            "version",
            "updated_at",
        ]
    )
    record_event(
        actor=actor,
        code=DeskEvent.INCIDENT_RESOLVED,
        target=child,
        estate=child.estate,
        before={"status": old},
        after={"status": child.status, "incident": parent.number},
    )
    services._notify_owner(
        child,
        _("The fault you reported (%(number)s) was fixed with %(incident)s: please confirm")
        % {"number": child.number, "incident": parent.number},
        (parent.work_notes or parent.reply)[:200],
    )


# ----------------------------------------------------------------------------- reads


@dataclass(frozen=True)
class IncidentView:
    """What a request's desk page shows of its incident."""

    children: list  # the reports linked to this request, oldest first
    suggestions: list  # pending DuplicateSuggestion rows about this request, either side
    can_link: bool  # the person links and unlinks here
    held: bool  # the request waits on its incident: it can be taken out


def incident_view(user, request: ServiceRequest) -> IncidentView:
    children = list(
        ServiceRequest.objects.restrict(user, VIEW)
        .filter(parent=request)
        .select_related("unit", "unit__building", "common_area")
        .order_by("created_at", "pk")
    )
    suggestions = [
        row
        for row in DuplicateSuggestion.objects.restrict(user, VIEW)
        .filter(Q(request=request) | Q(candidate=request))
        .filter(decision=DuplicateSuggestion.Decision.PENDING)
        .select_related("request", "candidate")
        if suggestion_open(row)
    ]
    return IncidentView(
        children=children,
        suggestions=suggestions,
        can_link=user.is_superuser or bool(roles_in_estate(user, request.estate) & LINKERS),
        held=is_held(request),
    )


def suggestion_open(row: DuplicateSuggestion) -> bool:
    """Still a question: the newer report waits for someone, the older is still open."""
    return (
        row.request.parent_id is None
        and row.request.status in LINKABLE
        and row.candidate.parent_id is None
        and row.candidate.status in UNRESOLVED
    )


def find_incident(user, request: ServiceRequest, number: str) -> ServiceRequest:
    """The request the desk named by its number, in the same company, or a field error."""
    term = (number or "").strip().upper()
    found = (
        ServiceRequest.objects.restrict(user, VIEW)
        .filter(company_id=request.company_id, number=term)
        .first()
        if term
        else None
    )
    if found is None:
        raise _no_such_parent()
    return found
