"""Staff training and certificates: courses a company runs again every period, sessions of a
course in an estate (or for the whole company) with who was invited, who came and what
they scored, and the certificates technicians and guards must hold, with the warnings sent
before each expires."""

from datetime import date

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import (
    ADD,
    CHANGE,
    DELETE,
    VIEW,
    Access,
    RestrictedQuerySet,
    company_or_own_estates,
)
from jiayuan.core.models import QuickChoiceLabels, TimeStampedModel
from jiayuan.core.roles import ALL_STAFF, MANAGERS, Role

# Managers keep courses, sessions, attendance and certificates; everyone else reads.
KEEPERS = MANAGERS
DEFAULT_WARNING_DAYS = [60, 30]
MAX_SCORE = 100


def _company_rows(rules: dict, prefix: str = "", **extra) -> Access:
    """Rows of a company, seen by its staff in any estate; `estate` (when the row has one)
    narrows them to that estate's staff."""
    return Access(
        staff=rules,
        estate_path=f"{prefix}company__estates__id",
        company_path=f"{prefix}company_id",
        narrowed={role: company_or_own_estates(prefix) for role in Role},
        multi_valued=True,
        **extra,
    )


class Topic(models.TextChoices):
    ETIQUETTE = "etiquette", _("Service etiquette")
    SAFETY = "safety", _("Work safety")
    EQUIPMENT = "equipment", _("Equipment operation")
    FIRE_DRILL = "fire_drill", _("Fire drill")
    COMPLAINTS = "complaints", _("Complaint handling")
    EMERGENCY = "emergency", _("Emergency response")
    POLICY = "policy", _("Rules and policies")
    OTHER = "other", _("Other")


