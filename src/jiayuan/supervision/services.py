"""Every write of quality supervision: checklists, inspections and their findings,
rectification orders, third-party evaluations and improvement actions. Each is atomic,
checks the person through restrict() and the workflow tables, and writes one audit event
per change; notifications go out with the change."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.comms.services import notify
from jiayuan.core.access import (
    ADD,
    CHANGE,
    VIEW,
    ensure_allowed,
    ensure_can_in_estate,
    ensure_company_role,
)
from jiayuan.core.audit import record_event, snapshot
from jiayuan.core.cleaning import clean_text
from jiayuan.core.roles import MANAGERS, Role
from jiayuan.core.taxonomy import Category
from jiayuan.dashboard.kpis import Kpi
from jiayuan.org.models import Company, Estate, Membership
from jiayuan.servicedesk.photos import prepare_photo
from jiayuan.supervision import workflow
from jiayuan.supervision.checklists import DEFAULT_CHECKLISTS
from jiayuan.supervision.events import SupervisionEvent
from jiayuan.supervision.models import (
    ITEM_POINTS_MAX,
    ITEMS_MAX,
    TEXT_MAX,
    TITLE_MAX,
    ActDecision,
    Area,
    ChecklistItem,
    ChecklistTemplate,
    Evaluation,
    ImprovementAction,
    Inspection,
    InspectionItem,
    ProblemKind,
    RectificationOrder,
    Stage,
    score_of,
)

REPORT_MAX_BYTES = 20 * 1024 * 1024
PDF_MAGIC = b"%PDF-"
# How far back an inspection may be dated: a walk is recorded the same week, not next year.
BACKDATE_LIMIT = timedelta(days=31)


class OrderChanged(ValidationError):
    """Someone else acted on the row after this person loaded it."""


# ----------------------------------------------------------------------------- helpers


def _photo(upload, field: str):
    """The checked, re-encoded photo (servicedesk's rules), or the error on `field`."""
    try:
        return prepare_photo(upload, 1)
    except ValidationError as exc:
        raise ValidationError({field: exc.messages}) from None


def _save_photo(image_field, thumb_field, prepared) -> None:
    image_field.save(prepared.image.name, prepared.image, save=False)
    thumb_field.save(prepared.thumbnail.name, prepared.thumbnail, save=False)


def _whole_number(value, field: str, *, low: int, high: int) -> int:
    if isinstance(value, bool):
        raise ValidationError({field: _("Enter a whole number.")})
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: _("Enter a whole number.")}) from None
    if number != value and str(number) != str(value).strip():
        raise ValidationError({field: _("Enter a whole number.")})
    if not low <= number <= high:
        raise ValidationError(
            {field: _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        )
    return number


def _decimal(value, field: str, *, required: bool, low=None, high=None) -> Decimal | None:
    if value is None or value == "":
        if required:
            raise ValidationError({field: _("This field is required.")})
        return None
    if isinstance(value, bool):
        raise ValidationError({field: _("Enter a number.")})
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError({field: _("Enter a number.")}) from None
    if not number.is_finite() or abs(number) >= Decimal("1e10"):
        raise ValidationError({field: _("Enter a number.")})
    if (low is not None and number < low) or (high is not None and number > high):
        raise ValidationError(
            {field: _("Enter a number from %(low)s to %(high)s.") % {"low": low, "high": high}}
        )
    return number.quantize(Decimal("0.01"))


def _day(value, field: str, *, required: bool) -> date | None:
    if value is None or value == "":
        if required:
            raise ValidationError({field: _("This field is required.")})
        return None
    if not isinstance(value, date) or isinstance(value, datetime):
        raise ValidationError({field: _("Enter a valid date.")})
    return value


def _choice(value, field: str, choices, *, required: bool = True) -> str:
    if not value and not required:
        return ""
    if value not in choices.values:
        raise ValidationError({field: _("Choose one of the listed values.")})
    return value


def works_in(user, estate: Estate) -> bool:
    """Is the user an active staff member of the estate (or a company-wide admin)?"""
    if user is None or not user.is_active:
        return False
    return (
        Membership.objects.filter(user=user, is_active=True, company_id=estate.company_id)
        .filter(estate__isnull=True)
        .exists()
        or Membership.objects.filter(user=user, estate=estate, is_active=True).exists()
    )


def _ensure_staff_owner(owner, estate: Estate, field: str = "owner") -> None:
    if owner is None:
        raise ValidationError({field: _("Choose who is responsible.")})
    if not works_in(owner, estate):
        raise ValidationError({field: _("This person does not work in this estate.")})


def _managers_of(estate: Estate) -> list:
    """The estate's managers; the company's admins where the estate has none."""
    rows = Membership.objects.filter(is_active=True, user__is_active=True).select_related("user")
    managers = [m.user for m in rows.filter(estate=estate, role=Role.ESTATE_MANAGER)]
    if not managers:
        managers = [
            m.user
            for m in rows.filter(
                company_id=estate.company_id, estate__isnull=True, role=Role.COMPANY_ADMIN
            )
        ]
    return managers


# ----------------------------------------------------------------------------- checklists


def _clean_items(items: Iterable) -> list[tuple[str, int, bool]]:
    rows = list(items)
    if not rows:
        raise ValidationError({"items": _("A checklist needs at least one item.")})
    if len(rows) > ITEMS_MAX:
        raise ValidationError({"items": _("At most %(n)s items.") % {"n": ITEMS_MAX}})
    cleaned = []
    for row in rows:
        try:
            description, points, critical = row
        except (TypeError, ValueError):
            raise ValidationError(
                {"items": _("An item is a description, points and a critical flag.")}
            ) from None
        cleaned.append(
            (
                clean_text(description, "items", required=True, limit=200),
                _whole_number(points, "items", low=1, high=ITEM_POINTS_MAX),
                bool(critical),
            )
        )
    return cleaned


@transaction.atomic
def checklist_save(
    *,
    actor,
    company: Company,
    area: str,
    title: str,
    items: Iterable,
    template: ChecklistTemplate | None = None,
    is_active: bool = True,
) -> ChecklistTemplate:
    """Create a checklist, or replace an existing one's title and items. Inspections
    already started keep the items they copied."""
    if template is None:
        ensure_company_role(actor, company, MANAGERS)
    else:
        ensure_allowed(actor, CHANGE, template)
        company = template.company
    area = _choice(area, "area", Area)
    title = clean_text(title, "title", required=True, limit=TITLE_MAX)
    items = _clean_items(items)
    clash = ChecklistTemplate.objects.filter(company=company, area=area, title=title)
    if template is not None:
        clash = clash.exclude(pk=template.pk)
    if clash.exists():
        raise ValidationError({"title": _("This area already has a checklist of this title.")})
    before = None
    if template is not None:
        before = {
            **snapshot(template, ["area", "title", "is_active"]),
            "items": [[i.description, i.points, i.critical] for i in template.items.all()],
        }
    template = template or ChecklistTemplate(company=company)
    template.area, template.title, template.is_active = area, title, bool(is_active)
    template.save()
    template.items.all().delete()
    ChecklistItem.objects.bulk_create(
        ChecklistItem(template=template, position=n, description=d, points=p, critical=c)
        for n, (d, p, c) in enumerate(items, start=1)
    )
    record_event(
        actor=actor,
        code=SupervisionEvent.CHECKLIST_SAVED,
        target=template,
        company=company,
        before=before,
        after={
            **snapshot(template, ["area", "title", "is_active"]),
            "items": [list(item) for item in items],
        },
    )
    return template


@transaction.atomic
def checklist_create_defaults(*, actor, company: Company) -> list[ChecklistTemplate]:
    """The shipped checklist of each area the company does not have yet (by title)."""
    ensure_company_role(actor, company, MANAGERS)
    existing = set(ChecklistTemplate.objects.filter(company=company).values_list("area", "title"))
    created = []
    for area, (title, items) in DEFAULT_CHECKLISTS.items():
        if (area, title) in existing:
            continue
        template = ChecklistTemplate.objects.create(company=company, area=area, title=title)
        ChecklistItem.objects.bulk_create(
            ChecklistItem(template=template, position=n, description=d, points=p, critical=c)
            for n, (d, p, c) in enumerate(items, start=1)
        )
        created.append(template)
    if created:
        record_event(
            actor=actor,
            code=SupervisionEvent.CHECKLIST_DEFAULTS,
            company=company,
            after={"checklists": [t.title for t in created]},
        )
    return created


# ----------------------------------------------------------------------------- inspections


@transaction.atomic
def inspection_start(
    *, actor, estate: Estate, template: ChecklistTemplate, inspected_at: datetime | None = None
) -> Inspection:
    """A draft inspection of the checklist's area, its items copied with full marks: the
    inspector takes points off where they find something."""
    ensure_can_in_estate(actor, Inspection, ADD, estate)
    if template is None or template.company_id != estate.company_id:
        raise ValidationError({"template": _("Choose a checklist of this company.")})
    if not template.is_active:
        raise ValidationError({"template": _("This checklist is no longer in use.")})
    now = timezone.now()
    inspected_at = inspected_at or now
    if not isinstance(inspected_at, datetime):
        raise ValidationError({"inspected_at": _("Enter a valid date and time.")})
    if inspected_at > now + timedelta(minutes=5) or inspected_at < now - BACKDATE_LIMIT:
        raise ValidationError(
            {"inspected_at": _("An inspection is dated within the last month, not later.")}
        )
    items = list(template.items.all())
    if not items:
        raise ValidationError({"template": _("This checklist has no items.")})
    max_points = sum(item.points for item in items)
    inspection = Inspection.objects.create(
        estate=estate,
        area=template.area,
        template=template,
        template_title=template.title,
        inspector=actor,
        inspected_at=inspected_at,
        points=max_points,
        max_points=max_points,
        score=score_of(max_points, max_points),
    )
    InspectionItem.objects.bulk_create(
        InspectionItem(
            inspection=inspection,
            position=item.position,
            description=item.description,
            max_points=item.points,
            critical=item.critical,
            points=item.points,
        )
        for item in items
    )
    record_event(
        actor=actor,
        code=SupervisionEvent.INSPECTION_STARTED,
        target=inspection,
        estate=estate,
        after=snapshot(inspection, ["area", "template_title", "inspected_at", "max_points"]),
    )
    return inspection


def _lock_draft(actor, inspection: Inspection) -> Inspection:
    locked = (
        Inspection.objects.select_for_update()
        .select_related("estate")
        .filter(pk=inspection.pk)
        .first()
    )
    if locked is None:
        raise Http404(_("Not found."))
    ensure_allowed(actor, CHANGE, locked)
    if not (locked.inspector_id == actor.pk or workflow.relations(actor, locked) & MANAGERS):
        raise PermissionDenied(_("Only the inspector or a manager may change this inspection."))
    if not locked.is_draft:
        raise OrderChanged(_("This inspection has already been submitted."))
    return locked


def _apply_results(locked: Inspection, results: Mapping, photos: Mapping) -> dict:
    """Check every result and photo first, then write them: a bad one writes nothing.
    Returns {position: [before, after]} of the points and notes that changed."""
    items = {item.pk: item for item in locked.items.all()}
    errors: dict = {}
    cleaned = {}
    prepared = {}
    for key, result in (results or {}).items():
        item = items.get(_item_key(key))
        if item is None:
            errors.setdefault("results", []).append(_("An item is not on this inspection."))
            continue
        field = f"item_{item.position}"
        try:
            result = result if isinstance(result, Mapping) else {}
            points = _whole_number(result.get("points"), field, low=0, high=item.max_points)
            note = clean_text(result.get("note", ""), field, required=False, limit=TEXT_MAX)
            cleaned[item.pk] = (points, note)
        except ValidationError as exc:
            exc.update_error_dict(errors)
    for key, upload in (photos or {}).items():
        item = items.get(_item_key(key))
        if item is None:
            errors.setdefault("photos", []).append(_("An item is not on this inspection."))
            continue
        try:
            prepared[item.pk] = _photo(upload, f"item_{item.position}")
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    changed = {}
    for pk, (points, note) in cleaned.items():
        item = items[pk]
        if (item.points, item.note) != (points, note):
            changed[item.position] = [[item.points, item.note], [points, note]]
            item.points, item.note = points, note
            item.save(update_fields=["points", "note"])
    for pk, photo in prepared.items():
        item = items[pk]
        _save_photo(item.photo, item.thumbnail, photo)
        item.save(update_fields=["photo", "thumbnail"])
        changed.setdefault(item.position, []).append("photo")
    locked.points = sum(item.points for item in items.values())
    locked.score = score_of(locked.points, locked.max_points)
    locked.save(update_fields=["points", "score", "updated_at"])
    return changed


def _item_key(key) -> int | None:
    try:
        return int(key)
    except (TypeError, ValueError):
        return None


@transaction.atomic
def inspection_record(
    *, actor, inspection: Inspection, results: Mapping, photos: Mapping | None = None
) -> Inspection:
    """Save a draft's results: {item id: {"points", "note"}} and {item id: photo}."""
    locked = _lock_draft(actor, inspection)
    changed = _apply_results(locked, results, photos or {})
    record_event(
        actor=actor,
        code=SupervisionEvent.INSPECTION_RECORDED,
        target=locked,
        estate=locked.estate,
        after={"items": changed, "score": str(locked.score)},
    )
    return locked


@transaction.atomic
def inspection_submit(
    *,
    actor,
    inspection: Inspection,
    owner=None,
    deadline: datetime | None = None,
    results: Mapping | None = None,
    photos: Mapping | None = None,
) -> Inspection:
    """Submit a draft (with its last results): every item below full marks needs its
    finding written, and opens a rectification order for `owner` due at `deadline`."""
    locked = _lock_draft(actor, inspection)
    if results or photos:
        _apply_results(locked, results or {}, photos or {})
    findings = [item for item in locked.items.all() if not item.is_full_marks]
    errors = {
        f"item_{item.position}": [_("Write the finding for an item below full marks.")]
        for item in findings
        if not item.note
    }
    now = timezone.now()
    if findings:
        try:
            _ensure_staff_owner(owner, locked.estate)
        except ValidationError as exc:
            exc.update_error_dict(errors)
        if not isinstance(deadline, datetime) or deadline <= now:
            errors.setdefault("deadline", []).append(_("Give a deadline in the future."))
    if errors:
        raise ValidationError(errors)
    locked.status, locked.submitted_at = Inspection.Status.SUBMITTED, now
    locked.save(update_fields=["status", "submitted_at", "updated_at"])
    record_event(
        actor=actor,
        code=SupervisionEvent.INSPECTION_SUBMITTED,
        target=locked,
        estate=locked.estate,
        after={
            "score": str(locked.score),
            "points": locked.points,
            "max_points": locked.max_points,
            "findings": len(findings),
        },
    )
    orders = [
        _open_order(
            actor,
            estate=locked.estate,
            area=locked.area,
            finding=f"{item.description}：{item.note}",
            owner=owner,
            deadline=deadline,
            inspection=locked,
            item=item,
        )
        for item in findings
    ]
    if orders:
        _tell_owner(orders)
    return locked


@transaction.atomic
def inspection_discard(*, actor, inspection: Inspection) -> None:
    locked = _lock_draft(actor, inspection)
    record_event(
        actor=actor,
        code=SupervisionEvent.INSPECTION_DISCARDED,
        target=locked,
        estate=locked.estate,
        before=snapshot(locked, ["area", "template_title", "inspected_at", "score"]),
    )
    locked.delete()


# ----------------------------------------------------------------------------- orders


def _order_link(order: RectificationOrder) -> str:
    return reverse("supervision:order_detail", args=[order.pk])


def _open_order(actor, *, estate, area, finding, owner, deadline, inspection=None, item=None):
    order = RectificationOrder(
        estate=estate,
        area=area,
        inspection=inspection,
        inspection_item=item,
        finding=finding[:TEXT_MAX],
        owner=owner,
        deadline=deadline,
        created_by=actor,
    )
    if item is not None and item.photo:
        # The same stored file: the finding's photo is the order's "before".
        order.before_photo.name, order.before_thumbnail.name = item.photo.name, item.thumbnail.name
    order.save()
    record_event(
        actor=actor,
        code=SupervisionEvent.ORDER_OPENED,
        target=order,
        estate=estate,
        after=snapshot(order, ["area", "finding", "owner", "deadline", "inspection"]),
    )
    return order


def _tell_owner(orders: list[RectificationOrder]) -> None:
    first = orders[0]
    notify(
        recipients=[first.owner],
        kind="supervision.order",
        title=_("%(n)s rectification orders for you, due %(deadline)s")
        % {"n": len(orders), "deadline": timezone.localtime(first.deadline).strftime("%m-%d %H:%M")}
        if len(orders) > 1
        else _("Rectification order for you, due %(deadline)s")
        % {"deadline": timezone.localtime(first.deadline).strftime("%m-%d %H:%M")},
        body=first.finding[:200],
        link=_order_link(first) if len(orders) == 1 else reverse("supervision:order_list"),
        estate=first.estate,
    )


@transaction.atomic
def order_open(
    *,
    actor,
    estate: Estate,
    area: str,
    finding: str,
    owner,
    deadline: datetime,
    before_photo=None,
) -> RectificationOrder:
    """A rectification order for a finding made outside an inspection (a manager's walk, a
    resident's remark)."""
    ensure_can_in_estate(actor, RectificationOrder, ADD, estate)
    errors: dict = {}
    cleaned = {}
    for name, check in (
        ("area", lambda: _choice(area, "area", Area)),
        ("finding", lambda: clean_text(finding, "finding", required=True, limit=TEXT_MAX)),
        ("owner", lambda: _ensure_staff_owner(owner, estate)),
        ("photo", lambda: _photo(before_photo, "before_photo") if before_photo else None),
    ):
        try:
            cleaned[name] = check()
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if not isinstance(deadline, datetime) or deadline <= timezone.now():
        errors.setdefault("deadline", []).append(_("Give a deadline in the future."))
    if errors:
        raise ValidationError(errors)
    order = RectificationOrder(
        estate=estate,
        area=cleaned["area"],
        finding=cleaned["finding"],
        owner=owner,
        deadline=deadline,
        created_by=actor,
    )
    if cleaned["photo"] is not None:
        _save_photo(order.before_photo, order.before_thumbnail, cleaned["photo"])
    order.save()
    record_event(
        actor=actor,
        code=SupervisionEvent.ORDER_OPENED,
        target=order,
        estate=estate,
        after=snapshot(order, ["area", "finding", "owner", "deadline"]),
    )
    _tell_owner([order])
    return order


def _lock_order(actor, order: RectificationOrder, action: str, version) -> tuple:
    """The order locked for this step, after every check of the person and the state."""
    locked = (
        RectificationOrder.objects.select_for_update()
        .select_related("estate", "owner")
        .filter(pk=order.pk)
        .first()
    )
    if locked is None:
        raise Http404(_("Not found."))
    ensure_allowed(actor, VIEW, locked)
    if version is not None and version != locked.version:
        raise OrderChanged(_("Someone else changed this order meanwhile; reload it."))
    transition = workflow.order_transition(action, locked.status)
    if transition is None:
        raise OrderChanged(
            _("This order is now “%(status)s”; it cannot be done now.")
            % {"status": locked.get_status_display()}
        )
    if transition.four_eyes and actor.pk == locked.owner_id:
        raise PermissionDenied(_("The owner of an order cannot verify their own fix."))
    if transition.four_eyes and actor.pk == locked.fixed_by_id:
        raise PermissionDenied(_("Whoever marked the order fixed cannot verify it."))
    if not workflow.may_take(actor, locked, transition):
        raise PermissionDenied(_("You are not allowed to do this."))
    return locked, transition


def _advance_order(actor, locked, transition, fields: list[str], code, files=()):
    """Move the order on, with the fields the step set (and files, audited by name)."""
    before = snapshot(locked, ["status", *fields])
    locked.status = transition.target
    locked.version += 1
    locked.save(update_fields=["status", "version", "updated_at", *fields, *files])
    record_event(
        actor=actor,
        code=code,
        target=locked,
        estate=locked.estate,
        before=before,
        after={
            **snapshot(locked, ["status", *fields]),
            **{name: getattr(locked, name).name for name in files},
        },
    )
    return locked


@transaction.atomic
def order_fix(
    *, actor, order: RectificationOrder, note: str, after_photo=None, version: int | None = None
) -> RectificationOrder:
    """The owner (or a manager for them) says what was done, with a photo of the result
    where the finding had one: the verifier compares like with like."""
    locked, transition = _lock_order(actor, order, "fix", version)
    errors: dict = {}
    try:
        note = clean_text(note, "note", required=True, limit=TEXT_MAX)
    except ValidationError as exc:
        exc.update_error_dict(errors)
    prepared = None
    if after_photo:
        try:
            prepared = _photo(after_photo, "after_photo")
        except ValidationError as exc:
            exc.update_error_dict(errors)
    elif locked.before_photo:
        errors["after_photo"] = [_("Add a photo of the result, as the finding has one.")]
    if errors:
        raise ValidationError(errors)
    if prepared is not None:
        _save_photo(locked.after_photo, locked.after_thumbnail, prepared)
    locked.fix_note, locked.fixed_by, locked.fixed_at = note, actor, timezone.now()
    fields = ["fix_note", "fixed_by", "fixed_at"]
    files = ("after_photo", "after_thumbnail") if prepared is not None else ()
    locked = _advance_order(
        actor, locked, transition, fields, SupervisionEvent.ORDER_FIXED, files=files
    )
    if locked.created_by_id and locked.created_by_id != actor.pk:
        notify(
            recipients=[locked.created_by],
            kind="supervision.order",
            title=_("Rectification fixed, please verify"),
            body=locked.finding[:200],
            link=_order_link(locked),
            estate=locked.estate,
        )
    return locked


@transaction.atomic
def order_verify(
    *, actor, order: RectificationOrder, version: int | None = None
) -> RectificationOrder:
    locked, transition = _lock_order(actor, order, "verify", version)
    locked.verified_by, locked.verified_at = actor, timezone.now()
    fields = ["verified_by", "verified_at"]
    return _advance_order(actor, locked, transition, fields, SupervisionEvent.ORDER_VERIFIED)


@transaction.atomic
def order_reject(
    *, actor, order: RectificationOrder, reason: str, version: int | None = None
) -> RectificationOrder:
    """Not put right: back to the owner with the reason; the deadline stays."""
    locked, transition = _lock_order(actor, order, "reject", version)
    locked.rejection_reason = clean_text(reason, "reason", required=True, limit=TEXT_MAX)
    locked.rejections += 1
    fields = ["rejection_reason", "rejections"]
    locked = _advance_order(actor, locked, transition, fields, SupervisionEvent.ORDER_REJECTED)
    notify(
        recipients=[locked.owner],
        kind="supervision.order",
        title=_("Rectification not accepted: %(reason)s") % {"reason": locked.rejection_reason},
        body=locked.finding[:200],
        link=_order_link(locked),
        estate=locked.estate,
    )
    return locked


def orders_notify_overdue(now: datetime | None = None) -> int:
    """Tell the owner and the estate's managers, once, of each open order past its deadline.
    Each order is claimed by a conditional update, so two runs never tell twice."""
    now = now or timezone.now()
    due = list(
        RectificationOrder.objects.filter(
            status=RectificationOrder.Status.OPEN,
            deadline__lt=now,
            overdue_notified_at__isnull=True,
        )
        .select_related("estate", "owner")
        .order_by("deadline", "pk")
    )
    told = 0
    for order in due:
        with transaction.atomic():
            claimed = RectificationOrder.objects.filter(
                pk=order.pk, status=RectificationOrder.Status.OPEN, overdue_notified_at__isnull=True
            ).update(overdue_notified_at=now)
            if not claimed:
                continue
            record_event(
                actor=None,
                code=SupervisionEvent.ORDER_OVERDUE,
                target=order,
                estate=order.estate,
                after={"deadline": order.deadline.isoformat(), "owner": order.owner_id},
            )
            notify(
                recipients=[order.owner, *_managers_of(order.estate)],
                kind="supervision.overdue",
                title=_("Rectification overdue: %(finding)s") % {"finding": order.finding[:60]},
                body=_("It was due %(deadline)s.")
                % {"deadline": timezone.localtime(order.deadline).strftime("%Y-%m-%d %H:%M")},
                link=_order_link(order),
                estate=order.estate,
            )
            told += 1
    return told


# ----------------------------------------------------------------------------- evaluations


def _report(upload) -> tuple[object, str]:
    """(file to store, kind) for a PDF or an image, judged by its content, not its name."""
    if upload.size > REPORT_MAX_BYTES:
        raise ValidationError(
            {
                "report": _("The report is larger than %(mb)s MB.")
                % {"mb": REPORT_MAX_BYTES // (1024 * 1024)}
            }
        )
    upload.seek(0)
    head = upload.read(len(PDF_MAGIC))
    upload.seek(0)
    if head == PDF_MAGIC:
        return upload, Evaluation.ReportKind.PDF
    try:
        prepared = prepare_photo(upload, 1)
    except ValidationError:
        raise ValidationError({"report": _("The report must be a PDF or an image.")}) from None
    return prepared.image, Evaluation.ReportKind.IMAGE


@transaction.atomic
def evaluation_add(
    *,
    actor,
    estate: Estate,
    evaluator: str,
    evaluated_on: date,
    score,
    scope: str = "",
    report=None,
) -> Evaluation:
    ensure_can_in_estate(actor, Evaluation, ADD, estate)
    errors: dict = {}
    cleaned = {}
    for name, check in (
        ("evaluator", lambda: clean_text(evaluator, "evaluator", required=True, limit=TITLE_MAX)),
        ("evaluated_on", lambda: _day(evaluated_on, "evaluated_on", required=True)),
        ("score", lambda: _decimal(score, "score", required=True, low=0, high=100)),
        ("scope", lambda: clean_text(scope, "scope", required=False, limit=TEXT_MAX)),
        ("report", lambda: _report(report) if report else (None, "")),
    ):
        try:
            cleaned[name] = check()
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if cleaned.get("evaluated_on") and cleaned["evaluated_on"] > timezone.localdate():
        errors.setdefault("evaluated_on", []).append(_("The date cannot be in the future."))
    if errors:
        raise ValidationError(errors)
    stored, kind = cleaned["report"]
    evaluation = Evaluation(
        estate=estate,
        evaluator=cleaned["evaluator"],
        evaluated_on=cleaned["evaluated_on"],
        score=cleaned["score"].quantize(Decimal("0.1")),
        scope=cleaned["scope"],
        report_kind=kind,
        created_by=actor,
    )
    if stored is not None:
        extension = "pdf" if kind == Evaluation.ReportKind.PDF else "jpg"
        evaluation.report.save(f"report.{extension}", stored, save=False)
    evaluation.save()
    record_event(
        actor=actor,
        code=SupervisionEvent.EVALUATION_ADDED,
        target=evaluation,
        estate=estate,
        after=snapshot(evaluation, ["evaluator", "evaluated_on", "score", "scope", "report_kind"]),
    )
    return evaluation


# ----------------------------------------------------------------------------- improvements


def _problem(estate, kind, kpi, complaint_category, period_start, period_end, order, text):
    """The problem's fields for its kind, the others emptied."""
    kind = _choice(kind, "problem_kind", ProblemKind)
    found = {
        "problem_kind": kind,
        "kpi": "",
        "complaint_category": "",
        "period_start": None,
        "period_end": None,
        "order": None,
        "problem_text": clean_text(text, "problem_text", required=False, limit=TEXT_MAX),
    }
    if kind == ProblemKind.KPI:
        found["kpi"] = _choice(kpi, "kpi", Kpi)
    elif kind == ProblemKind.COMPLAINTS:
        found["complaint_category"] = _choice(complaint_category, "complaint_category", Category)
        start = _day(period_start, "period_start", required=True)
        end = _day(period_end, "period_end", required=True)
        if end < start:
            raise ValidationError({"period_end": _("The period ends before it starts.")})
        found["period_start"], found["period_end"] = start, end
    elif kind == ProblemKind.FINDING:
        if order is None or order.estate_id != estate.pk:
            raise ValidationError({"order": _("Choose a rectification order of this estate.")})
        found["order"] = order
    elif not found["problem_text"]:
        raise ValidationError({"problem_text": _("Describe the problem.")})
    return found


@transaction.atomic
def action_create(
    *,
    actor,
    estate: Estate,
    title: str,
    problem_kind: str,
    owner,
    due_on: date,
    plan: str,
    kpi: str = "",
    complaint_category: str = "",
    period_start: date | None = None,
    period_end: date | None = None,
    order: RectificationOrder | None = None,
    problem_text: str = "",
) -> ImprovementAction:
    """An improvement action in its plan stage: the problem, who, by when and the plan."""
    ensure_can_in_estate(actor, ImprovementAction, ADD, estate)
    errors: dict = {}
    cleaned = {}
    for name, check in (
        ("title", lambda: clean_text(title, "title", required=True, limit=TITLE_MAX)),
        ("plan", lambda: clean_text(plan, "plan", required=True, limit=TEXT_MAX)),
        ("due_on", lambda: _day(due_on, "due_on", required=True)),
        ("owner", lambda: _ensure_staff_owner(owner, estate)),
        (
            "problem",
            lambda: _problem(
                estate,
                problem_kind,
                kpi,
                complaint_category,
                period_start,
                period_end,
                order,
                problem_text,
            ),
        ),
    ):
        try:
            cleaned[name] = check()
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)
    action = ImprovementAction.objects.create(
        estate=estate,
        title=cleaned["title"],
        owner=owner,
        due_on=cleaned["due_on"],
        plan=cleaned["plan"],
        created_by=actor,
        **cleaned["problem"],
    )
    record_event(
        actor=actor,
        code=SupervisionEvent.ACTION_CREATED,
        target=action,
        estate=estate,
        after=snapshot(action, ["title", "problem_kind", "kpi", "owner", "due_on", "plan"]),
    )
    if owner.pk != actor.pk:
        notify(
            recipients=[owner],
            kind="supervision.action",
            title=_("Improvement action for you: %(title)s") % {"title": action.title},
            body=action.plan[:200],
            link=reverse("supervision:action_detail", args=[action.pk]),
            estate=estate,
        )
    return action


# What completing each stage records.
STAGE_FIELDS = {
    Stage.PLAN: ["plan"],
    Stage.DO: ["done", "done_on"],
    Stage.CHECK: ["baseline_value", "after_value", "measured_on", "check_comment"],
    Stage.ACT: ["act_decision", "act_note"],
}


def _stage_values(stage: str, given: Mapping) -> dict:
    if stage == Stage.PLAN:
        plan = given.get("plan")
        return (
            {}
            if plan in (None, "")
            else {"plan": clean_text(plan, "plan", required=True, limit=TEXT_MAX)}
        )
    checks = {
        "done": lambda v: clean_text(v, "done", required=True, limit=TEXT_MAX),
        "done_on": lambda v: _day(v, "done_on", required=True),
        "baseline_value": lambda v: _decimal(v, "baseline_value", required=True),
        "after_value": lambda v: _decimal(v, "after_value", required=True),
        "measured_on": lambda v: _day(v, "measured_on", required=True),
        "check_comment": lambda v: clean_text(v, "check_comment", required=True, limit=TEXT_MAX),
        "act_decision": lambda v: _choice(v, "act_decision", ActDecision),
        "act_note": lambda v: clean_text(v, "act_note", required=True, limit=TEXT_MAX),
    }
    errors: dict = {}
    values = {}
    for name in STAGE_FIELDS[stage]:
        try:
            values[name] = checks[name](given.get(name))
        except ValidationError as exc:
            exc.update_error_dict(errors)
    today = timezone.localdate()
    for name in ("done_on", "measured_on"):
        if values.get(name) and values[name] > today:
            errors.setdefault(name, []).append(_("The date cannot be in the future."))
    if errors:
        raise ValidationError(errors)
    return values


@transaction.atomic
def action_advance(
    *, actor, action: ImprovementAction, version: int | None = None, **given
) -> ImprovementAction:
    """Complete the current stage with its fields and move to the next: plan (may revise
    the plan) → do (what was done, when) → check (baseline, value after, measured on,
    effect) → act (standardise or another cycle, and how) → closed."""
    locked = (
        ImprovementAction.objects.select_for_update()
        .select_related("estate")
        .filter(pk=action.pk)
        .first()
    )
    if locked is None:
        raise Http404(_("Not found."))
    ensure_allowed(actor, VIEW, locked)
    unknown = set(given) - {name for names in STAGE_FIELDS.values() for name in names}
    if unknown:
        raise TypeError(f"unknown fields: {sorted(unknown)}")
    if version is not None and version != locked.version:
        raise OrderChanged(_("Someone else changed this action meanwhile; reload it."))
    transition = workflow.action_transition(locked.status)
    if transition is None:
        raise OrderChanged(_("This action is closed."))
    if not workflow.may_take(actor, locked, transition):
        raise PermissionDenied(_("You are not allowed to do this."))
    values = _stage_values(locked.status, given)
    fields = list(values)
    before = snapshot(locked, ["status", *fields])
    for name, value in values.items():
        setattr(locked, name, value)
    locked.status = transition.target
    locked.version += 1
    if locked.status == Stage.CLOSED:
        locked.closed_at = timezone.now()
        fields.append("closed_at")
    locked.save(update_fields=["status", "version", "updated_at", *fields])
    record_event(
        actor=actor,
        code=SupervisionEvent.ACTION_ADVANCED,
        target=locked,
        estate=locked.estate,
        before=before,
        after=snapshot(locked, ["status", *fields]),
    )
    return locked
