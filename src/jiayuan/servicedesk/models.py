"""The owner request (报事报修) and everything recorded along its life: the handler trail,
photos, paid-repair materials, the owner's rating and the return visit."""

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import ADD, CHANGE, VIEW, Access, RestrictedQuerySet
from jiayuan.core.models import TimeStampedModel
from jiayuan.core.phones import mask_mobile
from jiayuan.core.roles import ALL_STAFF, FIELD_STAFF, MANAGERS, Role
from jiayuan.core.taxonomy import Category

# Who records requests and moves them along at the desk.
DESK_ROLES = MANAGERS | {Role.SERVICE_DESK, Role.DISPATCHER}
RATING = [MinValueValidator(1), MaxValueValidator(5)]
DESCRIPTION_MAX = 2000
REASON_MAX = 500


class Kind(models.TextChoices):
    INQUIRY = "inquiry", _("Inquiry")
    REPAIR = "repair", _("Repair")
    COMPLAINT = "complaint", _("Complaint")
    SUGGESTION = "suggestion", _("Suggestion")
    PRAISE = "praise", _("Praise")


# The number's prefix per kind: the pinyin initials staff and owners already use on paper.
NUMBER_PREFIX = {
    Kind.INQUIRY: "ZX",
    Kind.REPAIR: "BX",
    Kind.COMPLAINT: "TS",
    Kind.SUGGESTION: "JY",
    Kind.PRAISE: "BY",
}


class Urgency(models.TextChoices):
    EMERGENCY = "emergency", _("Emergency")
    URGENT = "urgent", _("Urgent")
    NORMAL = "normal", _("Normal")


URGENCY_RANK = {Urgency.EMERGENCY: 0, Urgency.URGENT: 1, Urgency.NORMAL: 2}


class Channel(models.TextChoices):
    PORTAL = "portal", _("Owner portal")
    PHONE = "phone", _("Phone")
    WALK_IN = "walk_in", _("Walk-in")
    WECHAT = "wechat", _("WeChat or app")
    EMAIL = "email", _("Email")
    STAFF = "staff", _("Found by staff")
    INSPECTION = "inspection", _("Inspection")
    IOT = "iot", _("IoT alarm")
    SURVEY = "survey", _("Satisfaction survey")


class Status(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    DISPATCHED = "dispatched", _("Dispatched")
    IN_PROGRESS = "in_progress", _("In progress")
    INVESTIGATING = "investigating", _("Investigating")
    ON_HOLD = "on_hold", _("On hold")
    COMPLETED = "completed", _("Awaiting confirmation")
    REPLIED = "replied", _("Replied")
    CLOSED = "closed", _("Closed")
    CANCELLED = "cancelled", _("Cancelled")
    DECLINED = "declined", _("Declined")


OPEN_STATUSES = frozenset(Status) - {Status.CLOSED, Status.CANCELLED, Status.DECLINED}
# The fault is still being dealt with (an incident, in servicedesk.incidents).
UNRESOLVED_STATUSES = OPEN_STATUSES - {Status.COMPLETED, Status.REPLIED}


def _unresolved_at(place: str) -> Q:
    """The rows of the partial indexes the duplicate check reads at every intake."""
    unresolved = Q(parent__isnull=True, status__in=sorted(UNRESOLVED_STATUSES))
    return unresolved & Q(**{f"{place}__isnull": False})


def _owner_sees_own_requests(user) -> Q:
    return Q(reporter_user=user)


def _field_staff_see_their_work(user) -> Q:
    """Technicians, security and cleaners see what is or was in their hands or their team's."""
    # Subqueries, not joins: a join through teams or the trail would repeat rows.
    from jiayuan.org.models import TeamMember

    return (
        Q(assignee=user)
        | Q(team_id__in=TeamMember.objects.filter(user=user).values("team_id"))
        | Q(pk__in=Handling.objects.filter(handler=user).values("request_id"))
    )


class RequestCounter(models.Model):
    """The last number given per company, prefix and day: numbers stay unique and in order
    even when many requests arrive at once (the row is locked while a number is taken). A
    number is skipped only if the database fails the intake's write after taking it."""

    company = models.ForeignKey("org.Company", on_delete=models.CASCADE, related_name="+")
    prefix = models.CharField(max_length=4)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    access = Access()  # machinery: nobody reads it through pages

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "prefix", "day"], name="request_counter_unique"
            )
        ]

    def __str__(self):
        return f"{self.prefix}{self.day:%Y%m%d}: {self.last}"