class Recurrence(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    QUARTERLY = "quarterly", _("Quarterly")
    HALF_YEARLY = "half_yearly", _("Half-yearly")
    YEARLY = "yearly", _("Yearly")
    ONCE = "once", _("Once")


RECURRENCE_MONTHS = {
    Recurrence.MONTHLY: 1,
    Recurrence.QUARTERLY: 3,
    Recurrence.HALF_YEARLY: 6,
    Recurrence.YEARLY: 12,
}


def period_of(recurrence: str, day: date) -> tuple[date | None, date | None]:
    """The calendar period `day` falls in: [first day, day after the last). A course given
    once has one period with no bounds: passing it ever is enough."""
    months = RECURRENCE_MONTHS.get(recurrence)
    if months is None:
        return None, None
    first_month = (day.month - 1) // months * months + 1
    start = date(day.year, first_month, 1)
    end_month = first_month + months
    end = date(day.year + (end_month - 1) // 12, (end_month - 1) % 12 + 1, 1)
    return start, end


class Course(TimeStampedModel):
    """A training the company gives its staff, again every period."""

    company = models.ForeignKey(
        "org.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="+"
    )
    title = models.CharField(_("title"), max_length=100)
    topic = models.CharField(_("topic"), max_length=16, choices=Topic.choices)
    description = models.TextField(_("description"), max_length=2000, blank=True)
    # Role values; the staff holding one of them are invited and counted as due.
    roles = models.JSONField(_("for roles"), default=list)
    recurrence = models.CharField(
        _("repeats"), max_length=12, choices=Recurrence.choices, default=Recurrence.QUARTERLY
    )
    pass_mark = models.PositiveSmallIntegerField(
        _("pass mark"),
        default=60,
        validators=[MaxValueValidator(MAX_SCORE)],
        help_text=_("Score out of 100 needed to pass. 0: attending is enough, there is no exam."),
    )
    is_mandatory = models.BooleanField(_("mandatory"), default=True)
    is_active = models.BooleanField(_("in use"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: ALL_STAFF, ADD: KEEPERS, CHANGE: KEEPERS},
        estate_path="company__estates__id",
        company_path="company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("course")
        verbose_name_plural = _("courses")
        ordering = ["company", "title", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "title"], name="training_course_title"),
            models.CheckConstraint(
                condition=Q(pass_mark__lte=MAX_SCORE), name="training_course_pass_mark"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def has_exam(self) -> bool:
        return self.pass_mark > 0

    @property
    def role_labels(self) -> list[str]:
        labels = dict(Role.choices)
        return [str(labels.get(code, code)) for code in self.roles]

    def period(self, day: date) -> tuple[date | None, date | None]:
        return period_of(self.recurrence, day)


class Session(TimeStampedModel):
    """One time a course is given: in an estate, or for the whole company (no estate)."""

    course = models.ForeignKey(
        Course, verbose_name=_("course"), on_delete=models.PROTECT, related_name="sessions"
    )
    company = models.ForeignKey(
        "org.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="+"
    )
    estate = models.ForeignKey(
        "org.Estate",
        verbose_name=_("estate"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Leave empty for a session of the whole company."),
    )
    starts_at = models.DateTimeField(_("starts"))
    ends_at = models.DateTimeField(_("ends"))
    place = models.CharField(_("place"), max_length=100)
    trainer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("trainer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    trainer_name = models.CharField(
        _("outside trainer"),
        max_length=64,
        blank=True,
        help_text=_("The name of a trainer who is not on the staff."),
    )
    capacity = models.PositiveSmallIntegerField(
        _("capacity"), default=30, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()
    access = _company_rows({VIEW: ALL_STAFF, ADD: KEEPERS, CHANGE: KEEPERS, DELETE: KEEPERS})

    class Meta:
        verbose_name = _("training session")
        verbose_name_plural = _("training sessions")
        ordering = ["-starts_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=models.F("starts_at")), name="training_session_ends"
            ),
        ]
        indexes = [models.Index(fields=["company", "-starts_at"])]

    def __str__(self):
        return f"{self.course} · {self.starts_at:%Y-%m-%d}"

    @property
    def trainer_label(self) -> str:
        if self.trainer_id:
            return self.trainer.get_short_name()
        return self.trainer_name


class Attendance(QuickChoiceLabels, models.Model):
    """One invitee of a session: whether they came and, for a course with an exam, their
    score. `passed` is decided when it is recorded, against the course's pass mark then."""

    class Status(models.TextChoices):
        INVITED = "invited", _("Not recorded")
        PRESENT = "present", _("Present")
        ABSENT = "absent", _("Absent")
        EXCUSED = "excused", _("Excused")

    session = models.ForeignKey(
        Session, verbose_name=_("session"), on_delete=models.CASCADE, related_name="attendees"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="training_attendances",
    )
    status = models.CharField(
        _("attendance"), max_length=10, choices=Status.choices, default=Status.INVITED
    )
    score = models.PositiveSmallIntegerField(
        _("exam score"), null=True, blank=True, validators=[MaxValueValidator(MAX_SCORE)]
    )
    passed = models.BooleanField(_("passed"), default=False)
    recorded_at = models.DateTimeField(_("recorded at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = _company_rows(
        {VIEW: KEEPERS, CHANGE: KEEPERS},
        prefix="session__",
        owner_path="user",
        owner_actions=frozenset({VIEW}),
    )

    class Meta:
        verbose_name = _("attendance")
        verbose_name_plural = _("attendances")
        ordering = ["session", "user__name", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "user"], name="training_attendee_once"),
            models.CheckConstraint(
                condition=Q(score__isnull=True) | Q(score__lte=MAX_SCORE),
                name="training_score_range",
            ),
        ]
        indexes = [models.Index(fields=["user", "passed"])]

    def __str__(self):
        return f"{self.session} · {self.user}"


class CertificateKind(models.TextChoices):
    """The certificates property staff are commonly required to hold in China."""

    ELECTRICIAN = "electrician", _("Electrician (low voltage)")
    HIGH_VOLTAGE = "high_voltage", _("Electrician (high voltage)")
    ELEVATOR = "elevator", _("Elevator operation")
    FIRE = "fire", _("Fire-facility operator")
    BOILER = "boiler", _("Boiler operation")
    PRESSURE_VESSEL = "pressure_vessel", _("Pressure vessel operation")
    GAS = "gas", _("Gas work")
    HEIGHT = "height", _("Work at height")
    REFRIGERATION = "refrigeration", _("Refrigeration and air conditioning")
    WELDING = "welding", _("Welding and hot cutting")
    SECURITY_GUARD = "security_guard", _("Security guard")
    FIRST_AID = "first_aid", _("First aid")
    OTHER = "other", _("Other")


class CertificateState(models.TextChoices):
    VALID = "valid", _("Valid")
    EXPIRING = "expiring", _("Expiring soon")
    EXPIRED = "expired", _("Expired")


certificate_number_validator = RegexValidator(
    r"^[\w\-/()（）. ]+$",
    _("Use letters, digits, spaces and - / ( ) . only."),
)


def renewed_filter() -> Exists:
    """The holder has a later certificate of the same kind: this one was renewed and no
    longer needs warnings."""
    later = Certificate.objects.filter(
        holder_id=OuterRef("holder_id"), kind=OuterRef("kind"), issued_on__gt=OuterRef("issued_on")
    ).exclude(pk=OuterRef("pk"))
    return Exists(later)


class Certificate(TimeStampedModel):
    """A certificate a staff member holds. Its state follows from the dates."""

    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("holder"),
        on_delete=models.CASCADE,
        related_name="certificates",
    )
    company = models.ForeignKey(
        "org.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="+"
    )
    estate = models.ForeignKey(
        "org.Estate",
        verbose_name=_("estate"),
        on_delete=models.CASCADE,
        related_name="+",
        help_text=_("Where the holder works; its managers are warned before it expires."),
    )
    kind = models.CharField(_("certificate"), max_length=20, choices=CertificateKind.choices)
    number = models.CharField(
        _("certificate number"), max_length=64, validators=[certificate_number_validator]
    )
    issuer = models.CharField(_("issued by"), max_length=100)
    issued_on = models.DateField(_("issued on"))
    expires_on = models.DateField(
        _("expires on"), null=True, blank=True, help_text=_("Leave empty if it never expires.")
    )
    scan = models.FileField(_("scan"), upload_to="certificates/%Y/%m/", blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: KEEPERS, ADD: KEEPERS, CHANGE: KEEPERS},
        estate_path="estate_id",
        company_path="company_id",
        owner_path="holder",
        owner_actions=frozenset({VIEW}),
    )

    class Meta:
        verbose_name = _("certificate")
        verbose_name_plural = _("certificates")
        ordering = [models.F("expires_on").asc(nulls_last=True), "holder__name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind", "number"], name="training_certificate_number"
            ),
            models.CheckConstraint(
                condition=Q(expires_on__isnull=True) | Q(expires_on__gt=models.F("issued_on")),
                name="training_certificate_expires_after_issue",
            ),
        ]
        indexes = [models.Index(fields=["company", "expires_on"])]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.number}"

    @property
    def state_label(self) -> str:
        """The label of the `state` that selectors.certificate_list works out."""
        return str(CertificateState(self.state).label)

    @property
    def scan_is_pdf(self) -> bool:
        return self.scan.name.lower().endswith(".pdf")


