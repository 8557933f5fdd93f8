"""A request's timeline in plain words: each audit event (its code and its `after` JSON)
becomes one sentence, with the reason, reply or comment it carried. Owners and staff read
the same events; owners are addressed as "you" and see no internal notes.

Rendered by the `servicedesk/_timeline.html` partial, on the owner's, the technician's and
the desk's pages."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from jiayuan.core.models import AuditEvent
from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import Channel, Kind, ReturnVisit, Urgency
from jiayuan.sla.events import SlaEvent
from jiayuan.sla.models import Target


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    text: str
    # A reason, a reply or a comment, shown under the sentence as the person wrote it.
    detail: str = ""
    # Who did it, for staff; empty for owners and for the system.
    actor: str = ""
    # "done", "problem" or "": the dot's colour.
    tone: str = ""


def _text(value) -> str:
    """A value from the event's JSON as text; anything else (a list, a number) as nothing."""
    return value.strip() if isinstance(value, str) else ""


def _handler(after: dict) -> str:
    return _text(after.get("assignee_name")) or _text(after.get("team_name"))


def _created(after: dict, for_owner: bool, actor: str) -> str:
    channel = after.get("channel")
    if channel == Channel.PORTAL:
        return _("You reported it") if for_owner else _("Reported on the owner portal")
    if channel in Channel.values:
        return _("Recorded by the service desk (%(channel)s)") % {"channel": Channel(channel).label}
    return _("Request submitted")


def _dispatched(after: dict, for_owner: bool, actor: str) -> str:
    name = _handler(after)
    return _("Dispatched to %(name)s") % {"name": name} if name else _("Dispatched")


def _arrived(after: dict, for_owner: bool, actor: str) -> str:
    return _("%(name)s has arrived") % {"name": actor} if actor else _("The technician arrived")


def _completed(after: dict, for_owner: bool, actor: str) -> str:
    total = _text(after.get("charge_total"))
    if after.get("is_paid") and total:
        if for_owner:
            return _("Work completed (charge ¥%(total)s), please confirm") % {"total": total}
        return _("Work completed (charge ¥%(total)s)") % {"total": total}
    return _("Work completed, please confirm") if for_owner else _("Work completed")


def _returned(after: dict, for_owner: bool, actor: str) -> str:
    name = _handler(after)
    if name:
        return _("Order returned to %(name)s") % {"name": name}
    return _("Order returned to the dispatch pool")


def _transferred(after: dict, for_owner: bool, actor: str) -> str:
    name = _handler(after)
    return _("Transferred to %(name)s") % {"name": name} if name else _("Transferred")


def _rated(after: dict, for_owner: bool, actor: str) -> str:
    stars = after.get("overall")
    if not isinstance(stars, int):
        return _("Rated")
    if for_owner:
        return _("You rated it %(stars)s★") % {"stars": stars}
    return _("The owner rated it %(stars)s★") % {"stars": stars}


def _auto_rated(after: dict, for_owner: bool, actor: str) -> str:
    stars = after.get("overall")
    if not isinstance(stars, int):
        return _("Rated automatically")
    return _("Rated %(stars)s★ automatically") % {"stars": stars}


def _photos_added(after: dict, for_owner: bool, actor: str) -> str:
    count = after.get("count")
    if not isinstance(count, int):
        return _("Photos added")
    return ngettext("%(count)s photo added", "%(count)s photos added", count) % {"count": count}


def _visit_done(after: dict, for_owner: bool, actor: str) -> str:
    outcome = after.get("outcome")
    if outcome in ReturnVisit.Outcome.values:
        return _("Return visit: %(outcome)s") % {"outcome": ReturnVisit.Outcome(outcome).label}
    return _("Return visit recorded")


_LABEL_CHOICES = {"kind": Kind, "category": Category, "urgency": Urgency}


def _reclassified(after: dict, for_owner: bool, actor: str) -> str:
    """Reclassified as "电梯 · 紧急": the labels that changed, kind first."""
    labels = [
        str(choices(after[field]).label)
        for field, choices in _LABEL_CHOICES.items()
        if after.get(field) in choices.values
    ]
    if not labels:
        return _("Kind, category or urgency changed")
    return _("Reclassified as %(labels)s") % {"labels": " · ".join(labels)}