def request_part_access(staff: dict, *, reporter_sees: bool = False) -> Access:
    """Rows that belong to one request are seen where the request is: by the staff roles
    given, in its estate, and (if `reporter_sees`) by the owner who reported it."""
    return Access(
        staff=staff,
        estate_path="request__estate_id",
        company_path="request__company_id",
        resident=(lambda user: Q(request__reporter_user=user)) if reporter_sees else None,
    )


def place_words(place: str, note: str) -> str:
    """Where a request is, as lists show it: the unit or common area, then the note."""
    return " · ".join(part for part in (place, note) if part)


class ServiceRequest(TimeStampedModel):
    """One owner request of any kind, from intake to closing."""

    company = models.ForeignKey(
        "org.Company",
        verbose_name=_("company"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # covered by the number's unique constraint, which starts with it
    )
    estate = models.ForeignKey(
        "org.Estate",
        verbose_name=_("estate"),
        on_delete=models.PROTECT,
        related_name="service_requests",
        db_index=False,  # covered by an index of Meta.indexes that starts with it
    )
    number = models.CharField(_("number"), max_length=20)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices)
    urgency = models.CharField(
        _("urgency"), max_length=10, choices=Urgency.choices, default=Urgency.NORMAL
    )
    channel = models.CharField(_("channel"), max_length=12, choices=Channel.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    # Where: a unit or a common area (the building follows from either, kept for filters).
    unit = models.ForeignKey(
        "org.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    common_area = models.ForeignKey(
        "org.CommonArea",
        verbose_name=_("common area"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
        db_index=False,  # mostly empty: indexed where set (Meta.indexes)
    )
    building = models.ForeignKey(
        "org.Building",
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # covered by an index of Meta.indexes that starts with it
    )
    location_note = models.CharField(_("location details"), max_length=200, blank=True)
    description = models.TextField(_("description"), max_length=DESCRIPTION_MAX)
    appointment_start = models.DateTimeField(_("appointment from"), null=True, blank=True)
    appointment_end = models.DateTimeField(_("appointment until"), null=True, blank=True)
    # Who asked: the resident (and their portal account, when they used it) and how to reach them.
    reporter = models.ForeignKey(
        "org.Resident",
        verbose_name=_("reporter"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="service_requests",
    )
    reporter_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter's account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_requests",
        db_index=False,  # covered by an index of Meta.indexes that starts with it
    )
    contact_name = models.CharField(_("contact name"), max_length=64, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=20, blank=True)
    # 首问负责人: the staff member who took the request; answerable for it until it closes.
    first_contact = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("first-contact owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="first_contact_requests",
        db_index=False,  # mostly empty: indexed where set (Meta.indexes)
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_requests",
        db_index=False,  # covered by an index of Meta.indexes that starts with it
    )
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="service_requests",
        db_index=False,  # mostly empty: indexed where set (Meta.indexes)
    )
    praised_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("praised staff member"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="praises",
        db_index=False,  # mostly empty: indexed where set (Meta.indexes)
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent incident"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
        db_index=False,  # indexed for the children only (Meta.indexes)
    )
    related_to = models.ForeignKey(
        "self",
        verbose_name=_("follows up on"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="follow_ups",
        db_index=False,  # mostly empty: indexed where set (Meta.indexes)
    )
    # Life-cycle bookkeeping.
    held_from = models.CharField(
        _("status before the hold"), max_length=16, choices=Status.choices, blank=True
    )
    hold_reason = models.CharField(_("hold reason"), max_length=REASON_MAX, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("times reopened"), default=0)
    close_reason = models.CharField(_("reason"), max_length=REASON_MAX, blank=True)
    reply = models.TextField(_("reply"), max_length=DESCRIPTION_MAX, blank=True)
    work_notes = models.TextField(_("work notes"), max_length=DESCRIPTION_MAX, blank=True)
    is_paid = models.BooleanField(_("paid repair"), default=False)
    labour_fee = models.DecimalField(
        _("labour fee"),
        max_digits=10,
        decimal_places=2,
        default=Decimal("0.00"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    # The earliest due time of its running SLA clocks (the sla app keeps it): the queue
    # sorts and filters by it without reading the clocks.
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    auto_closed = models.BooleanField(_("closed automatically"), default=False)
    # Raised by every change: a form posted from an old page is refused, not applied blindly.
    version = models.PositiveIntegerField(default=1)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: ALL_STAFF, ADD: DESK_ROLES, CHANGE: DESK_ROLES},
        estate_path="estate_id",
        company_path="company_id",
        resident=_owner_sees_own_requests,
        narrowed={role: _field_staff_see_their_work for role in FIELD_STAFF},
    )

    class Meta:
        verbose_name = _("service request")
        verbose_name_plural = _("service requests")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "number"], name="request_number_unique"),
            models.CheckConstraint(
                condition=Q(unit__isnull=True) | Q(common_area__isnull=True),
                name="request_one_place",
            ),
        ]
        indexes = [
            models.Index(fields=["estate", "status", "-created_at"]),
            # The queue's counts by state, kind, category and urgency, and a page's ids in
            # the queue's order, come from this index alone on PostgreSQL (the included
            # columns and the id); SQLite ignores `include`.
            models.Index(
                fields=["estate", "-created_at", "-id"],
                include=["status", "kind", "category", "urgency"],
                name="request_estate_recent",
            ),
            models.Index(fields=["assignee", "status"]),
            models.Index(fields=["reporter_user", "-created_at"]),
            models.Index(fields=["estate", "kind", "category"]),
            # A building's requests, counted and paged from the index alone: without the
            # estate in it, PostgreSQL read all of the estate's entries too, to check each
            # request's estate (6.5 ms for a building's count at 20,000 requests an estate;
            # 0.5 now), and without the id a deep page read every request of the building.
            models.Index(
                fields=["building", "-created_at", "-id"],
                include=["estate"],
                name="request_building_recent",
            ),
            models.Index(
                fields=["estate", "due_at"],
                condition=Q(due_at__isnull=False),
                name="request_estate_due",
            ),
            # An incident's reports. Most requests have no parent: leaving them out keeps the
            # index small and PostgreSQL from walking it for "no parent".
            models.Index(
                fields=["parent"], condition=Q(parent__isnull=False), name="request_children"
            ),
            # References most requests leave empty, indexed where set (deleting a user or a
            # team finds theirs): a new request adds nothing to them.
            *(
                models.Index(
                    fields=[name], condition=Q(**{f"{name}__isnull": False}), name=f"request_{name}"
                )
                for name in ("common_area", "first_contact", "team", "praised_staff", "related_to")
            ),
            # The duplicate check at intake: the open faults of one flat, one common area or
            # (for shared equipment) one building, whatever the estate's history holds.
            *(
                models.Index(
                    fields=[place, "kind", "category"],
                    condition=_unresolved_at(place),
                    name=f"request_unresolved_{place}",
                )
                for place in ("unit", "common_area", "building")
            ),
        ]

    def __str__(self):
        return self.number

    def clean(self):
        errors = {}
        if (
            self.appointment_start
            and self.appointment_end
            and self.appointment_end <= self.appointment_start
        ):
            errors["appointment_end"] = _("The appointment must end after it starts.")
        if self.unit_id and self.unit.estate_id != self.estate_id:
            errors["unit"] = _("This unit is in another estate.")
        if self.common_area_id and self.common_area.estate_id != self.estate_id:
            errors["common_area"] = _("This common area is in another estate.")
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def place_label(self) -> str:
        place = self.unit or self.common_area
        return place_words(str(place) if place else "", self.location_note)

    @property
    def masked_contact_phone(self) -> str:
        return mask_mobile(self.contact_phone)

    @property
    def materials_total(self) -> Decimal:
        return sum((line.total for line in self.materials.all()), Decimal("0.00"))

    @property
    def charge_total(self) -> Decimal:
        return self.labour_fee + self.materials_total


