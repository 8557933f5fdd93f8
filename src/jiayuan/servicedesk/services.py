"""Every write to a service request: intake, each step of the workflow table, photos,
ratings, return visits and the desk's settings. Each is atomic and writes one audit event;
notifications go out after commit."""

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiayuan.comms.services import notify
from jiayuan.core.access import (
    ADD,
    CHANGE,
    VIEW,
    ensure_allowed,
    ensure_can_in_estate,
    ensure_company_role,
    estate_managers,
    roles_in_estate,
)
from jiayuan.core.audit import changed_only, record_event, snapshot
from jiayuan.core.cleaning import clean_text
from jiayuan.core.memo import Memo
from jiayuan.core.phones import validate_mainland_mobile
from jiayuan.core.roles import ALL_STAFF, Role
from jiayuan.core.taxonomy import Category
from jiayuan.org.models import (
    CommonArea,
    Company,
    Estate,
    Resident,
    Team,
    Unit,
)
from jiayuan.servicedesk import incidents, selectors, signals, workflow
from jiayuan.servicedesk.events import DeskEvent, event_of_action
from jiayuan.servicedesk.models import (
    DESCRIPTION_MAX,
    NUMBER_PREFIX,
    REASON_MAX,
    Channel,
    DeskSettings,
    Handling,
    Kind,
    MaterialLine,
    Photo,
    Rating,
    ReplyTemplate,
    RequestCounter,
    ReturnVisit,
    ServiceRequest,
    Status,
    Urgency,
)
from jiayuan.servicedesk.photos import prepare_photos
from jiayuan.sla import deadlines
from jiayuan.triage import services as triage

MAX_MATERIAL_LINES = 50
LOW_RATING = 2  # a rating this low or lower alerts the estate's managers
VISIT_RATING = 3  # the "low ratings" visit policy calls back on this or lower
RATING_TAGS_MAX = 10


class RequestChanged(ValidationError):
    """Someone else changed the request after this person loaded it."""


class _Errors:
    """Collects every problem of a submission so the person sees them all at once."""

    def __init__(self):
        self.errors: dict = {}

    def check(self, validate, default=None):
        try:
            return validate()
        except ValidationError as exc:
            exc.update_error_dict(self.errors)
            return default

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationError(self.errors)


# ----------------------------------------------------------------------------- helpers


def desk_settings(company) -> DeskSettings:
    return DeskSettings.objects.filter(company=company).first() or DeskSettings(company=company)


_offered = Memo("servicedesk.offered_categories")  # keys: company id


def _category_settings(company: Company | int) -> DeskSettings:
    """The company's choice of categories. Given a company whose settings were read along
    with it (select_related), no query is made; else the choice is read at most once a
    minute per process (core.memo: every new request asks)."""
    if isinstance(company, Company) and Company.desk_settings.is_cached(company):
        return getattr(company, "desk_settings", None) or DeskSettings()
    company_id = company.pk if isinstance(company, Company) else company

    def load():
        row = DeskSettings.objects.filter(company_id=company_id).first()
        return DeskSettings(offered_categories=row.offered_categories if row else [])

    return _offered.get(company_id, load)


def offered_categories(company: Company | int) -> list[tuple[str, str]]:
    """(code, label) of the categories the company takes requests in."""
    return _category_settings(company).category_choices()


def offered_codes(company: Company | int) -> set[str]:
    """The codes of the categories the company takes requests in."""
    return _category_settings(company).offered_codes()


def _on_field(field: str, validate, value) -> None:
    try:
        validate(value)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _choice(value, field: str, choices) -> str:
    if value not in choices.values:
        raise ValidationError({field: _("Choose one of the listed values.")})
    return value


def is_staff_in(user, estate) -> bool:
    return bool(roles_in_estate(user, estate) & set(ALL_STAFF))


def _detail_link(request: ServiceRequest, *, for_owner: bool) -> str:
    name = "servicedesk:owner_detail" if for_owner else "servicedesk:detail"
    return reverse(name, args=[request.pk])


def _notify_owner(request: ServiceRequest, title: str, body: str = "") -> None:
    if request.reporter_user_id:
        notify(
            recipients=[request.reporter_user],
            kind="servicedesk.owner",
            title=title,
            body=body,
            link=_detail_link(request, for_owner=True),
            estate=request.estate,
        )


def _notify_staff(request: ServiceRequest, users: Iterable, title: str, body: str = "") -> None:
    users = [u for u in users if u is not None]
    if users:
        notify(
            recipients=users,
            kind="servicedesk.staff",
            title=title,
            body=body,
            link=_detail_link(request, for_owner=False),
            estate=request.estate,
        )


def _handlers_to_tell(request: ServiceRequest) -> list:
    if request.assignee_id:
        return [request.assignee]
    if request.team_id:
        return [m.user for m in request.team.memberships.select_related("user")]
    return []


# ----------------------------------------------------------------------------- numbers


def next_number(company_id: int, kind: str, when: datetime) -> str:
    """`BX20261122-0007`: prefix by kind, local date, the day's sequence for the company.
    One upsert takes the number: the counter row is locked only for that statement, so
    concurrent intakes never get the same number and never wait for each other's whole
    intake (see docs/decisions.md)."""
    prefix = NUMBER_PREFIX[kind]
    day = timezone.localdate(when)
    table = connection.ops.quote_name(RequestCounter._meta.db_table)
    # Both PostgreSQL and SQLite (3.35+) take INSERT … ON CONFLICT … RETURNING.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (company_id, prefix, day, last) VALUES (%s, %s, %s, 1) "  # noqa: S608 - the table name is ours
            "ON CONFLICT (company_id, prefix, day) DO UPDATE SET last = "
            f"{table}.last + 1 RETURNING last",
            [company_id, prefix, day],
        )
        (last,) = cursor.fetchone()
    return f"{prefix}{day:%Y%m%d}-{last:04d}"


# ----------------------------------------------------------------------------- intake


def _place(estate: Estate, unit, common_area) -> tuple[Unit | None, CommonArea | None]:
    if unit is not None and common_area is not None:
        raise ValidationError({"unit": _("Choose a unit or a common area, not both.")})
    if unit is not None and unit.estate_id != estate.pk:
        raise ValidationError({"unit": _("This unit is in another estate.")})
    if common_area is not None and common_area.estate_id != estate.pk:
        raise ValidationError({"common_area": _("This common area is in another estate.")})
    return unit, common_area


def _building_of(unit, common_area) -> int | None:
    if unit is not None:
        return unit.building_id
    return common_area.building_id if common_area is not None else None


def _parse_appointment(start, end) -> tuple[datetime | None, datetime | None]:
    if (start is None) != (end is None):
        raise ValidationError({"appointment_end": _("Give both ends of the appointment window.")})
    if start is not None and end <= start:
        raise ValidationError({"appointment_end": _("The appointment must end after it starts.")})
    if start is not None and end < timezone.now():
        raise ValidationError({"appointment_start": _("The appointment is in the past.")})
    return start, end