def _incident_linked(after: dict, for_owner: bool, actor: str) -> str:
    words = {"incident": _text(after.get("incident"))}
    if for_owner:
        return (
            _(
                "The same fault was already reported (%(incident)s): your request joins that "
                "repair, and its progress shows here"
            )
            % words
        )
    if after.get("automatic") is True:
        return _("Joined incident %(incident)s automatically: the same fault") % words
    return _("Joined incident %(incident)s: the same fault") % words


def _incident_unlinked(after: dict, for_owner: bool, actor: str) -> str:
    if for_owner:
        return _("Your request is handled on its own again")
    return _("Taken out of incident %(incident)s") % {"incident": _text(after.get("incident"))}


def _incident_joined(after: dict, for_owner: bool, actor: str) -> str:
    return _("%(report)s reports the same fault and joined this incident") % {
        "report": _text(after.get("report"))
    }


def _incident_left(after: dict, for_owner: bool, actor: str) -> str:
    return _("%(report)s was taken out of this incident") % {"report": _text(after.get("report"))}


def _incident_progress(after: dict, for_owner: bool, actor: str) -> str:
    step = after.get("step")
    words = {
        "incident": _text(after.get("incident")),
        "step": DeskEvent(step).label if step in DeskEvent.values else _("a step"),
    }
    name = _handler(after)
    if step == DeskEvent.DISPATCHED and name:
        words["step"] = _("Dispatched to %(name)s") % {"name": name}
    return _("The same fault (%(incident)s): %(step)s") % words


def _incident_resolved(after: dict, for_owner: bool, actor: str) -> str:
    words = {"incident": _text(after.get("incident"))}
    if for_owner:
        return _("Fixed with the repair of the same fault (%(incident)s), please confirm") % words
    return _("Resolved with incident %(incident)s") % words


def _dismissed(after: dict, for_owner: bool, actor: str) -> str:
    return _("Not the same fault as %(incident)s") % {"incident": _text(after.get("incident"))}


def _fixed(owner_words: Promise, staff_words: Promise) -> Callable[[dict, bool, str], str]:
    return lambda after, for_owner, actor: str(owner_words if for_owner else staff_words)


def _taken(after: dict, for_owner: bool, actor: str) -> str:
    name = _handler(after) or actor
    return _("%(name)s took the order") % {"name": name} if name else _("Order taken")


def _target(after: dict) -> str:
    code = after.get("target")
    return str(Target(code).label) if code in Target.values else _("a deadline")


def _due(after: dict) -> str:
    """The due time the check saw, "06-01 10:05" in local time; "" if it is not readable."""
    try:
        due = datetime.fromisoformat(_text(after.get("due_at")))
    except ValueError:
        return ""
    if timezone.is_naive(due):
        return ""
    return timezone.localtime(due).strftime("%m-%d %H:%M")


# The SLA check's alerts are staff matters: the owner's timeline never reads them
# (selectors.OWNER_VISIBLE_EVENTS).
def _warned(after: dict, for_owner: bool, actor: str) -> str:
    words = {"target": _target(after), "due": _due(after), "to": _text(after.get("to"))}
    if words["due"] and words["to"]:
        return _("Due soon: %(target)s is due at %(due)s; %(to)s reminded") % words
    if words["due"]:
        return _("Due soon: %(target)s is due at %(due)s") % words
    return _("Due soon: %(target)s") % words


def _escalated(after: dict, for_owner: bool, actor: str) -> str:
    words = {"target": _target(after), "to": _text(after.get("to"))}
    if words["to"]:
        return _("Overdue: %(target)s; escalated to %(to)s") % words
    return _("Overdue: %(target)s; escalated") % words