class Handling(models.Model):
    """One hop of the handler trail: who held the request, from whom, when they took it,
    arrived, and let it go, and how it ended for them."""

    class Outcome(models.TextChoices):
        COMPLETED = "completed", _("Completed")
        REPLIED = "replied", _("Replied")
        TRANSFERRED = "transferred", _("Transferred")
        RETURNED = "returned", _("Returned")
        CANCELLED = "cancelled", _("Cancelled")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="handlings")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handler"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="handlings",
    )
    team = models.ForeignKey(
        "org.Team", verbose_name=_("team"), null=True, blank=True, on_delete=models.SET_NULL
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(_("assigned at"), default=timezone.now)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    arrived_at = models.DateTimeField(_("arrived at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    note = models.CharField(_("note"), max_length=REASON_MAX, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: ALL_STAFF})

    class Meta:
        verbose_name = _("handling")
        verbose_name_plural = _("handler trail")
        ordering = ["assigned_at", "id"]
        indexes = [models.Index(fields=["handler", "assigned_at"])]
        constraints = [
            # At most one open hop per request: the trail never forks.
            models.UniqueConstraint(
                fields=["request"], condition=Q(ended_at__isnull=True), name="one_open_handling"
            )
        ]

    def __str__(self):
        return f"{self.request_id} · {self.handler_id} · {self.assigned_at:%Y-%m-%d %H:%M}"


class Photo(models.Model):
    class Stage(models.TextChoices):
        REPORT = "report", _("Reported")
        BEFORE = "before", _("Before work")
        AFTER = "after", _("After work")

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="photos")
    stage = models.CharField(_("stage"), max_length=8, choices=Stage.choices)
    image = models.ImageField(_("photo"), upload_to="requests/%Y/%m/")
    thumbnail = models.ImageField(_("thumbnail"), upload_to="requests/%Y/%m/thumbs/")
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: ALL_STAFF}, reporter_sees=True)

    class Meta:
        verbose_name = _("photo")
        verbose_name_plural = _("photos")
        ordering = ["uploaded_at", "id"]

    def __str__(self):
        return f"{self.request_id} · {self.get_stage_display()}"


