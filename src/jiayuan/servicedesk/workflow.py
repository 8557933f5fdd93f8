"""The one table of a request's life: for each kind, which action moves it from which states
to which state, and who may take it. Services check every change against this table; pages
and the API ask it which buttons to show."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from jiayuan.core.roles import MANAGERS, Role
from jiayuan.servicedesk.models import Kind, Status

# Besides staff roles in the request's estate, two people matter by their relation to it.
REPORTER = "reporter"  # the owner who reported it through the portal
ASSIGNEE = "assignee"  # the staff member holding it (or a member of the team it was sent to)

DESK = MANAGERS | {Role.SERVICE_DESK}
DISPATCH = MANAGERS | {Role.SERVICE_DESK, Role.DISPATCHER}

REPAIR = frozenset({Kind.REPAIR})
COMPLAINT = frozenset({Kind.COMPLAINT})
SIMPLE = frozenset({Kind.INQUIRY, Kind.SUGGESTION, Kind.PRAISE})
ALL_KINDS = frozenset(Kind)

# Where `resume` goes is the state the request was in when it was put on hold.
BACK_TO_HELD = None


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    kinds: frozenset[str]
    sources: frozenset[str]
    target: str | None
    actors: frozenset[str]
    # What the action needs from the person taking it (checked by the service).
    needs_reason: bool = False


def _t(action, label, kinds, sources, target, actors, **extra) -> Transition:
    return Transition(
        action, label, frozenset(kinds), frozenset(sources), target, frozenset(actors), **extra
    )


S = Status
TRANSITIONS: tuple[Transition, ...] = (
    # Intake.
    _t("accept", _("Accept"), ALL_KINDS, {S.SUBMITTED}, S.ACCEPTED, DISPATCH),
    _t("decline", _("Decline"), ALL_KINDS, {S.SUBMITTED}, S.DECLINED, DESK, needs_reason=True),
    _t("cancel", _("Cancel"), ALL_KINDS, {S.SUBMITTED, S.ACCEPTED}, S.CANCELLED, {REPORTER}),
    _t(
        "cancel_by_desk",
        _("Cancel"),
        ALL_KINDS,
        {S.SUBMITTED, S.ACCEPTED, S.DISPATCHED, S.INVESTIGATING, S.ON_HOLD},
        S.CANCELLED,
        DESK,
        needs_reason=True,
    ),
    # Repairs: dispatch, take, arrive, complete.
    _t("dispatch", _("Dispatch"), REPAIR, {S.SUBMITTED, S.ACCEPTED}, S.DISPATCHED, DISPATCH),
    _t("take", _("Take the order"), REPAIR, {S.DISPATCHED}, S.DISPATCHED, {ASSIGNEE}),
    _t("arrive", _("Arrived on site"), REPAIR, {S.DISPATCHED}, S.IN_PROGRESS, {ASSIGNEE}),
    _t("complete", _("Complete"), REPAIR, {S.IN_PROGRESS}, S.COMPLETED, {ASSIGNEE}),
    # Complaints: a handler investigates and replies.
    _t(
        "investigate",
        _("Start investigating"),
        COMPLAINT,
        {S.SUBMITTED, S.ACCEPTED},
        S.INVESTIGATING,
        DESK,
    ),
    _t(
        "reply",
        _("Reply"),
        COMPLAINT,
        {S.INVESTIGATING},
        S.REPLIED,
        DESK | {ASSIGNEE},
    ),
    # Inquiries, suggestions and praise: the desk replies.
    _t("reply", _("Reply"), SIMPLE, {S.SUBMITTED, S.ACCEPTED}, S.REPLIED, DESK),
    # Moving work between people.
    _t(
        "transfer",
        _("Transfer"),
        REPAIR | COMPLAINT,
        {S.DISPATCHED, S.IN_PROGRESS, S.INVESTIGATING},
        None,  # stays where it is with another handler; in progress goes back to dispatched
        DISPATCH,
        needs_reason=True,
    ),
    _t(
        "return",
        _("Return the order"),
        REPAIR,
        {S.DISPATCHED, S.IN_PROGRESS},
        S.ACCEPTED,
        {ASSIGNEE},
        needs_reason=True,
    ),
    # Pausing: the clock stops (the SLA issue counts it) and resumes where it was.
    _t(
        "hold",
        _("Put on hold"),
        REPAIR | COMPLAINT,
        {S.ACCEPTED, S.DISPATCHED, S.IN_PROGRESS, S.INVESTIGATING},
        S.ON_HOLD,
        DISPATCH | {ASSIGNEE},
        needs_reason=True,
    ),
    _t("resume", _("Resume"), REPAIR | COMPLAINT, {S.ON_HOLD}, BACK_TO_HELD, DISPATCH | {ASSIGNEE}),
    # The owner's answer to the work or the reply.
    _t(
        "confirm",
        _("Confirm"),
        ALL_KINDS,
        {S.COMPLETED, S.REPLIED},
        S.CLOSED,
        DESK | {REPORTER},
    ),
    _t(
        "reopen",
        _("Not resolved"),
        REPAIR,
        {S.COMPLETED},
        S.DISPATCHED,
        DESK | {REPORTER},
        needs_reason=True,
    ),
    _t(
        "reopen",
        _("Not resolved"),
        COMPLAINT,
        {S.REPLIED},
        S.INVESTIGATING,
        DESK | {REPORTER},
        needs_reason=True,
    ),
    # The return visit found the owner unhappy with a closed repair: the work starts again.
    _t(
        "reopen_after_visit",
        _("Reopen"),
        REPAIR,
        {S.CLOSED},
        S.DISPATCHED,
        DESK,
        needs_reason=True,
    ),
)

_BY_KEY = {(t.action, kind): t for t in TRANSITIONS for kind in t.kinds}


def transition_for(action: str, kind: str) -> Transition | None:
    return _BY_KEY.get((action, kind))


def transitions_of(kind: str) -> list[Transition]:
    return [t for t in TRANSITIONS if kind in t.kinds]


def target_of(transition: Transition, current: str, held_from: str) -> str:
    if transition.target is not None:
        return transition.target
    return held_from if transition.action == "resume" else current