def request_create(
    *,
    actor,
    estate: Estate,
    kind: str,
    category: str,
    description: str,
    urgency: str = Urgency.NORMAL,
    channel: str | None = None,
    unit: Unit | None = None,
    common_area: CommonArea | None = None,
    location_note: str = "",
    appointment_start: datetime | None = None,
    appointment_end: datetime | None = None,
    reporter: Resident | None = None,
    contact_name: str = "",
    contact_phone: str = "",
    praised_staff=None,
    photos: Sequence = (),
    homes: Sequence[Resident] | None = None,
) -> ServiceRequest:
    """An owner submitting on the portal, or staff recording a call or a visit.

    An owner may report only about their own units or the common areas of their estate,
    and is the reporter; staff may record for any resident of the estate (or nobody, for
    what they found themselves) and become the request's first-contact owner. `homes`: what
    selectors.homes_in() answered for the actor and the estate, when the caller has read it
    already (the API, to find the named flat among them); otherwise it is read here."""
    staff = is_staff_in(actor, estate)
    found = _Errors()
    collect = found.check
    if staff:
        ensure_can_in_estate(actor, ServiceRequest, ADD, estate)
    collect(lambda: _choice(kind, "kind", Kind))
    collect(lambda: _choice(category, "category", Category))
    if category in Category.values and category not in offered_codes(estate.company_id):
        found.add("category", _("This company does not take requests of this category."))
    collect(lambda: _choice(urgency, "urgency", Urgency))
    description = collect(
        lambda: clean_text(description, "description", required=True, limit=DESCRIPTION_MAX)
    )
    location_note = collect(
        lambda: clean_text(location_note, "location_note", required=False, limit=200)
    )
    collect(lambda: _place(estate, unit, common_area))
    collect(lambda: _parse_appointment(appointment_start, appointment_end))
    if staff:
        channel = channel or Channel.PHONE
        collect(lambda: _choice(channel, "channel", Channel))
        if channel == Channel.PORTAL:
            found.add("channel", _("Staff cannot record a portal request."))
        if reporter is not None and reporter.company_id != estate.company_id:
            found.add("reporter", _("This resident is not in this company."))
        contact_name = collect(
            lambda: clean_text(contact_name, "contact_name", required=False, limit=64)
        )
        contact_phone = (contact_phone or "").strip()
        if not contact_phone and reporter is not None:
            contact_phone = reporter.mobile
        if contact_phone:
            # The validator's message names no field: it belongs to the phone.
            collect(lambda: _on_field("contact_phone", validate_mainland_mobile, contact_phone))
        elif channel in (Channel.PHONE, Channel.WALK_IN):
            found.add(
                "contact_phone", _("Give the caller's phone number so they can be called back.")
            )
        reporter_user = reporter.user if reporter is not None else None
        first_contact = actor
    else:
        # An owner reports in an estate where they live now; to anyone else the estate is
        # not there, as restrict() would answer.
        if homes is None:
            homes = selectors.homes_in(actor, estate.pk)
        if not homes:
            raise Http404(_("Not found."))
        resident, own_units = homes[0], {home.home_unit_id for home in homes}
        if unit is not None and unit.pk not in own_units:
            found.add("unit", _("You can only report about your own units."))
        # An owner reports for themself on the portal; what only the desk records is refused
        # rather than ignored, so an app's mistake is seen.
        for field, value in (
            ("channel", channel not in (None, "", Channel.PORTAL)),
            ("reporter", reporter is not None),
            ("contact_name", bool(contact_name)),
            ("contact_phone", bool(contact_phone)),
        ):
            if value:
                found.add(field, _("Only the service desk records this."))
        channel = Channel.PORTAL
        reporter, reporter_user, first_contact = resident, actor, None
        contact_name, contact_phone = resident.name, resident.mobile
    if kind == Kind.PRAISE and praised_staff is not None and not is_staff_in(praised_staff, estate):
        found.add("praised_staff", _("This person does not work here."))
    prepared = collect(lambda: prepare_photos(photos), [])
    found.raise_if_any()

    now = timezone.now()
    # Everything is checked before the number is taken: a number is skipped only when the
    # database itself fails the write below.
    number = next_number(estate.company_id, kind, now)
    return _save_new_request(
        actor,
        ServiceRequest(
            company_id=estate.company_id,
            estate=estate,
            number=number,
            kind=kind,
            category=category,
            urgency=urgency,
            channel=channel,
            unit=unit,
            common_area=common_area,
            building_id=_building_of(unit, common_area),
            location_note=location_note,
            description=description,
            appointment_start=appointment_start,
            appointment_end=appointment_end,
            reporter=reporter,
            reporter_user=reporter_user,
            contact_name=contact_name or (reporter.name if reporter else ""),
            contact_phone=contact_phone,
            first_contact=first_contact,
            praised_staff=praised_staff if kind == Kind.PRAISE else None,
            created_at=now,
        ),
        prepared,
    )


RELATED_FIELDS = [f.name for f in ServiceRequest._meta.get_fields() if f.is_relation and f.concrete]


@transaction.atomic
def _save_new_request(actor, request: ServiceRequest, prepared) -> ServiceRequest:
    estate, kind, description = request.estate, request.kind, request.description
    # The related rows were read from the database a moment ago: checking that each still
    # exists would cost a query apiece for nothing.
    request.full_clean(exclude=RELATED_FIELDS, validate_constraints=False)
    clocks = deadlines.plan(request)
    request.save()
    deadlines.save_planned(request, clocks)
    _save_photos(actor, request, Photo.Stage.REPORT, prepared)
    triage.classification_record(actor=actor, request=request)
    _announce_if_waiting(request)
    record_event(
        actor=actor,
        code=DeskEvent.CREATED,
        target=request,
        estate=estate,
        after=snapshot(
            request,
            ["number", "kind", "category", "urgency", "channel", "unit", "common_area"],
        ),
    )
    if kind == Kind.COMPLAINT:
        _tell_managers_of_complaint(request)
    if kind == Kind.PRAISE and request.praised_staff_id:
        _notify_staff(
            request,
            estate_managers(estate),
            _("%(name)s was praised by an owner") % {"name": request.praised_staff.name},
            description[:200],
        )
    incidents.match_new_request(actor, request)
    return request


def _tell_managers_of_complaint(request: ServiceRequest) -> None:
    """Managers hear of every complaint, also of a request the desk found to be one."""
    _notify_staff(
        request,
        estate_managers(request.estate),
        _("New complaint %(number)s") % {"number": request.number},
        request.description[:200],
    )


def _save_photos(actor, request: ServiceRequest, stage: str, prepared) -> list[Photo]:
    photos = []
    for item in prepared:
        photo = Photo(request=request, stage=stage, uploaded_by=actor)
        photo.image.save(item.image.name, item.image, save=False)
        photo.thumbnail.save(item.thumbnail.name, item.thumbnail, save=False)
        photo.save()
        photos.append(photo)
    return photos


# ----------------------------------------------------------------------------- workflow


def actor_relations(user, request: ServiceRequest) -> set[str]:
    """The roles this person holds for this request: staff roles in its estate, and
    `reporter` / `assignee` by their relation to it."""
    if not (user and user.is_authenticated and user.is_active):
        return set()
    relations = set(roles_in_estate(user, request.estate))
    if request.reporter_user_id == user.pk:
        relations.add(workflow.REPORTER)
    if request.assignee_id == user.pk or (
        request.assignee_id is None
        and request.team_id is not None
        and request.team.memberships.filter(user=user).exists()
    ):
        relations.add(workflow.ASSIGNEE)
    return relations