class MaterialLine(models.Model):
    """A material used on a paid repair; the owner sees the lines before confirming."""

    request = models.ForeignKey(ServiceRequest, on_delete=models.CASCADE, related_name="materials")
    item = models.CharField(_("item"), max_length=100)
    unit_price = models.DecimalField(
        _("unit price"),
        max_digits=10,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0"))],
    )
    quantity = models.DecimalField(
        _("quantity"),
        max_digits=8,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: ALL_STAFF}, reporter_sees=True)

    class Meta:
        verbose_name = _("material")
        verbose_name_plural = _("materials")
        ordering = ["id"]

    def __str__(self):
        return f"{self.item} × {self.quantity}"

    @property
    def total(self) -> Decimal:
        return (self.unit_price * self.quantity).quantize(Decimal("0.01"))


class Rating(models.Model):
    """The owner's rating of a finished request, or the automatic one when they did not."""

    request = models.OneToOneField(ServiceRequest, on_delete=models.CASCADE, related_name="rating")
    overall = models.PositiveSmallIntegerField(_("overall"), validators=RATING)
    timeliness = models.PositiveSmallIntegerField(_("timeliness"), validators=RATING)
    attitude = models.PositiveSmallIntegerField(_("attitude"), validators=RATING)
    quality = models.PositiveSmallIntegerField(_("quality"), validators=RATING)
    comment = models.TextField(_("comment"), max_length=1000, blank=True)
    tags = models.JSONField(_("tags"), default=list, blank=True)
    is_automatic = models.BooleanField(_("rated automatically"), default=False)
    rated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    rated_at = models.DateTimeField(_("rated at"), default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: ALL_STAFF}, reporter_sees=True)

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")

    def __str__(self):
        return f"{self.request_id} · {self.overall}★"


class ReturnVisit(models.Model):
    """回访: the desk calls the owner back after the request closed."""

    class Outcome(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        UNSATISFIED = "unsatisfied", _("Not satisfied")
        UNREACHABLE = "unreachable", _("Could not reach the owner")

    class Method(models.TextChoices):
        PHONE = "phone", _("Phone")
        VISIT = "visit", _("Home visit")
        MESSAGE = "message", _("Message")

    request = models.OneToOneField(
        ServiceRequest, on_delete=models.CASCADE, related_name="return_visit"
    )
    due_at = models.DateTimeField(_("due"))
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    done_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    method = models.CharField(_("method"), max_length=10, choices=Method.choices, blank=True)
    outcome = models.CharField(_("outcome"), max_length=12, choices=Outcome.choices, blank=True)
    note = models.TextField(_("note"), max_length=1000, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: DESK_ROLES, CHANGE: DESK_ROLES})

    class Meta:
        verbose_name = _("return visit")
        verbose_name_plural = _("return visits")
        ordering = ["due_at", "id"]
        indexes = [
            models.Index(
                fields=["due_at"], condition=Q(done_at__isnull=True), name="return_visit_due"
            )
        ]

    def __str__(self):
        return f"{self.request_id} · {self.due_at:%Y-%m-%d}"


