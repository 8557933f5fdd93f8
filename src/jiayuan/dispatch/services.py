"""Dispatch: the only way to write technician profiles, dispatch modes and grab offers, and
the routing of a waiting repair by its estate's mode."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, time, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.comms.services import notify
from jiayuan.core.access import ADD, CHANGE, DELETE, VIEW, ensure_allowed, ensure_can_in_estate
from jiayuan.core.audit import record_event, snapshot
from jiayuan.core.roles import Role
from jiayuan.dispatch import assignment, selectors
from jiayuan.dispatch.events import DispatchEvent
from jiayuan.dispatch.models import (
    DispatchRule,
    GrabOffer,
    Mode,
    Shift,
    TechnicianProfile,
    on_duty,
)
from jiayuan.org.models import Building, Estate, Membership, Team
from jiayuan.servicedesk.models import Category, ServiceRequest
from jiayuan.servicedesk.services import (
    RequestChanged,
    is_waiting_for_dispatch,
    request_dispatch_by_rule,
)

log = logging.getLogger(__name__)
# Staff who can be given repair orders.
FIELD_ROLES = (Role.TECHNICIAN,)
MAX_SHIFTS = 7 * 4


# ----------------------------------------------------------------------------- profiles


def _skills(value) -> dict[str, int]:
    if not isinstance(value, Mapping):
        raise ValidationError({"skills": _("Give skills as category and level pairs.")})
    found = {}
    for code, level in value.items():
        if code not in Category.values:
            raise ValidationError({"skills": _("Unknown skill “%(code)s”.") % {"code": code}})
        if isinstance(level, bool) or not isinstance(level, int) or not 0 <= level <= 3:
            raise ValidationError({"skills": _("A skill level is 1, 2 or 3 (0 removes it).")})
        if level:
            found[code] = level
    return found


def _shifts(value) -> list[tuple[int, time, time]]:
    rows = list(value)
    if len(rows) > MAX_SHIFTS:
        raise ValidationError({"shifts": _("At most %(n)d shifts a week.") % {"n": MAX_SHIFTS}})
    found = []
    for row in rows:
        try:
            weekday, starts, ends = row
        except (TypeError, ValueError):
            raise ValidationError(
                {"shifts": _("A shift is a weekday, a start and an end.")}
            ) from None
        if not isinstance(weekday, int) or isinstance(weekday, bool) or not 0 <= weekday <= 6:
            raise ValidationError({"shifts": _("A weekday is 0 (Monday) to 6 (Sunday).")})
        if not isinstance(starts, time) or not isinstance(ends, time):
            raise ValidationError({"shifts": _("A shift starts and ends at a time of day.")})
        if starts == ends:
            raise ValidationError({"shifts": _("A shift cannot end when it starts.")})
        found.append((weekday, starts, ends))
    return found


def _ensure_technician(user, estate: Estate) -> None:
    works_here = Membership.objects.filter(
        user=user, estate=estate, role__in=FIELD_ROLES, is_active=True
    ).exists()
    if not (user.is_active and works_here):
        raise ValidationError({"user": _("This person is not a technician of this estate.")})


@transaction.atomic
def profile_save(
    *,
    actor,
    estate: Estate,
    user,
    skills: Mapping[str, int],
    shifts: Iterable = (),
    team: Team | None = None,
    buildings: Iterable[Building] = (),
    max_open: int = 5,
    is_active: bool = True,
) -> TechnicianProfile:
    """Create or replace a technician's profile in an estate (skills, place, shifts, cap)."""
    profile = TechnicianProfile.objects.filter(user=user, estate=estate).first()
    _ensure_may_save(actor, TechnicianProfile, profile, estate)
    skills, shifts, buildings = _skills(skills), _shifts(shifts), list(buildings)
    _ensure_technician(user, estate)
    if team is not None and team.estate_id != estate.pk:
        raise ValidationError({"team": _("This team works in another estate.")})
    if any(b.estate_id != estate.pk for b in buildings):
        raise ValidationError({"buildings": _("A building is in another estate.")})
    if isinstance(max_open, bool) or not isinstance(max_open, int) or not 1 <= max_open <= 50:
        raise ValidationError({"max_open": _("Most open orders is a number from 1 to 50.")})
    before = snapshot(profile, ["skills", "team", "max_open", "is_active"]) if profile else None
    profile = profile or TechnicianProfile(user=user, estate=estate)
    profile.skills, profile.team, profile.max_open = skills, team, max_open
    profile.is_active = bool(is_active)
    profile.full_clean(exclude=["user", "estate", "team"])
    profile.save()
    profile.buildings.set(buildings)
    profile.shifts.all().delete()
    Shift.objects.bulk_create(
        Shift(profile=profile, weekday=d, starts=s, ends=e) for d, s, e in shifts
    )
    record_event(
        actor=actor,
        code=DispatchEvent.PROFILE_SAVED,
        target=profile,
        estate=estate,
        before=before,
        after={
            **snapshot(profile, ["skills", "team", "max_open", "is_active"]),
            "buildings": sorted(b.pk for b in buildings),
            "shifts": [[d, s.isoformat(), e.isoformat()] for d, s, e in shifts],
        },
    )
    return profile