def allowed_transitions(user, request: ServiceRequest) -> list[workflow.Transition]:
    """What this person may do to the request now (the buttons on its page)."""
    relations = actor_relations(user, request)
    return [
        t
        for t in workflow.transitions_of(request.kind)
        if request.status in t.sources
        and (t.actors & relations or user.is_superuser)
        # Taking an order is only for an order not yet taken.
        and not (t.action == "take" and _open_handling(request, accepted=True))
        and incidents.takes_own_step(request, t.action)
    ]


def _open_handling(request: ServiceRequest, *, accepted: bool | None = None) -> Handling | None:
    trail = Handling.objects.filter(request=request, ended_at__isnull=True)
    if accepted is True:
        trail = trail.filter(accepted_at__isnull=False)
    return trail.first()


def _locked(request: ServiceRequest) -> ServiceRequest:
    # Lock the request's row only: PostgreSQL refuses FOR UPDATE on the nullable side of
    # the outer joins (team, assignee, reporter) that come along with it.
    return (
        ServiceRequest.objects.select_for_update(of=("self",))
        .select_related("estate", "estate__company", "team", "assignee", "reporter_user")
        .get(pk=request.pk)
    )


def _ensure_version(locked: ServiceRequest, expected_version: int | None) -> None:
    """The page the person acted from showed this version; refuse if it has moved on."""
    if expected_version is not None and locked.version != expected_version:
        raise RequestChanged(
            _(
                "Someone else changed this request a moment ago (it is now “%(status)s”). "
                "Look at it again before you act."
            )
            % {"status": locked.get_status_display()}
        )


def _transition(
    actor,
    request: ServiceRequest,
    action: str,
    *,
    expected_version: int | None,
    reason: str = "",
) -> tuple[ServiceRequest, workflow.Transition, str]:
    """Lock the request, then check that the action is still possible and this person may
    take it. Two people acting at once: the second waits for the lock, finds the request
    changed and is told so; nothing of theirs is written."""
    ensure_allowed(actor, VIEW, request)
    locked = _locked(request)
    _ensure_version(locked, expected_version)
    incidents.ensure_own_step(locked, action)
    transition = workflow.transition_for(action, locked.kind)
    if transition is None:
        raise ValidationError(_("This action does not apply to this kind of request."))
    if locked.status not in transition.sources:
        raise RequestChanged(
            _("This request is now “%(status)s”, so “%(action)s” is no longer possible.")
            % {"status": locked.get_status_display(), "action": transition.label}
        )
    if not (transition.actors & actor_relations(actor, locked) or actor.is_superuser):
        raise PermissionDenied(_("You are not allowed to do this."))
    reason = clean_text(reason, "reason", required=transition.needs_reason, limit=REASON_MAX)
    return locked, transition, reason


def _finish(
    actor,
    request: ServiceRequest,
    transition: workflow.Transition,
    *,
    before: dict,
    fields: list[str],
    extra: dict | None = None,
    code: DeskEvent | None = None,
    target: str | None = None,
) -> ServiceRequest:
    """Save the change and record it. `target` overrides the table's target where the
    outcome depends on the person's choice (a return to the previous handler)."""
    old_status = request.status
    request.status = target or workflow.target_of(transition, old_status, request.held_from)
    request.version += 1
    deadlines.moved(request, old_status)
    request.save(update_fields=[*fields, "status", "due_at", "version", "updated_at"])
    after = {"status": request.status, **(extra or {})}
    record_event(
        actor=actor,
        code=code or event_of_action(transition.action),
        target=request,
        estate=request.estate,
        before={"status": old_status, **before},
        after=after,
    )
    _announce_if_waiting(request)
    incidents.incident_moved(actor, request, code or event_of_action(transition.action))
    return request


def _announce_if_waiting(request: ServiceRequest) -> None:
    if is_waiting_for_dispatch(request):
        pk, estate_id, category = request.pk, request.estate_id, request.category
        transaction.on_commit(
            lambda: signals.request_waiting.send(
                sender=ServiceRequest, request_id=pk, estate_id=estate_id, category=category
            )
        )


def _end_handling(request: ServiceRequest, outcome: str, note: str = "") -> Handling | None:
    hop = _open_handling(request)
    if hop is not None:
        hop.ended_at = timezone.now()
        hop.outcome = outcome
        hop.note = note[:REASON_MAX]
        hop.save(update_fields=["ended_at", "outcome", "note"])
    return hop


def _start_handling(
    actor, request: ServiceRequest, handler, team, previous: Handling | None
) -> Handling:
    return Handling.objects.create(
        request=request, handler=handler, team=team, assigned_by=actor, previous=previous
    )


def _check_handler(request: ServiceRequest, assignee, team: Team | None) -> None:
    if assignee is None and team is None:
        raise ValidationError({"assignee": _("Choose a technician or a team.")})
    if team is not None and team.estate_id != request.estate_id:
        raise ValidationError({"team": _("This team works in another estate.")})
    if assignee is not None:
        if not assignee.is_active or not is_staff_in(assignee, request.estate):
            raise ValidationError({"assignee": _("This person does not work in this estate.")})
        if team is not None and not team.memberships.filter(user=assignee).exists():
            raise ValidationError({"assignee": _("This person is not in the chosen team.")})


def _label(user) -> str:
    return user.get_short_name() or user.get_username()


@transaction.atomic
def request_accept(*, actor, request, expected_version=None) -> ServiceRequest:
    request, transition, _reason = _transition(
        actor, request, "accept", expected_version=expected_version
    )
    request.accepted_at = timezone.now()
    if request.first_contact_id is None:
        request.first_contact = actor
    _finish(actor, request, transition, before={}, fields=["accepted_at", "first_contact"])
    _notify_owner(
        request, _("Your request %(number)s has been accepted") % {"number": request.number}
    )
    return request


@transaction.atomic
def request_decline(*, actor, request, reason, expected_version=None) -> ServiceRequest:
    request, transition, reason = _transition(
        actor, request, "decline", expected_version=expected_version, reason=reason
    )
    request.close_reason = reason
    request.closed_at = timezone.now()
    if request.first_contact_id is None:
        request.first_contact = actor
    _finish(
        actor,
        request,
        transition,
        before={},
        fields=["close_reason", "closed_at", "first_contact"],
        extra={"reason": reason},
    )
    _notify_owner(
        request,
        _("Your request %(number)s cannot be taken on") % {"number": request.number},
        reason,
    )
    return request


@transaction.atomic
def request_cancel(*, actor, request, reason="", expected_version=None) -> ServiceRequest:
    """The owner withdraws their request before it is dispatched; the desk may cancel later
    ones with a reason (the owner is told)."""
    relations = actor_relations(actor, request)
    action = "cancel" if workflow.REPORTER in relations else "cancel_by_desk"
    request, transition, reason = _transition(
        actor, request, action, expected_version=expected_version, reason=reason
    )
    request.close_reason = reason
    request.closed_at = timezone.now()
    _end_handling(request, Handling.Outcome.CANCELLED, reason)
    _finish(
        actor,
        request,
        transition,
        before={},
        fields=["close_reason", "closed_at"],
        extra={"reason": reason} if reason else None,
    )
    if action == "cancel_by_desk":
        _notify_owner(
            request,
            _("Your request %(number)s was cancelled") % {"number": request.number},
            reason,
        )
    _notify_staff(
        request,
        _handlers_to_tell(request),
        _("%(number)s was cancelled") % {"number": request.number},
        reason,
    )
    return request