class DeskSettings(models.Model):
    """A company's service-desk rules. Missing row: the defaults below."""

    class VisitPolicy(models.TextChoices):
        NEVER = "never", _("Never")
        IF_NOT_RATED = "if_not_rated", _("Only if the owner did not rate")
        ALWAYS = "always", _("Always")
        LOW_RATINGS = "low_ratings", _("Complaints and ratings of 3 or less")

    company = models.OneToOneField(
        "org.Company", on_delete=models.CASCADE, related_name="desk_settings"
    )
    auto_rate_after_hours = models.PositiveIntegerField(
        _("auto-rate after (hours)"), default=48, validators=[MinValueValidator(1)]
    )
    auto_rating = models.PositiveSmallIntegerField(
        _("automatic rating"), default=5, validators=RATING
    )
    return_visit_within_hours = models.PositiveIntegerField(
        _("return visit within (hours)"), default=72, validators=[MinValueValidator(1)]
    )
    visit_policy = models.JSONField(_("return visit policy per kind"), default=dict, blank=True)
    offered_categories = models.JSONField(
        _("categories offered"),
        default=list,
        blank=True,
        help_text=_("The categories owners and the desk choose from; none chosen: all."),
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: ALL_STAFF, CHANGE: MANAGERS},
        estate_path="company__estates__id",
        company_path="company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("service-desk settings")
        verbose_name_plural = _("service-desk settings")

    def __str__(self):
        return str(self.company_id)

    DEFAULT_VISIT_POLICY = {
        Kind.REPAIR: VisitPolicy.IF_NOT_RATED,
        Kind.COMPLAINT: VisitPolicy.ALWAYS,
        Kind.INQUIRY: VisitPolicy.NEVER,
        Kind.SUGGESTION: VisitPolicy.NEVER,
        Kind.PRAISE: VisitPolicy.NEVER,
    }

    def visit_policy_for(self, kind: str) -> str:
        return self.visit_policy.get(kind) or self.DEFAULT_VISIT_POLICY[kind]

    def offered_codes(self) -> set[str]:
        """The codes of the categories this company takes requests in (none chosen: all)."""
        return set(self.offered_categories or Category.values)

    def category_choices(self) -> list[tuple[str, str]]:
        """The categories this company takes requests in, in the default order."""
        offered = self.offered_codes()
        return [(code, label) for code, label in Category.choices if code in offered]


class ReplyTemplate(TimeStampedModel):
    """A ready answer the desk picks for a common inquiry or complaint."""

    company = models.ForeignKey(
        "org.Company", on_delete=models.CASCADE, related_name="reply_templates"
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    title = models.CharField(_("title"), max_length=100)
    body = models.TextField(_("text"), max_length=DESCRIPTION_MAX)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: DESK_ROLES, ADD: MANAGERS, CHANGE: MANAGERS},
        estate_path="company__estates__id",
        company_path="company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("reply template")
        verbose_name_plural = _("reply templates")
        ordering = ["kind", "title"]

    def __str__(self):
        return self.title


class DuplicateSuggestion(models.Model):
    """A newer report that may be about the same fault as an open request (servicedesk.
    incidents): the desk links it to that incident or says it is not the same. One row per
    pair, so a pair the desk turned down is never offered again."""

    class Decision(models.TextChoices):
        PENDING = "", _("Waiting for the desk")
        LINKED = "linked", _("Same fault: linked")
        DISMISSED = "dismissed", _("Not the same fault")

    request = models.ForeignKey(
        ServiceRequest, on_delete=models.CASCADE, related_name="duplicate_suggestions"
    )
    candidate = models.ForeignKey(
        ServiceRequest,
        verbose_name=_("possible incident"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    score = models.FloatField(_("likeness"))
    created_at = models.DateTimeField(default=timezone.now)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision.choices, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: DESK_ROLES, CHANGE: DESK_ROLES})

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        ordering = ["-score", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "candidate"], name="duplicate_suggestion_unique"
            )
        ]
        indexes = [models.Index(fields=["candidate", "decision"])]

    def __str__(self):
        return f"{self.request_id} ~ {self.candidate_id} ({self.score:.2f})"
