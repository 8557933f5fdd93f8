"""Quality supervision: checklists, inspections walked with them, the rectification orders
their findings open, third-party evaluations and the PDCA improvement actions managers keep
against the problems they found."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import ADD, CHANGE, DELETE, VIEW, Access, RestrictedQuerySet
from jiayuan.core.models import TimeStampedModel
from jiayuan.core.roles import FIELD_STAFF, MANAGERS, Role
from jiayuan.core.taxonomy import Category
from jiayuan.dashboard.kpis import Kpi

# Who walks the estate with a checklist: the managers and the service centre, where the
# quality officer (品质专员) of most property companies sits.
INSPECTORS = MANAGERS | {Role.SERVICE_DESK}
TEXT_MAX = 2000
TITLE_MAX = 100
ITEM_POINTS_MAX = 100
ITEMS_MAX = 40
PERCENT = [MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))]


class Area(models.TextChoices):
    CLEANING = "cleaning", _("Cleaning")
    SECURITY = "security", _("Security and order")
    ENGINEERING = "engineering", _("Engineering")
    SERVICE_DESK = "service_desk", _("Service desk")
    GREENING = "greening", _("Greening")


def _own_orders(user) -> Q:
    return Q(owner=user)


class ChecklistTemplate(TimeStampedModel):
    """A company's checklist for one area; inspections copy its items when they start."""

    company = models.ForeignKey(
        "org.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="checklists",
    )
    area = models.CharField(_("area"), max_length=16, choices=Area.choices)
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    is_active = models.BooleanField(_("in use"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: INSPECTORS, ADD: MANAGERS, CHANGE: MANAGERS, DELETE: MANAGERS},
        estate_path="company__estates__id",
        company_path="company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("checklist")
        verbose_name_plural = _("checklists")
        ordering = ["company", "area", "title"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "area", "title"], name="supervision_checklist_unique_title"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def max_points(self) -> int:
        return sum(item.points for item in self.items.all())


class ChecklistItem(models.Model):
    template = models.ForeignKey(ChecklistTemplate, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("checklist item"), max_length=200)
    points = models.PositiveSmallIntegerField(
        _("points"), validators=[MinValueValidator(1), MaxValueValidator(ITEM_POINTS_MAX)]
    )
    critical = models.BooleanField(
        _("critical"), default=False, help_text=_("A safety or red-line item.")
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=ChecklistTemplate.access.staff,
        estate_path="template__company__estates__id",
        company_path="template__company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("checklist item")
        verbose_name_plural = _("checklist items")
        ordering = ["template", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["template", "position"], name="supervision_checklist_item_position"
            ),
        ]

    def __str__(self):
        return self.description


class Inspection(TimeStampedModel):
    """品质巡查: one walk of one area of an estate, scored against a checklist whose items
    were copied when it started, so later edits of the checklist leave it as it was."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Completed")

    estate = models.ForeignKey(
        "org.Estate", verbose_name=_("estate"), on_delete=models.CASCADE, related_name="+"
    )
    area = models.CharField(_("area"), max_length=16, choices=Area.choices)
    template = models.ForeignKey(
        ChecklistTemplate,
        verbose_name=_("checklist"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="inspections",
    )
    template_title = models.CharField(_("checklist"), max_length=TITLE_MAX)
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("inspector"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    inspected_at = models.DateTimeField(_("inspected at"), default=timezone.now)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    points = models.PositiveIntegerField(_("points given"), default=0)
    max_points = models.PositiveIntegerField(_("maximum points"), default=0)
    score = models.DecimalField(
        _("score"), max_digits=4, decimal_places=1, default=Decimal("0"), validators=PERCENT
    )
    note = models.CharField(_("note"), max_length=TEXT_MAX, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: INSPECTORS, ADD: INSPECTORS, CHANGE: INSPECTORS},
        estate_path="estate_id",
        company_path="estate__company_id",
    )

    class Meta:
        verbose_name = _("inspection")
        verbose_name_plural = _("inspections")
        ordering = ["-inspected_at", "-id"]
        indexes = [
            models.Index(fields=["estate", "-inspected_at"]),
            models.Index(fields=["estate", "area", "-inspected_at"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(points__lte=models.F("max_points")),
                name="supervision_inspection_points_within_max",
            ),
        ]

    def __str__(self):
        return f"{self.get_area_display()} {self.inspected_at:%Y-%m-%d}"

    @property
    def is_draft(self) -> bool:
        return self.status == self.Status.DRAFT


def score_of(points: int, max_points: int) -> Decimal:
    """The 0–100 score of points out of max_points, to one decimal (half up)."""
    if max_points <= 0:
        return Decimal("0")
    return (Decimal(points) * 100 / Decimal(max_points)).quantize(Decimal("0.1"))


class InspectionItem(models.Model):
    """One checklist line as it was when the inspection started, with its result."""

    inspection = models.ForeignKey(Inspection, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveSmallIntegerField(_("position"))
    description = models.CharField(_("checklist item"), max_length=200)
    max_points = models.PositiveSmallIntegerField(_("maximum points"))
    critical = models.BooleanField(_("critical"), default=False)
    points = models.PositiveSmallIntegerField(_("points given"))
    note = models.CharField(_("finding"), max_length=TEXT_MAX, blank=True)
    photo = models.ImageField(_("photo"), upload_to="supervision/%Y/%m/", blank=True)
    thumbnail = models.ImageField(_("thumbnail"), upload_to="supervision/%Y/%m/", blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: INSPECTORS, CHANGE: INSPECTORS},
        estate_path="inspection__estate_id",
        company_path="inspection__estate__company_id",
    )

    class Meta:
        verbose_name = _("inspection item")
        verbose_name_plural = _("inspection items")
        ordering = ["inspection", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["inspection", "position"], name="supervision_inspection_item_position"
            ),
            models.CheckConstraint(
                condition=Q(points__lte=models.F("max_points")),
                name="supervision_item_points_within_max",
            ),
        ]

    def __str__(self):
        return self.description

    @property
    def is_full_marks(self) -> bool:
        return self.points >= self.max_points


class RectificationOrder(TimeStampedModel):
    """整改单: a finding to put right by its owner before the deadline, closed only when
    someone other than the owner and than whoever marked it fixed has verified the fix."""

    class Status(models.TextChoices):
        OPEN = "open", _("To rectify")
        FIXED = "fixed", _("Fixed, to verify")
        VERIFIED = "verified", _("Verified")

    estate = models.ForeignKey(
        "org.Estate", verbose_name=_("estate"), on_delete=models.CASCADE, related_name="+"
    )
    area = models.CharField(_("area"), max_length=16, choices=Area.choices)
    inspection = models.ForeignKey(
        Inspection,
        verbose_name=_("inspection"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="orders",
    )
    # One order per finding: a second submission of the same inspection cannot open another.
    inspection_item = models.OneToOneField(
        InspectionItem,
        verbose_name=_("inspection item"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="order",
    )
    finding = models.CharField(_("finding"), max_length=TEXT_MAX)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    deadline = models.DateTimeField(_("deadline"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("opened by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    before_photo = models.ImageField(_("photo before"), upload_to="supervision/%Y/%m/", blank=True)
    before_thumbnail = models.ImageField(upload_to="supervision/%Y/%m/", blank=True)
    fix_note = models.CharField(_("what was done"), max_length=TEXT_MAX, blank=True)
    after_photo = models.ImageField(_("photo after"), upload_to="supervision/%Y/%m/", blank=True)
    after_thumbnail = models.ImageField(upload_to="supervision/%Y/%m/", blank=True)
    fixed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("marked fixed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fixed_at = models.DateTimeField(_("fixed at"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("verified by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    rejection_reason = models.CharField(_("reason for rejection"), max_length=TEXT_MAX, blank=True)
    rejections = models.PositiveSmallIntegerField(_("times rejected"), default=0)
    overdue_notified_at = models.DateTimeField(_("overdue notice sent"), null=True, blank=True)
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: INSPECTORS | FIELD_STAFF, ADD: MANAGERS, CHANGE: INSPECTORS | FIELD_STAFF},
        estate_path="estate_id",
        company_path="estate__company_id",
        # Field staff see the orders they own, nothing else of the estate's findings.
        narrowed={role: _own_orders for role in FIELD_STAFF},
        # Any other staff member made owner (a dispatcher leading a team) sees theirs too.
        owner_path="owner",
        owner_actions=frozenset({VIEW, CHANGE}),
    )

    class Meta:
        verbose_name = _("rectification order")
        verbose_name_plural = _("rectification orders")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["estate", "status", "deadline"]),
            models.Index(fields=["owner", "status"]),
            models.Index(
                fields=["deadline"],
                condition=Q(status="open", overdue_notified_at__isnull=True),
                name="supervision_order_overdue_due",
            ),
        ]

    def __str__(self):
        return f"{self.get_area_display()} · {self.finding[:40]}"

    def is_overdue(self, now=None) -> bool:
        return self.status == self.Status.OPEN and self.deadline < (now or timezone.now())


class Evaluation(TimeStampedModel):
    """第三方测评: an outside organisation's score of the estate, with its report."""

    class ReportKind(models.TextChoices):
        PDF = "pdf", _("PDF")
        IMAGE = "image", _("Image")

    estate = models.ForeignKey(
        "org.Estate", verbose_name=_("estate"), on_delete=models.CASCADE, related_name="+"
    )
    evaluator = models.CharField(_("evaluator"), max_length=TITLE_MAX)
    evaluated_on = models.DateField(_("date"))
    score = models.DecimalField(_("score"), max_digits=4, decimal_places=1, validators=PERCENT)
    scope = models.CharField(_("scope and notes"), max_length=TEXT_MAX, blank=True)
    report = models.FileField(_("report"), upload_to="supervision/reports/%Y/", blank=True)
    report_kind = models.CharField(
        _("report type"), max_length=8, choices=ReportKind.choices, blank=True
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: INSPECTORS, ADD: MANAGERS},
        estate_path="estate_id",
        company_path="estate__company_id",
    )

    class Meta:
        verbose_name = _("third-party evaluation")
        verbose_name_plural = _("third-party evaluations")
        ordering = ["-evaluated_on", "-id"]
        indexes = [models.Index(fields=["estate", "-evaluated_on"])]

    def __str__(self):
        return f"{self.evaluator} {self.evaluated_on:%Y-%m-%d}"