def profile_delete(*, actor, profile: TechnicianProfile) -> None:
    _delete(actor, profile, DispatchEvent.PROFILE_DELETED, ["user", "skills", "max_open"])


# ----------------------------------------------------------------------------- modes


@transaction.atomic
def rule_save(
    *, actor, estate: Estate, category: str = "", mode: str, grab_minutes: int = 10
) -> DispatchRule:
    """Set how an estate's requests of a category (or of all, with no category) are sent."""
    rule = DispatchRule.objects.filter(estate=estate, category=category or "").first()
    _ensure_may_save(actor, DispatchRule, rule, estate)
    if category and category not in Category.values:
        raise ValidationError({"category": _("Unknown category.")})
    if mode not in Mode.values:
        raise ValidationError({"mode": _("Unknown dispatch mode.")})
    if isinstance(grab_minutes, bool) or not isinstance(grab_minutes, int):
        raise ValidationError({"grab_minutes": _("Give the minutes as a whole number.")})
    before = snapshot(rule, ["mode", "grab_minutes"]) if rule else None
    rule = rule or DispatchRule(estate=estate, category=category or "")
    rule.mode, rule.grab_minutes = mode, grab_minutes
    rule.full_clean(exclude=["estate"], validate_constraints=False)
    rule.save()
    selectors.forget_rules(estate.pk)
    record_event(
        actor=actor,
        code=DispatchEvent.RULE_SAVED,
        target=rule,
        estate=estate,
        before=before,
        after=snapshot(rule, ["category", "mode", "grab_minutes"]),
    )
    return rule


def rule_delete(*, actor, rule: DispatchRule) -> None:
    _delete(actor, rule, DispatchEvent.RULE_DELETED, ["category", "mode", "grab_minutes"])
    selectors.forget_rules(rule.estate_id)


def _ensure_may_save(actor, model, existing, estate: Estate) -> None:
    """Adding in the estate for a new record, changing the one that is there."""
    if existing is None:
        ensure_can_in_estate(actor, model, ADD, estate)
    else:
        ensure_allowed(actor, CHANGE, existing)


@transaction.atomic
def _delete(actor, record, code: DispatchEvent, fields: list[str]) -> None:
    ensure_allowed(actor, DELETE, record)
    record_event(
        actor=actor,
        code=code,
        target=record,
        estate=record.estate,
        before=snapshot(record, fields),
    )
    record.delete()


# ----------------------------------------------------------------------------- routing


def on_waiting(*, request_id: int, estate_id: int, category: str, **_ignored) -> None:
    """A repair waits for a technician (the service desk's signal, after its commit): send
    it by the estate's mode. A failure here must not undo the owner's request; the minute
    tick tries again."""
    try:
        route(request_id, estate_id, category)
    except Exception:
        log.exception("dispatching request %s failed; the minute tick will retry", request_id)


def route(request_id: int, estate_id: int, category: str, now: datetime | None = None) -> str:
    """Send the request by the mode of its estate and category; by hand (the desk's
    queue), nothing is done and the request is not even read."""
    if selectors.mode_for(selectors.rules_of(estate_id), category) == Mode.MANUAL:
        return ""
    request = ServiceRequest.objects.filter(pk=request_id).first()
    if request is None or not is_waiting_for_dispatch(request):
        return ""
    # Read again: the desk may have reclassified it since the signal was sent.
    mode = selectors.mode_for(selectors.rules_of(estate_id), request.category)
    if mode == Mode.AUTOMATIC:
        run_automatic(estate_id, now=now)
    elif mode == Mode.ROUND_ROBIN:
        dispatch_round_robin(request, now=now)
    elif mode == Mode.GRAB:
        offer(request, now=now)
    return mode


def _give(request: ServiceRequest, user_id: int, mode: str, grabbed_by=None) -> bool:
    """Dispatch in a savepoint; False when the request moved on meanwhile."""
    from django.contrib.auth import get_user_model

    try:
        with transaction.atomic():
            assignee = get_user_model().objects.get(pk=user_id)
            request_dispatch_by_rule(
                request=request, assignee=assignee, mode=mode, grabbed_by=grabbed_by
            )
            TechnicianProfile.objects.filter(user_id=user_id, estate_id=request.estate_id).update(
                last_given_at=timezone.now()
            )
    except (RequestChanged, ValidationError) as refused:
        log.info("request %s not dispatched by %s: %s", request.pk, mode, refused)
        return False
    return True