@transaction.atomic
def request_dispatch(
    *, actor, request, assignee=None, team=None, expected_version=None
) -> ServiceRequest:
    request, transition, _reason = _transition(
        actor, request, "dispatch", expected_version=expected_version
    )
    _check_handler(request, assignee, team)
    return _dispatch(actor, request, transition, assignee, team)


@transaction.atomic
def request_dispatch_by_rule(*, request, assignee, mode: str, grabbed_by=None) -> ServiceRequest:
    """The dispatch app's automatic, round-robin and grab-pool dispatch. No one's role is
    checked (the estate chose the mode; the pool checked the grabbing technician), but the
    request must still be waiting for a technician, or RequestChanged says it is not."""
    locked = _locked(request)
    transition = workflow.transition_for("dispatch", locked.kind)
    if transition is None or not is_waiting_for_dispatch(locked):
        raise RequestChanged(
            _("Request %(number)s is no longer waiting for a technician.")
            % {"number": locked.number}
        )
    _check_handler(locked, assignee, None)
    return _dispatch(grabbed_by, locked, transition, assignee, None, mode=mode, taken=grabbed_by)


def is_waiting_for_dispatch(request: ServiceRequest) -> bool:
    return (
        request.kind == Kind.REPAIR
        and request.status in (Status.SUBMITTED, Status.ACCEPTED)
        and request.assignee_id is None
        and request.team_id is None
        and request.parent_id is None
    )


def _dispatch(actor, request, transition, assignee, team, *, mode="", taken=None):
    now = timezone.now()
    before = {"assignee": request.assignee_id, "team": request.team_id}
    request.assignee, request.team = assignee, team
    request.accepted_at = request.accepted_at or now
    request.dispatched_at = now
    if request.first_contact_id is None:
        request.first_contact = actor
    hop = _start_handling(actor, request, assignee, team, previous=None)
    if taken is not None:
        # Grabbing an order is taking it.
        hop.accepted_at = now
        hop.save(update_fields=["accepted_at"])
    _finish(
        actor,
        request,
        transition,
        before=before,
        fields=["assignee", "team", "accepted_at", "dispatched_at", "first_contact"],
        extra={**_handler_snapshot(request), **({"mode": mode} if mode else {})},
    )
    _notify_staff(
        request,
        _handlers_to_tell(request),
        _("New order %(number)s") % {"number": request.number},
        request.description[:200],
    )
    _notify_owner(
        request,
        _("A technician has been sent for %(number)s") % {"number": request.number},
        _handler_words(request),
    )
    return request


def _handler_snapshot(request: ServiceRequest) -> dict:
    return {
        "assignee": request.assignee_id,
        "assignee_name": _label(request.assignee) if request.assignee_id else "",
        "team": request.team_id,
        "team_name": request.team.name if request.team_id else "",
    }


def _handler_words(request: ServiceRequest) -> str:
    if request.assignee_id:
        return _label(request.assignee)
    return request.team.name if request.team_id else ""


@transaction.atomic
def request_take(*, actor, request, expected_version=None) -> ServiceRequest:
    """接单: the technician (or a member of the team it was sent to) takes the order."""
    request, transition, _reason = _transition(
        actor, request, "take", expected_version=expected_version
    )
    hop = _open_handling(request)
    if hop is not None and hop.accepted_at is not None:
        raise RequestChanged(_("This order has already been taken."))
    before = {"assignee": request.assignee_id}
    if request.assignee_id is None:
        request.assignee = actor
    if hop is None:
        hop = _start_handling(actor, request, actor, request.team, previous=None)
    # A team order becomes this member's; an order sent to them is simply accepted.
    hop.handler, hop.accepted_at = actor, timezone.now()
    hop.save(update_fields=["handler", "accepted_at"])
    return _finish(
        actor,
        request,
        transition,
        before=before,
        fields=["assignee"],
        extra=_handler_snapshot(request),
    )


@transaction.atomic
def request_arrive(*, actor, request, expected_version=None) -> ServiceRequest:
    """到场: arriving takes the order too, if the technician had not taken it yet."""
    if _needs_taking(request):
        request = request_take(actor=actor, request=request, expected_version=expected_version)
        expected_version = request.version
    request, transition, _reason = _transition(
        actor, request, "arrive", expected_version=expected_version
    )
    now = timezone.now()
    request.arrived_at = now
    hop = _open_handling(request)
    if hop is not None:
        hop.accepted_at = hop.accepted_at or now
        hop.arrived_at = now
        hop.save(update_fields=["accepted_at", "arrived_at"])
    _finish(actor, request, transition, before={}, fields=["arrived_at"])
    _notify_owner(
        request,
        _("%(name)s has arrived for %(number)s")
        % {"name": _label(actor), "number": request.number},
    )
    return request


def _needs_taking(request: ServiceRequest) -> bool:
    return request.status == Status.DISPATCHED and _open_handling(request, accepted=True) is None


def _parse_materials(lines) -> list[MaterialLine]:
    if lines is None:
        return []
    if not isinstance(lines, list | tuple) or len(lines) > MAX_MATERIAL_LINES:
        raise ValidationError(
            {"materials": _("At most %(n)s material lines.") % {"n": MAX_MATERIAL_LINES}}
        )
    parsed, errors = [], []
    for number, line in enumerate(lines, start=1):
        try:
            item = clean_text(line.get("item"), "item", required=True, limit=100)
            unit_price = Decimal(str(line.get("unit_price")))
            quantity = Decimal(str(line.get("quantity")))
            if not unit_price.is_finite() or not quantity.is_finite():
                raise InvalidOperation
            material = MaterialLine(item=item, unit_price=unit_price, quantity=quantity)
            material.full_clean(exclude=["request"])
            parsed.append(material)
        except (ValidationError, InvalidOperation, AttributeError, TypeError):
            errors.append(
                _("Line %(n)s: give an item, a price of 0 or more and a quantity above 0.")
                % {"n": number}
            )
    if errors:
        raise ValidationError({"materials": errors})
    return parsed