class ProblemKind(models.TextChoices):
    KPI = "kpi", _("A KPI")
    COMPLAINTS = "complaints", _("A cluster of complaints")
    FINDING = "finding", _("An inspection finding")
    OTHER = "other", _("Other")


class Stage(models.TextChoices):
    PLAN = "plan", _("Plan")
    DO = "do", _("Do")
    CHECK = "check", _("Check")
    ACT = "act", _("Act")
    CLOSED = "closed", _("Closed")


class ActDecision(models.TextChoices):
    STANDARDISE = "standardise", _("Standardise")
    NEXT_CYCLE = "next_cycle", _("Another cycle")


class ImprovementAction(TimeStampedModel):
    """An improvement action in a PDCA loop against one problem. The check stage keeps its
    measures as plain numbers and dates so the dashboard can fill them for KPI actions."""

    estate = models.ForeignKey(
        "org.Estate", verbose_name=_("estate"), on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("title"), max_length=TITLE_MAX)
    problem_kind = models.CharField(_("problem"), max_length=12, choices=ProblemKind.choices)
    kpi = models.CharField(_("KPI"), max_length=32, choices=Kpi.choices, blank=True)
    complaint_category = models.CharField(
        _("complaint category"), max_length=32, choices=Category.choices, blank=True
    )
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    order = models.ForeignKey(
        RectificationOrder,
        verbose_name=_("rectification order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="improvements",
    )
    problem_text = models.CharField(_("problem in words"), max_length=TEXT_MAX, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    due_on = models.DateField(_("due date"))
    status = models.CharField(_("stage"), max_length=8, choices=Stage.choices, default=Stage.PLAN)
    plan = models.CharField(_("plan"), max_length=TEXT_MAX)
    done = models.CharField(_("what was done"), max_length=TEXT_MAX, blank=True)
    done_on = models.DateField(_("done on"), null=True, blank=True)
    baseline_value = models.DecimalField(
        _("baseline value"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    after_value = models.DecimalField(
        _("value after"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    measured_on = models.DateField(_("measured on"), null=True, blank=True)
    check_comment = models.CharField(_("effect"), max_length=TEXT_MAX, blank=True)
    act_decision = models.CharField(
        _("decision"), max_length=12, choices=ActDecision.choices, blank=True
    )
    act_note = models.CharField(_("standard or next step"), max_length=TEXT_MAX, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(_("version"), default=1)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: INSPECTORS, ADD: MANAGERS, CHANGE: MANAGERS},
        estate_path="estate_id",
        company_path="estate__company_id",
        owner_path="owner",
        owner_actions=frozenset({VIEW, CHANGE}),
    )

    class Meta:
        verbose_name = _("improvement action")
        verbose_name_plural = _("improvement actions")
        ordering = ["due_on", "id"]
        indexes = [models.Index(fields=["estate", "status", "due_on"])]

    def __str__(self):
        return self.title

    def is_overdue(self, today=None) -> bool:
        return self.status != Stage.CLOSED and self.due_on < (today or timezone.localdate())

    @property
    def problem_label(self) -> str:
        if self.problem_kind == ProblemKind.KPI:
            return str(self.get_kpi_display())
        if self.problem_kind == ProblemKind.COMPLAINTS:
            period = ""
            if self.period_start and self.period_end:
                period = f" {self.period_start:%Y-%m-%d}–{self.period_end:%Y-%m-%d}"
            return f"{self.get_complaint_category_display()}{period}"
        if self.problem_kind == ProblemKind.FINDING and self.order_id:
            return str(self.order)
        return self.problem_text