_SENTENCES: dict[str, Callable[[dict, bool, str], str]] = {
    DeskEvent.CREATED: _created,
    DeskEvent.ACCEPTED: _fixed(
        gettext_lazy("The service desk accepted your request"),
        gettext_lazy("Accepted by the service desk"),
    ),
    DeskEvent.DECLINED: _fixed(
        gettext_lazy("The service desk cannot take this request on"), gettext_lazy("Declined")
    ),
    DeskEvent.CANCELLED: _fixed(
        gettext_lazy("You cancelled the request"), gettext_lazy("Cancelled by the owner")
    ),
    DeskEvent.CANCELLED_BY_DESK: _fixed(
        gettext_lazy("Cancelled by the service desk"), gettext_lazy("Cancelled by the service desk")
    ),
    DeskEvent.DISPATCHED: _dispatched,
    DeskEvent.TAKEN: _taken,
    DeskEvent.ARRIVED: _arrived,
    DeskEvent.COMPLETED: _completed,
    DeskEvent.INVESTIGATING: _fixed(
        gettext_lazy("We are looking into it"), gettext_lazy("Investigation started")
    ),
    DeskEvent.REPLIED: _fixed(gettext_lazy("You have a reply"), gettext_lazy("Reply given")),
    DeskEvent.TRANSFERRED: _transferred,
    DeskEvent.RETURNED: _returned,
    DeskEvent.HELD: _fixed(gettext_lazy("Work paused"), gettext_lazy("Put on hold")),
    DeskEvent.RESUMED: _fixed(gettext_lazy("Work resumed"), gettext_lazy("Resumed")),
    DeskEvent.CONFIRMED: _fixed(
        gettext_lazy("You confirmed it; the request is closed"),
        gettext_lazy("Confirmed and closed"),
    ),
    DeskEvent.REOPENED: _fixed(
        gettext_lazy("You said it is not resolved; it has been sent back"),
        gettext_lazy("Not resolved: sent back"),
    ),
    DeskEvent.REOPENED_AFTER_VISIT: _fixed(
        gettext_lazy("Reopened after our call back"),
        gettext_lazy("Reopened after the return visit"),
    ),
    DeskEvent.AUTO_CLOSED: _fixed(
        gettext_lazy("Closed automatically"), gettext_lazy("Closed automatically")
    ),
    DeskEvent.RATED: _rated,
    DeskEvent.AUTO_RATED: _auto_rated,
    DeskEvent.PHOTOS_ADDED: _photos_added,
    DeskEvent.RECLASSIFIED: _reclassified,
    DeskEvent.VISIT_DONE: _visit_done,
    DeskEvent.INCIDENT_LINKED: _incident_linked,
    DeskEvent.INCIDENT_UNLINKED: _incident_unlinked,
    DeskEvent.INCIDENT_JOINED: _incident_joined,
    DeskEvent.INCIDENT_LEFT: _incident_left,
    DeskEvent.INCIDENT_PROGRESS: _incident_progress,
    DeskEvent.INCIDENT_RESOLVED: _incident_resolved,
    DeskEvent.DUPLICATE_DISMISSED: _dismissed,
    SlaEvent.WARNED: _warned,
    SlaEvent.ESCALATED: _escalated,
}

_DONE = {
    DeskEvent.COMPLETED,
    DeskEvent.REPLIED,
    DeskEvent.CONFIRMED,
    DeskEvent.RATED,
    DeskEvent.INCIDENT_RESOLVED,
}
_PROBLEM = {
    DeskEvent.DECLINED,
    DeskEvent.CANCELLED,
    DeskEvent.CANCELLED_BY_DESK,
    DeskEvent.REOPENED,
    DeskEvent.REOPENED_AFTER_VISIT,
    DeskEvent.HELD,
    SlaEvent.WARNED,
    SlaEvent.ESCALATED,
}


def _detail(code: str, after: dict, for_owner: bool) -> str:
    if code == DeskEvent.REPLIED:
        return _text(after.get("reply"))
    if code == DeskEvent.RATED:
        tags = [_(tag) for tag in after.get("tags") or [] if isinstance(tag, str)]
        return " · ".join(filter(None, [" ".join(tags), _text(after.get("comment"))]))
    if code == DeskEvent.VISIT_DONE:
        return "" if for_owner else _text(after.get("note"))
    if code == DeskEvent.CREATED and not for_owner and after.get("category") in Category.values:
        return Category(after["category"]).label
    return _text(after.get("reason"))


def entry_of(event: AuditEvent, *, for_owner: bool) -> TimelineEntry:
    after = event.after if isinstance(event.after, dict) else {}
    sentence = _SENTENCES.get(event.code)
    text = sentence(after, for_owner, event.actor_label) if sentence else event.code_label
    tone = "done" if event.code in _DONE else "problem" if event.code in _PROBLEM else ""
    return TimelineEntry(
        at=event.at,
        text=text,
        detail=_detail(event.code, after, for_owner),
        actor="" if for_owner else event.actor_label,
        tone=tone,
    )


def present(events: Iterable[AuditEvent], *, for_owner: bool) -> list[TimelineEntry]:
    """The sentences of a request's events, in the order given (the selector's: oldest
    first)."""
    return [entry_of(event, for_owner=for_owner) for event in events]