def _parse_money(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value if value not in (None, "") else "0"))
        if not amount.is_finite() or amount < 0 or amount >= Decimal("100000000"):
            raise InvalidOperation
    except InvalidOperation:
        raise ValidationError({field: _("Enter an amount of 0 or more.")}) from None
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def request_complete(
    *,
    actor,
    request,
    work_notes,
    is_paid=False,
    labour_fee=None,
    materials=None,
    photos_before: Sequence = (),
    photos_after: Sequence = (),
    expected_version=None,
) -> ServiceRequest:
    """The technician finishes: notes, before/after photos and, for a paid repair, labour
    and materials, which the owner sees before confirming."""
    request, transition, _reason = _transition(
        actor, request, "complete", expected_version=expected_version
    )
    found = _Errors()
    notes = found.check(
        lambda: clean_text(work_notes, "work_notes", required=True, limit=DESCRIPTION_MAX)
    )
    lines = found.check(lambda: _parse_materials(materials if is_paid else None), [])
    fee = found.check(lambda: _parse_money(labour_fee if is_paid else 0, "labour_fee"))
    before_photos = found.check(lambda: prepare_photos(photos_before), [])
    after_photos = found.check(lambda: prepare_photos(photos_after), [])
    found.raise_if_any()
    now = timezone.now()
    request.work_notes, request.is_paid, request.labour_fee = notes, bool(is_paid), fee
    request.completed_at = now
    request.materials.all().delete()
    for line in lines:
        line.request = request
    MaterialLine.objects.bulk_create(lines)
    _save_photos(actor, request, Photo.Stage.BEFORE, before_photos)
    _save_photos(actor, request, Photo.Stage.AFTER, after_photos)
    _end_handling(request, Handling.Outcome.COMPLETED)
    _finish(
        actor,
        request,
        transition,
        before={},
        fields=["work_notes", "is_paid", "labour_fee", "completed_at"],
        extra={
            "is_paid": request.is_paid,
            "charge_total": str(request.labour_fee + sum((m.total for m in lines), Decimal(0))),
        },
    )
    _notify_owner(
        request,
        _("%(number)s is done: please confirm") % {"number": request.number},
        notes[:200],
    )
    return request


@transaction.atomic
def request_investigate(*, actor, request, assignee=None, expected_version=None) -> ServiceRequest:
    """A complaint gets a handler (the person acting, unless they name another)."""
    request, transition, _reason = _transition(
        actor, request, "investigate", expected_version=expected_version
    )
    handler = assignee or actor
    _check_handler(request, handler, None)
    now = timezone.now()
    request.assignee = handler
    request.accepted_at = request.accepted_at or now
    if request.first_contact_id is None:
        request.first_contact = actor
    hop = _start_handling(actor, request, handler, None, previous=None)
    hop.accepted_at = now
    hop.save(update_fields=["accepted_at"])
    _finish(
        actor,
        request,
        transition,
        before={"assignee": None},
        fields=["assignee", "accepted_at", "first_contact"],
        extra=_handler_snapshot(request),
    )
    if handler != actor:
        _notify_staff(
            request,
            [handler],
            _("Complaint %(number)s is yours to handle") % {"number": request.number},
            request.description[:200],
        )
    _notify_owner(
        request,
        _("We are looking into your complaint %(number)s") % {"number": request.number},
    )
    return request


@transaction.atomic
def request_reply(*, actor, request, reply, expected_version=None) -> ServiceRequest:
    """The answer to an inquiry, suggestion or praise, or the outcome of a complaint."""
    request, transition, _reason = _transition(
        actor, request, "reply", expected_version=expected_version
    )
    text = clean_text(reply, "reply", required=True, limit=DESCRIPTION_MAX)
    now = timezone.now()
    request.reply, request.replied_at = text, now
    request.accepted_at = request.accepted_at or now
    if request.first_contact_id is None:
        request.first_contact = actor
    _end_handling(request, Handling.Outcome.REPLIED)
    _finish(
        actor,
        request,
        transition,
        before={},
        fields=["reply", "replied_at", "accepted_at", "first_contact"],
        extra={"reply": text},
    )
    _notify_owner(
        request, _("Reply to your request %(number)s") % {"number": request.number}, text[:200]
    )
    return request


@transaction.atomic
def request_transfer(
    *, actor, request, reason, assignee=None, team=None, expected_version=None
) -> ServiceRequest:
    """转单: another technician or team takes over; the trail keeps both hops."""
    request, transition, reason = _transition(
        actor, request, "transfer", expected_version=expected_version, reason=reason
    )
    _check_handler(request, assignee, team)
    if assignee is not None and assignee.pk == request.assignee_id and team == request.team:
        raise ValidationError({"assignee": _("The request is already with this person.")})
    before = {"assignee": request.assignee_id, "team": request.team_id}
    previous = _end_handling(request, Handling.Outcome.TRANSFERRED, reason)
    request.assignee, request.team = assignee, team
    _start_handling(actor, request, assignee, team, previous=previous)
    # A repair in progress goes back to "dispatched": the new technician still has to arrive
    # (the old one's arrival is theirs, kept on their hop of the trail). Passed as the
    # target, so the event's `before` keeps the state it left.
    back_to_dispatched = request.status == Status.IN_PROGRESS
    if back_to_dispatched:
        request.arrived_at = None
    _finish(
        actor,
        request,
        transition,
        before=before,
        fields=["assignee", "team", "arrived_at"],
        extra={**_handler_snapshot(request), "reason": reason},
        target=Status.DISPATCHED if back_to_dispatched else None,
    )
    _notify_staff(
        request,
        _handlers_to_tell(request),
        _("%(number)s was transferred to you") % {"number": request.number},
        reason,
    )
    return request


@transaction.atomic
def request_return(
    *, actor, request, reason, to_previous=False, expected_version=None
) -> ServiceRequest:
    """退单: the technician gives the order back, to the dispatch pool or to whoever held it
    before them."""
    request, transition, reason = _transition(
        actor, request, "return", expected_version=expected_version, reason=reason
    )
    hop = _end_handling(request, Handling.Outcome.RETURNED, reason)
    before = {"assignee": request.assignee_id, "team": request.team_id}
    back_to = hop.previous if (to_previous and hop is not None) else None
    if to_previous and back_to is None:
        raise ValidationError({"to_previous": _("Nobody held this order before you.")})
    if back_to is not None:
        request.assignee, request.team = back_to.handler, back_to.team
        _start_handling(actor, request, back_to.handler, back_to.team, previous=hop)
        request_status_after = Status.DISPATCHED
    else:
        request.assignee, request.team = None, None
        request_status_after = Status.ACCEPTED
    request.arrived_at = None
    _finish(
        actor,
        request,
        transition,
        before=before,
        fields=["assignee", "team", "arrived_at"],
        extra={**_handler_snapshot(request), "reason": reason},
        target=request_status_after,
    )
    if back_to is not None:
        _notify_staff(
            request,
            _handlers_to_tell(request),
            _("%(number)s was returned to you") % {"number": request.number},
            reason,
        )
    else:
        _notify_staff(
            request,
            _dispatchers_of(request.estate),
            _("%(number)s was returned and needs a technician") % {"number": request.number},
            reason,
        )
    return request


def _dispatchers_of(estate) -> list:
    from jiayuan.org.models import Membership

    memberships = Membership.objects.filter(
        estate=estate, is_active=True, role__in=[Role.DISPATCHER, Role.SERVICE_DESK]
    ).select_related("user")
    return [m.user for m in memberships if m.user.is_active]


@transaction.atomic
def request_hold(*, actor, request, reason, expected_version=None) -> ServiceRequest:
    """暂停 (waiting for parts, for the owner, for another trade): resumes where it was."""
    request, transition, reason = _transition(
        actor, request, "hold", expected_version=expected_version, reason=reason
    )
    request.held_from, request.hold_reason = request.status, reason
    _finish(
        actor,
        request,
        transition,
        before={},
        fields=["held_from", "hold_reason"],
        extra={"reason": reason},
    )
    _notify_owner(request, _("%(number)s is paused") % {"number": request.number}, reason)
    return request