def _lock_estate(estate_id: int) -> None:
    """One dispatch run per estate at a time: two runs would each see the same free
    technicians and together exceed their caps."""
    Estate.objects.select_for_update().filter(pk=estate_id).values_list("pk").first()


@transaction.atomic
def run_automatic(estate_id: int, now: datetime | None = None) -> dict[str, int]:
    """Assign every waiting request of the estate sent automatically (and those whose grab
    offer ran out) to the technicians on duty, all at once. Returns number → technician."""
    now = now or timezone.now()
    _lock_estate(estate_id)
    rules = selectors.rules_of(estate_id)
    expired = set(
        GrabOffer.objects.filter(estate_id=estate_id, status=GrabOffer.Status.EXPIRED).values_list(
            "request_id", flat=True
        )
    )
    waiting = [
        r
        for r in selectors.waiting_requests(estate_id).select_related("estate")
        if selectors.mode_for(rules, r.category) == Mode.AUTOMATIC or r.pk in expired
    ]
    if not waiting:
        return {}
    order = selectors.building_order(estate_id)
    able = selectors.technicians(estate_id, now, order)
    chosen = assignment.assign(selectors.jobs(waiting, order, now), [a.worker for a in able])
    by_pk = {r.pk: r for r in waiting}
    given = {}
    for request_pk, user_id in sorted(chosen.items()):
        request = by_pk[request_pk]
        if _give(request, user_id, Mode.AUTOMATIC):
            given[request.number] = user_id
    if given:
        record_event(
            actor=None,
            code=DispatchEvent.AUTO_RUN,
            estate=Estate.objects.get(pk=estate_id),
            after={"waiting": len(waiting), "dispatched": given, "technicians": len(able)},
        )
    return given


@transaction.atomic
def dispatch_round_robin(request: ServiceRequest, now: datetime | None = None) -> int | None:
    """Give the request to the able technician on duty who was given an order longest ago."""
    now = now or timezone.now()
    _lock_estate(request.estate_id)
    order = selectors.building_order(request.estate_id)
    able = selectors.technicians(request.estate_id, now, order)
    last = {
        a.profile.user_id: a.profile.last_given_at.timestamp()
        for a in able
        if a.profile.last_given_at
    }
    job = selectors.job_of(request, order, now)
    chosen = assignment.round_robin(job, [a.worker for a in able], last)
    if chosen is not None and _give(request, chosen, Mode.ROUND_ROBIN):
        return chosen
    return None


# ----------------------------------------------------------------------------- grab pool


def _able_now(request: ServiceRequest, now: datetime) -> list[selectors.Able]:
    able = selectors.technicians(request.estate_id, now)
    job = assignment.Job(key=request.pk, category=request.category)
    return [a for a in able if assignment.refusal(job, a.worker) is None]


@transaction.atomic
def offer(request: ServiceRequest, now: datetime | None = None) -> GrabOffer | None:
    """Put the request in the grab pool for its rule's minutes and tell the technicians who
    could take it now. None if it already has an open offer."""
    now = now or timezone.now()
    rule = selectors.rule_for(request.estate_id, request.category)
    minutes = rule.grab_minutes if rule else DispatchRule._meta.get_field("grab_minutes").default
    try:
        with transaction.atomic():
            grab = GrabOffer.objects.create(
                request=request,
                estate_id=request.estate_id,
                opened_at=now,
                expires_at=now + timedelta(minutes=minutes),
            )
    except IntegrityError:
        return None
    able = _able_now(request, now)
    record_event(
        actor=None,
        code=DispatchEvent.OFFERED,
        target=request,
        estate=request.estate,
        after={"until": grab.expires_at.isoformat(), "technicians": len(able)},
    )
    if able:
        notify(
            recipients=[a.profile.user for a in able],
            kind="dispatch.pool",
            title=_("New order to grab: %(number)s") % {"number": request.number},
            body=request.description[:200],
            link="/dispatch/pool/",
            estate=request.estate,
        )
    return grab