class CertificateWarning(models.Model):
    """A warning sent before (or on) a certificate's expiry: one per certificate, threshold
    and expiry date, so it is never sent twice and a new expiry date starts afresh."""

    certificate = models.ForeignKey(
        Certificate,
        verbose_name=_("certificate"),
        on_delete=models.CASCADE,
        related_name="warnings",
    )
    days_before = models.PositiveSmallIntegerField(_("days before expiry"))
    expires_on = models.DateField(_("expiry warned of"))
    sent_at = models.DateTimeField(_("sent at"))
    recipients = models.JSONField(_("recipients"), default=list)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: KEEPERS},
        estate_path="certificate__estate_id",
        company_path="certificate__company_id",
    )

    class Meta:
        verbose_name = _("certificate warning")
        verbose_name_plural = _("certificate warnings")
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["certificate", "days_before", "expires_on"],
                name="training_warning_once",
            ),
        ]

    def __str__(self):
        return f"{self.certificate} · {self.days_before}"


class TrainingSettings(TimeStampedModel):
    """A company's choices: how many days before expiry certificates are warned of (the
    largest is also when a certificate counts as expiring soon). The day of expiry is
    always warned."""

    company = models.OneToOneField(
        "org.Company", verbose_name=_("company"), on_delete=models.CASCADE, related_name="+"
    )
    warning_days = models.JSONField(_("warn days before expiry"), default=list)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: ALL_STAFF, CHANGE: frozenset({Role.COMPANY_ADMIN})},
        estate_path="company__estates__id",
        company_path="company_id",
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("training settings")
        verbose_name_plural = _("training settings")

    def __str__(self):
        return str(self.company)