@transaction.atomic
def request_resume(*, actor, request, expected_version=None) -> ServiceRequest:
    request, transition, _reason = _transition(
        actor, request, "resume", expected_version=expected_version
    )
    _finish(actor, request, transition, before={}, fields=["held_from", "hold_reason"])
    request.held_from, request.hold_reason = "", ""
    request.save(update_fields=["held_from", "hold_reason"])
    _notify_owner(request, _("Work on %(number)s has resumed") % {"number": request.number})
    return request


@transaction.atomic
def request_confirm(*, actor, request, expected_version=None) -> ServiceRequest:
    """The owner (or the desk, on the phone with them) confirms the work or the reply."""
    request, transition, _reason = _transition(
        actor, request, "confirm", expected_version=expected_version
    )
    request.closed_at = timezone.now()
    _finish(actor, request, transition, before={}, fields=["closed_at"])
    _plan_return_visit(actor, request)
    return request


@transaction.atomic
def request_reopen(*, actor, request, reason, expected_version=None) -> ServiceRequest:
    """The owner rejects the work or the reply: it goes back to the same handler."""
    request, transition, reason = _transition(
        actor, request, "reopen", expected_version=expected_version, reason=reason
    )
    return _reopen(actor, request, transition, reason)


def _reopen(actor, request, transition, reason) -> ServiceRequest:
    previous = Handling.objects.filter(request=request).order_by("-assigned_at", "-id").first()
    request.reopen_count += 1
    request.completed_at = request.replied_at = request.closed_at = request.arrived_at = None
    hop = _start_handling(actor, request, request.assignee, request.team, previous=previous)
    if transition.target == Status.INVESTIGATING:
        hop.accepted_at = timezone.now()
        hop.save(update_fields=["accepted_at"])
    _finish(
        actor,
        request,
        transition,
        before={},
        fields=["reopen_count", "completed_at", "replied_at", "closed_at", "arrived_at"],
        extra={"reason": reason, "reopen_count": request.reopen_count},
    )
    _notify_staff(
        request,
        _handlers_to_tell(request),
        _("%(number)s was reopened") % {"number": request.number},
        reason,
    )
    return request


# ----------------------------------------------------------------------------- labels

# A request's kind decides its workflow: it may change only before any step of one kind.
KIND_CHANGES_IN = frozenset({Status.SUBMITTED, Status.ACCEPTED})
LABELS = ("kind", "category", "urgency")


def may_reclassify(user, request: ServiceRequest) -> bool:
    return user.is_superuser or bool(roles_in_estate(user, request.estate) & workflow.DISPATCH)


@transaction.atomic
def request_reclassify(
    *, actor, request, kind=None, category=None, urgency=None, expected_version=None
) -> ServiceRequest:
    """The desk corrects a request's kind, category or urgency (None: unchanged); the
    triage app keeps the correction to learn from. The SLA clocks keep the policy the
    request came in under, and the number its prefix (docs/decisions.md)."""
    ensure_allowed(actor, VIEW, request)
    locked = _locked(request)
    _ensure_version(locked, expected_version)
    if not may_reclassify(actor, locked):
        raise PermissionDenied(_("You are not allowed to do this."))
    found = _Errors()
    wanted = {
        field: value
        for field, value in zip(LABELS, (kind, category, urgency), strict=True)
        if value is not None and value != getattr(locked, field)
    }
    if "kind" in wanted:
        found.check(lambda: _choice(wanted["kind"], "kind", Kind))
        if locked.status not in KIND_CHANGES_IN:
            found.add(
                "kind", _("The kind can only change before the request is dispatched or handled.")
            )
    if "category" in wanted:
        found.check(lambda: _choice(wanted["category"], "category", Category))
        if wanted["category"] in Category.values and wanted["category"] not in offered_codes(
            locked.estate.company_id
        ):
            found.add("category", _("This company does not take requests of this category."))
    if "urgency" in wanted:
        found.check(lambda: _choice(wanted["urgency"], "urgency", Urgency))
    found.raise_if_any()
    if not wanted:
        return locked
    before = {field: getattr(locked, field) for field in LABELS}
    for field, value in wanted.items():
        setattr(locked, field, value)
    locked.version += 1
    locked.save(update_fields=[*wanted, "version", "updated_at"])
    record_event(
        actor=actor,
        code=DeskEvent.RECLASSIFIED,
        target=locked,
        estate=locked.estate,
        before={field: before[field] for field in wanted},
        after=dict(wanted),
    )
    triage.classification_relabel(
        actor=actor, request=locked, before=tuple(before[field] for field in LABELS)
    )
    if wanted.get("kind") == Kind.COMPLAINT and before["kind"] != Kind.COMPLAINT:
        _tell_managers_of_complaint(locked)
    # Another category or kind may be dispatched another way (a grab pool for lifts).
    _announce_if_waiting(locked)
    return locked


# ----------------------------------------------------------------------------- ratings