def pool_for(user, now: datetime | None = None) -> list[GrabOffer]:
    """The open offers this technician could grab now: their estates, their skills, on
    duty, below their cap."""
    now = now or timezone.now()
    local = selectors.local_now(now)
    found = []
    profiles = TechnicianProfile.objects.filter(user=user, is_active=True).prefetch_related(
        "shifts"
    )
    for profile in profiles:
        if not on_duty(profile.shifts.all(), local):
            continue
        held = ServiceRequest.objects.filter(
            estate_id=profile.estate_id, assignee=user, status__in=selectors.HELD
        ).count()
        if held >= profile.max_open:
            continue
        offers = GrabOffer.objects.filter(
            estate_id=profile.estate_id,
            status=GrabOffer.Status.OPEN,
            expires_at__gt=now,
            request__category__in=list(profile.skills),
        ).select_related("request", "request__building", "request__common_area")
        found.extend(offers)
    return sorted(found, key=lambda o: (o.request.urgency != "emergency", o.expires_at))


@transaction.atomic
def grab(*, actor, offer_id: int, now: datetime | None = None) -> ServiceRequest:
    """抢单: the first able technician to grab an open offer gets the order; anyone after
    them is told it is gone."""
    now = now or timezone.now()
    locked = GrabOffer.objects.select_for_update().filter(pk=offer_id).first()
    if locked is None:
        raise Http404(_("Not found."))
    ensure_allowed(actor, VIEW, locked)
    if locked.status == GrabOffer.Status.GRABBED:
        raise RequestChanged(_("Someone else has already grabbed this order."))
    if locked.status != GrabOffer.Status.OPEN or locked.expires_at <= now:
        raise RequestChanged(_("This offer has closed; the order is being dispatched."))
    request = locked.request
    if not any(a.profile.user_id == actor.pk for a in _able_now(request, now)):
        raise PermissionDenied(
            _("You cannot take this order now (skill, shift or too many open orders).")
        )
    if not _give(request, actor.pk, Mode.GRAB, grabbed_by=actor):
        locked.status, locked.closed_at = GrabOffer.Status.WITHDRAWN, now
        locked.save(update_fields=["status", "closed_at"])
        raise RequestChanged(_("This request was dispatched another way meanwhile."))
    locked.status, locked.closed_at, locked.grabbed_by = GrabOffer.Status.GRABBED, now, actor
    locked.save(update_fields=["status", "closed_at", "grabbed_by"])
    record_event(
        actor=actor, code=DispatchEvent.GRABBED, target=request, estate=request.estate, after={}
    )
    request.refresh_from_db()
    return request


def expire_offers(now: datetime | None = None) -> int:
    """Close the offers nobody grabbed in time and dispatch their requests automatically."""
    now = now or timezone.now()
    estates = set()
    with transaction.atomic():
        due = list(
            GrabOffer.objects.select_for_update(skip_locked=True)
            .filter(status=GrabOffer.Status.OPEN, expires_at__lte=now)
            .select_related("request", "estate")
        )
        for grab_offer in due:
            grab_offer.status, grab_offer.closed_at = GrabOffer.Status.EXPIRED, now
            grab_offer.save(update_fields=["status", "closed_at"])
            record_event(
                actor=None,
                code=DispatchEvent.OFFER_EXPIRED,
                target=grab_offer.request,
                estate=grab_offer.estate,
            )
            estates.add(grab_offer.estate_id)
    for estate_id in sorted(estates):
        run_automatic(estate_id, now=now)
    return len(due)


def tick(now: datetime | None = None) -> int:
    """Every minute: offers that ran out fall back to automatic; requests that found nobody
    when they arrived are tried again (a shift may have started)."""
    now = now or timezone.now()
    handled = expire_offers(now)
    estates = set(
        DispatchRule.objects.exclude(mode=Mode.MANUAL).values_list("estate_id", flat=True)
    )
    for estate_id in sorted(estates):
        rules = selectors.rules_of(estate_id)
        offers = GrabOffer.objects.filter(
            estate_id=estate_id, status__in=(GrabOffer.Status.OPEN, GrabOffer.Status.EXPIRED)
        ).values_list("request_id", "status")
        open_offer = {pk for pk, status in offers if status == GrabOffer.Status.OPEN}
        expired = {pk for pk, status in offers if status == GrabOffer.Status.EXPIRED}
        waiting = list(selectors.waiting_requests(estate_id))
        modes = {r.pk: selectors.mode_for(rules, r.category) for r in waiting}
        if any(m == Mode.AUTOMATIC or pk in expired for pk, m in modes.items()):
            handled += len(run_automatic(estate_id, now=now))
        for request in waiting:
            mode = modes[request.pk]
            if mode == Mode.ROUND_ROBIN:
                handled += dispatch_round_robin(request, now=now) is not None
            elif mode == Mode.GRAB and request.pk not in open_offer | expired:
                # Grabbed once and given back: offered again.
                handled += offer(request, now=now) is not None
    return handled