def _rating_value(value, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValidationError({field: _("Give 1 to 5 stars.")})
    try:
        number = int(value)
    except ValueError:
        raise ValidationError({field: _("Give 1 to 5 stars.")}) from None
    if not 1 <= number <= 5:
        raise ValidationError({field: _("Give 1 to 5 stars.")})
    return number


RATING_TAG_CHOICES = (
    gettext_lazy("On time"),
    gettext_lazy("Friendly"),
    gettext_lazy("Tidy work"),
    gettext_lazy("Explained clearly"),
    gettext_lazy("Slow"),
    gettext_lazy("Not fixed"),
    gettext_lazy("Messy"),
    gettext_lazy("Rude"),
)


def rating_allowed(user, request: ServiceRequest) -> bool:
    """Whether to offer the rating form: the reporter's own closed request, not rated yet
    (request_rate checks the same, each with its own message)."""
    return (
        request.reporter_user_id == user.pk
        and request.status == Status.CLOSED
        and request.kind != Kind.PRAISE
        and not Rating.objects.filter(request=request).exists()
    )


@transaction.atomic
def request_rate(
    *,
    actor,
    request,
    overall,
    timeliness=None,
    attitude=None,
    quality=None,
    comment="",
    tags: Sequence[str] = (),
    expected_version=None,
) -> Rating:
    """The owner rates a closed request once: overall and three dimensions (each defaults
    to the overall score), a comment and tags."""
    ensure_allowed(actor, VIEW, request)
    request = _locked(request)
    _ensure_version(request, expected_version)
    if request.reporter_user_id != actor.pk:
        raise PermissionDenied(_("Only the owner who reported it can rate it."))
    if request.status != Status.CLOSED or request.kind == Kind.PRAISE:
        raise ValidationError(_("Only a closed request can be rated."))
    if Rating.objects.filter(request=request).exists():
        raise RequestChanged(_("This request has already been rated."))
    found = _Errors()
    overall_value = found.check(lambda: _rating_value(overall, "overall"))
    scores = {
        name: found.check(
            lambda value=value, name=name: _rating_value(
                overall if value in (None, "") else value, name
            )
        )
        for name, value in (
            ("timeliness", timeliness),
            ("attitude", attitude),
            ("quality", quality),
        )
    }
    text = found.check(lambda: clean_text(comment, "comment", required=False, limit=1000))
    if not isinstance(tags, list | tuple) or len(tags) > RATING_TAGS_MAX:
        found.add("tags", _("At most %(n)s tags.") % {"n": RATING_TAGS_MAX})
        tags = []
    clean_tags = [
        found.check(lambda tag=tag: clean_text(tag, "tags", required=True, limit=20))
        for tag in tags
    ]
    found.raise_if_any()
    rating = Rating.objects.create(
        request=request,
        overall=overall_value,
        comment=text,
        tags=list(dict.fromkeys(clean_tags)),
        rated_by=actor,
        **scores,
    )
    _after_rating(actor, request, rating, DeskEvent.RATED)
    return rating


def _after_rating(actor, request: ServiceRequest, rating: Rating, code: DeskEvent) -> None:
    record_event(
        actor=actor,
        code=code,
        target=request,
        estate=request.estate,
        after={
            "overall": rating.overall,
            "timeliness": rating.timeliness,
            "attitude": rating.attitude,
            "quality": rating.quality,
            "comment": rating.comment,
            "tags": rating.tags,
        },
    )
    if rating.overall <= LOW_RATING and not rating.is_automatic:
        _notify_staff(
            request,
            estate_managers(request.estate),
            _("Low rating (%(stars)s★) on %(number)s")
            % {"stars": rating.overall, "number": request.number},
            rating.comment[:200],
        )
    _plan_return_visit(actor, request, rating=rating)


# ----------------------------------------------------------------------------- return visits


def _needs_visit(request: ServiceRequest, rating: Rating | None) -> bool:
    policy = desk_settings(request.company).visit_policy_for(request.kind)
    if policy == DeskSettings.VisitPolicy.ALWAYS:
        return True
    if policy == DeskSettings.VisitPolicy.IF_NOT_RATED:
        return rating is not None and rating.is_automatic
    if policy == DeskSettings.VisitPolicy.LOW_RATINGS:
        return request.kind == Kind.COMPLAINT or (
            rating is not None and not rating.is_automatic and rating.overall <= VISIT_RATING
        )
    return False


def _plan_return_visit(actor, request: ServiceRequest, rating: Rating | None = None) -> None:
    """Called when a request closes and when it is rated: the policy decides whether the
    desk calls back. One visit per request, however often this runs."""
    if request.status != Status.CLOSED or not _needs_visit(request, rating):
        return
    hours = desk_settings(request.company).return_visit_within_hours
    visit, created = ReturnVisit.objects.get_or_create(
        request=request, defaults={"due_at": timezone.now() + timedelta(hours=hours)}
    )
    if created:
        record_event(
            actor=actor,
            code=DeskEvent.VISIT_PLANNED,
            target=request,
            estate=request.estate,
            after={"due_at": visit.due_at.isoformat()},
        )


@transaction.atomic
def return_visit_record(
    *, actor, visit: ReturnVisit, method, outcome, note="", follow_up: str = ""
) -> ReturnVisit:
    """The desk records the call back. An unhappy owner's repair can be reopened, or a
    complaint opened that follows up on the request (`follow_up` "reopen" or "complaint")."""
    ensure_allowed(actor, VIEW, visit)
    ensure_allowed(actor, "change", visit)
    visit = ReturnVisit.objects.select_for_update().select_related("request").get(pk=visit.pk)
    if visit.done_at is not None:
        raise RequestChanged(_("This return visit has already been recorded."))
    found = _Errors()
    found.check(lambda: _choice(method, "method", ReturnVisit.Method))
    found.check(lambda: _choice(outcome, "outcome", ReturnVisit.Outcome))
    text = found.check(lambda: clean_text(note, "note", required=False, limit=1000))
    if follow_up not in ("", "reopen", "complaint"):
        found.add("follow_up", _("Choose one of the listed values."))
    if follow_up and outcome != ReturnVisit.Outcome.UNSATISFIED:
        found.add("follow_up", _("Only an unhappy owner's request needs a follow-up."))
    if follow_up == "reopen" and visit.request.kind != Kind.REPAIR:
        found.add("follow_up", _("Only a repair can be reopened."))
    found.raise_if_any()
    visit.method, visit.outcome, visit.note = method, outcome, text
    visit.done_at, visit.done_by = timezone.now(), actor
    visit.save()
    request = visit.request
    record_event(
        actor=actor,
        code=DeskEvent.VISIT_DONE,
        target=request,
        estate=request.estate,
        after={"method": method, "outcome": outcome, "note": text, "follow_up": follow_up},
    )
    if follow_up == "reopen":
        locked, transition, reason = _transition(
            actor,
            request,
            "reopen_after_visit",
            expected_version=None,
            reason=text or _("The owner was not satisfied at the return visit."),
        )
        _reopen(actor, locked, transition, reason)
    elif follow_up == "complaint":
        complaint = request_create(
            actor=actor,
            estate=request.estate,
            kind=Kind.COMPLAINT,
            category=request.category,
            description=_("Return visit of %(number)s: %(note)s")
            % {"number": request.number, "note": text or _("the owner was not satisfied")},
            channel=Channel.PHONE,
            unit=request.unit,
            common_area=request.common_area,
            reporter=request.reporter,
            contact_name=request.contact_name,
            contact_phone=request.contact_phone,
        )
        complaint.related_to = request
        complaint.reporter_user = request.reporter_user
        complaint.save(update_fields=["related_to", "reporter_user"])
    return visit


# ----------------------------------------------------------------------------- automatic closing


def auto_close_due(*, now: datetime | None = None) -> int:
    """Requests finished but neither confirmed nor rated within the company's time are
    closed and rated automatically (marked so). Safe to run twice: each request is locked
    and checked again before it is touched. Returns how many were handled."""
    now = now or timezone.now()
    handled = 0
    for company_id, hours, stars in _auto_rate_rules():
        cutoff = now - timedelta(hours=hours)
        waiting = (
            ServiceRequest.objects.filter(company_id=company_id)
            .filter(status__in=[Status.COMPLETED, Status.REPLIED])
            .filter(
                # Whichever finished it: the work or the reply.
                _finished_before(cutoff)
            )
            .values_list("pk", flat=True)
        )
        unrated = (
            ServiceRequest.objects.filter(
                company_id=company_id,
                status=Status.CLOSED,
                rating__isnull=True,
                closed_at__lte=cutoff,
            )
            .exclude(kind=Kind.PRAISE)
            .exclude(closed_at__isnull=True)
            .values_list("pk", flat=True)
        )
        for pk in [*waiting, *unrated]:
            handled += _auto_close_one(pk, cutoff, stars)
    return handled


def _finished_before(cutoff) -> Q:
    return Q(completed_at__lte=cutoff) | Q(completed_at__isnull=True, replied_at__lte=cutoff)


def _auto_rate_rules():
    from jiayuan.org.models import Company

    custom = {
        s.company_id: (s.auto_rate_after_hours, s.auto_rating) for s in DeskSettings.objects.all()
    }
    default = DeskSettings()
    for company_id in Company.objects.values_list("pk", flat=True):
        hours, stars = custom.get(company_id, (default.auto_rate_after_hours, default.auto_rating))
        yield company_id, hours, stars


@transaction.atomic
def _auto_close_one(pk: int, cutoff: datetime, stars: int) -> int:
    request = _locked(ServiceRequest(pk=pk))
    closed_now = 0
    if request.status in (Status.COMPLETED, Status.REPLIED):
        finished = request.completed_at or request.replied_at
        if finished is None or finished > cutoff:
            return 0
        old = request.status
        request.status, request.closed_at, request.auto_closed = Status.CLOSED, timezone.now(), True
        request.version += 1
        deadlines.moved(request, old)
        request.save(
            update_fields=["status", "closed_at", "auto_closed", "due_at", "version", "updated_at"]
        )
        record_event(
            actor=None,
            code=DeskEvent.AUTO_CLOSED,
            target=request,
            estate=request.estate,
            before={"status": old},
            after={"status": request.status},
        )
        closed_now = 1
    # A praise is closed but never rated: nobody rates being thanked.
    if request.status != Status.CLOSED or request.kind == Kind.PRAISE:
        return closed_now
    if Rating.objects.filter(request=request).exists():
        return closed_now
    if request.closed_at is None or (request.closed_at > cutoff and not request.auto_closed):
        return closed_now
    rating = Rating.objects.create(
        request=request,
        overall=stars,
        timeliness=stars,
        attitude=stars,
        quality=stars,
        is_automatic=True,
    )
    _after_rating(None, request, rating, DeskEvent.AUTO_RATED)
    return 1


# ----------------------------------------------------------------------------- photos


@transaction.atomic
def request_add_photos(*, actor, request, photos: Sequence, expected_version=None) -> list[Photo]:
    """More photos on an open request: the owner's of the fault, staff's of the work."""
    ensure_allowed(actor, VIEW, request)
    request = _locked(request)
    _ensure_version(request, expected_version)
    relations = actor_relations(actor, request)
    if not request.is_open:
        raise ValidationError(_("Photos can only be added to an open request."))
    if workflow.REPORTER in relations:
        stage = Photo.Stage.REPORT
    elif relations & (workflow.DISPATCH | {workflow.ASSIGNEE}):
        stage = Photo.Stage.BEFORE if request.status != Status.COMPLETED else Photo.Stage.AFTER
    else:
        raise PermissionDenied(_("You are not allowed to do this."))
    already = Photo.objects.filter(request=request, stage=stage).count()
    prepared = prepare_photos(photos, already=already)
    saved = _save_photos(actor, request, stage, prepared)
    record_event(
        actor=actor,
        code=DeskEvent.PHOTOS_ADDED,
        target=request,
        estate=request.estate,
        after={"stage": stage, "count": len(saved)},
    )
    return saved


# ------------------------------------------------------------- desk settings and reply templates


TEMPLATE_FIELDS = {"kind", "title", "body"}


def _template_values(fields: dict) -> dict:
    unknown = set(fields) - TEMPLATE_FIELDS
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    found = _Errors()
    values = {}
    if "kind" in fields:
        values["kind"] = found.check(lambda: _choice(fields["kind"], "kind", Kind))
    if "title" in fields:
        values["title"] = found.check(
            lambda: clean_text(fields["title"], "title", required=True, limit=100)
        )
    if "body" in fields:
        values["body"] = found.check(
            lambda: clean_text(fields["body"], "body", required=True, limit=DESCRIPTION_MAX)
        )
    found.raise_if_any()
    return values


@transaction.atomic
def reply_template_create(*, actor, company, kind, title, body) -> ReplyTemplate:
    ensure_company_role(actor, company, ReplyTemplate.access.staff[ADD])
    template = ReplyTemplate(
        company=company, **_template_values({"kind": kind, "title": title, "body": body})
    )
    template.save()
    record_event(
        actor=actor,
        code=DeskEvent.TEMPLATE_CREATED,
        target=template,
        company=company,
        after=snapshot(template, ["kind", "title", "body"]),
    )
    return template


@transaction.atomic
def reply_template_update(*, actor, template: ReplyTemplate, **changes) -> ReplyTemplate:
    ensure_allowed(actor, CHANGE, template)
    values = _template_values(changes)
    before = snapshot(template, ["kind", "title", "body"])
    for name, value in values.items():
        setattr(template, name, value)
    template.save()
    old, new = changed_only(before, snapshot(template, ["kind", "title", "body"]))
    if new:
        record_event(
            actor=actor,
            code=DeskEvent.TEMPLATE_UPDATED,
            target=template,
            company=template.company,
            before=old,
            after=new,
        )
    return template


@transaction.atomic
def reply_template_delete(*, actor, template: ReplyTemplate) -> None:
    # Whoever may change the company's templates may also remove one.
    ensure_allowed(actor, CHANGE, template)
    record_event(
        actor=actor,
        code=DeskEvent.TEMPLATE_DELETED,
        target=template,
        company=template.company,
        before=snapshot(template, ["kind", "title", "body"]),
    )
    template.delete()


SETTINGS_FIELDS = {
    "offered_categories",
    "auto_rate_after_hours",
    "auto_rating",
    "return_visit_within_hours",
    "visit_policy",
}


def _offered_categories(value) -> list[str]:
    """Known category codes, in the default order; an empty list offers them all."""
    if not isinstance(value, list | tuple) or not all(isinstance(code, str) for code in value):
        raise ValidationError({"offered_categories": _("Send a list of category codes.")})
    unknown = set(value) - set(Category.values)
    if unknown:
        raise ValidationError(
            {
                "offered_categories": _("Unknown categories: %(codes)s.")
                % {"codes": ", ".join(sorted(unknown))}
            }
        )
    return [code for code in Category.values if code in set(value)]


def _visit_policy(value) -> dict:
    if not isinstance(value, dict) or any(
        kind not in Kind.values or policy not in DeskSettings.VisitPolicy.values
        for kind, policy in value.items()
    ):
        raise ValidationError({"visit_policy": _("Choose one of the listed values.")})
    return dict(value)


@transaction.atomic
def desk_settings_update(*, actor, company, **changes) -> DeskSettings:
    """A manager changes the company's desk rules; the row is made on the first change."""
    ensure_company_role(actor, company, DeskSettings.access.staff[CHANGE])
    unknown = set(changes) - SETTINGS_FIELDS
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    if "visit_policy" in changes:
        changes["visit_policy"] = _visit_policy(changes["visit_policy"])
    if "offered_categories" in changes:
        changes["offered_categories"] = _offered_categories(changes["offered_categories"])
    settings_row, _created = DeskSettings.objects.select_for_update().get_or_create(company=company)
    before = snapshot(settings_row, sorted(SETTINGS_FIELDS))
    for name, value in changes.items():
        setattr(settings_row, name, value)
    settings_row.full_clean(exclude=["company"], validate_unique=False)
    settings_row.save()
    _offered.forget(lambda key: key == company.pk)
    old, new = changed_only(before, snapshot(settings_row, sorted(SETTINGS_FIELDS)))
    if new:
        record_event(
            actor=actor,
            code=DeskEvent.SETTINGS_UPDATED,
            target=settings_row,
            company=company,
            before=old,
            after=new,
        )
    return settings_row
