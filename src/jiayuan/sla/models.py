"""Business calendars: when a company (or one of its estates) works, for counting deadlines
in business time. The arithmetic is in calendar.py; selectors.py turns these rows into a
cached `Schedule`."""

import zoneinfo
from datetime import time

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q, Value
from django.db.models.functions import Coalesce
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
from jiayuan.servicedesk.models import Category, Urgency, request_part_access
from jiayuan.servicedesk.models import Kind as ServiceKind
from jiayuan.sla.calendar import DEFAULT_TIME_ZONE, MAKEUP_FOLLOWS

WEEKDAY = [MinValueValidator(0), MaxValueValidator(6)]
WEEKDAY_NAMES = (
    _("Monday"),
    _("Tuesday"),
    _("Wednesday"),
    _("Thursday"),
    _("Friday"),
    _("Saturday"),
    _("Sunday"),
)
WEEKDAY_CHOICES = list(enumerate(WEEKDAY_NAMES))
MIDNIGHT = time(0, 0)


def validate_time_zone(value: str) -> None:
    if value not in zoneinfo.available_timezones():
        raise ValidationError(
            _("“%(value)s” is not a known time zone, such as Asia/Shanghai."),
            params={"value": value},
            code="time_zone",
        )


def _calendar_access(prefix: str = "") -> Access:
    """Managers see the calendars of their company; company-wide calendars are changed by
    company-wide managers only, which the services check (see services._ensure_may_change)."""
    return Access(
        staff={VIEW: MANAGERS, ADD: MANAGERS, CHANGE: MANAGERS, DELETE: MANAGERS},
        estate_path=f"{prefix}company__estates__id",
        company_path=f"{prefix}company_id",
        # An estate manager sees the company's calendar and their own estates' overrides,
        # not the overrides of the company's other estates.
        narrowed={Role.ESTATE_MANAGER: company_or_own_estates(prefix)},
        multi_valued=True,
    )


class BusinessCalendar(TimeStampedModel):
    """A company's working time (estate empty), an estate's own (an override of the
    company's), or a 24×7 calendar for emergencies."""

    class Kind(models.TextChoices):
        REGULAR = "regular", _("Office hours")
        ALWAYS_OPEN = "always_open", _("24×7")

    company = models.ForeignKey(
        "org.Company",
        verbose_name=_("company"),
        on_delete=models.CASCADE,
        related_name="business_calendars",
    )
    estate = models.ForeignKey(
        "org.Estate",
        verbose_name=_("estate"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="business_calendars",
        help_text=_("Empty: the calendar of the whole company."),
    )
    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(
        _("time zone"), max_length=64, default=DEFAULT_TIME_ZONE, validators=[validate_time_zone]
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.REGULAR)
    # Raised by every change to the calendar, its windows or its days: the cached schedules
    # compare it to know they are stale.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = RestrictedQuerySet.as_manager()
    access = _calendar_access()

    class Meta:
        verbose_name = _("business calendar")
        verbose_name_plural = _("business calendars")
        ordering = ["company", "estate__name", "kind", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "kind"],
                condition=Q(estate__isnull=True),
                name="business_calendar_one_per_company",
            ),
            models.UniqueConstraint(
                fields=["company", "estate", "kind"],
                condition=Q(estate__isnull=False),
                name="business_calendar_one_per_estate",
            ),
        ]

    def __str__(self):
        return self.name

    @property
    def is_always_open(self) -> bool:
        return self.kind == self.Kind.ALWAYS_OPEN

    def clean(self):
        if self.estate_id and self.company_id and self.estate.company_id != self.company_id:
            raise ValidationError({"estate": _("The estate belongs to another company.")})


class WorkingWindow(QuickChoiceLabels, models.Model):
    """One span of working time on a weekday, in the calendar's local time. An end of
    00:00 means midnight at the end of the day."""

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="windows")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), choices=WEEKDAY_CHOICES, validators=WEEKDAY
    )
    start = models.TimeField(_("from"))
    end = models.TimeField(_("until"))

    objects = RestrictedQuerySet.as_manager()
    access = _calendar_access("calendar__")

    class Meta:
        verbose_name = _("working window")
        verbose_name_plural = _("working windows")
        ordering = ["calendar", "weekday", "start"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__lt=models.F("end")) | Q(end=MIDNIGHT),
                name="working_window_start_before_end",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="working_window_weekday"
            ),
        ]

    def __str__(self):
        return f"{WEEKDAY_NAMES[self.weekday]} {self.start:%H:%M}–{self.end:%H:%M}"


class CalendarDay(QuickChoiceLabels, models.Model):
    """A date that breaks the weekly pattern: a public holiday, or a make-up workday (调休)
    such as a Saturday worked in exchange for a longer holiday."""

    class Kind(models.TextChoices):
        HOLIDAY = "holiday", _("Holiday")
        WORKDAY = "workday", _("Make-up workday")

    class Source(models.TextChoices):
        LIBRARY = "library", _("Official schedule")
        MANUAL = "manual", _("Entered by hand")
        IMPORT = "import", _("Imported")

    calendar = models.ForeignKey(BusinessCalendar, on_delete=models.CASCADE, related_name="days")
    date = models.DateField(_("date"))
    kind = models.CharField(_("kind"), max_length=8, choices=Kind.choices)
    name = models.CharField(_("name"), max_length=100, blank=True)
    follows_weekday = models.PositiveSmallIntegerField(
        _("works like"),
        choices=WEEKDAY_CHOICES,
        default=MAKEUP_FOLLOWS,
        validators=WEEKDAY,
        help_text=_("A make-up workday has the working hours of this weekday."),
    )
    source = models.CharField(
        _("source"), max_length=8, choices=Source.choices, default=Source.MANUAL
    )

    objects = RestrictedQuerySet.as_manager()
    access = _calendar_access("calendar__")

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["calendar", "date"]
        constraints = [
            models.UniqueConstraint(fields=["calendar", "date"], name="calendar_day_unique"),
            models.CheckConstraint(
                condition=Q(follows_weekday__gte=0, follows_weekday__lte=6),
                name="calendar_day_follows_weekday",
            ),
        ]

    def __str__(self):
        return f"{self.date:%Y-%m-%d} {self.get_kind_display()}"


# ----------------------------------------------------------------------------- deadlines


class Target(models.TextChoices):
    """The promises a request's clock counts, each met by reaching certain states."""

    ACCEPT = "accept", _("Acceptance")
    RESPONSE = "response", _("First response")
    ARRIVAL = "arrival", _("Arrival on site")
    RESOLUTION = "resolution", _("Resolution")


class Clock(models.TextChoices):
    BUSINESS = "business", _("Business hours")
    CALENDAR = "calendar", _("Around the clock")


WARN_PERCENT = [MinValueValidator(1), MaxValueValidator(99)]


class CompanyRule(TimeStampedModel):
    """A rule of the company, or of one of its estates (estate set)."""

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
        help_text=_("Empty: the whole company."),
    )

    class Meta:
        abstract = True


class SlaPolicy(CompanyRule):
    """The targets for the requests it matches. A blank kind, category, urgency or estate
    matches any; the most specific matching policy wins (selectors.policy_for)."""

    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=12, choices=ServiceKind.choices, blank=True)
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    urgency = models.CharField(_("urgency"), max_length=10, choices=Urgency.choices, blank=True)
    warn_percent = models.PositiveSmallIntegerField(
        _("warn at (percent of the target)"), default=80, validators=WARN_PERCENT
    )
    accept_minutes = models.PositiveIntegerField(
        _("acceptance within (minutes)"), null=True, blank=True
    )
    accept_clock = models.CharField(
        _("acceptance counted in"), max_length=8, choices=Clock.choices, default=Clock.BUSINESS
    )
    response_minutes = models.PositiveIntegerField(
        _("first response within (minutes)"), null=True, blank=True
    )
    response_clock = models.CharField(
        _("first response counted in"),
        max_length=8,
        choices=Clock.choices,
        default=Clock.BUSINESS,
    )
    arrival_minutes = models.PositiveIntegerField(
        _("arrival within (minutes)"), null=True, blank=True
    )
    arrival_clock = models.CharField(
        _("arrival counted in"), max_length=8, choices=Clock.choices, default=Clock.BUSINESS
    )
    resolution_minutes = models.PositiveIntegerField(
        _("resolution within (minutes)"), null=True, blank=True
    )
    resolution_clock = models.CharField(
        _("resolution counted in"), max_length=8, choices=Clock.choices, default=Clock.BUSINESS
    )

    objects = RestrictedQuerySet.as_manager()
    access = _calendar_access()

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")
        ordering = ["company", "estate__name", "kind", "category", "urgency"]
        constraints = [
            models.UniqueConstraint(
                "company",
                Coalesce("estate", Value(0)),
                "kind",
                "category",
                "urgency",
                name="sla_policy_one_per_match",
            ),
        ]

    def __str__(self):
        return self.name

    def minutes_of(self, target: str) -> int | None:
        return getattr(self, f"{target}_minutes")

    def clock_of(self, target: str) -> str:
        return getattr(self, f"{target}_clock")

    @property
    def is_default(self) -> bool:
        return not (self.estate_id or self.kind or self.category or self.urgency)


class EscalationStep(CompanyRule):
    """Who is told when a target is breached, and how long after the step before (the
    first step: after the breach), counted on the breached target's clock."""

    class Recipient(models.TextChoices):
        TEAM_LEAD = "team_lead", _("Team lead")
        ESTATE_MANAGER = "estate_manager", _("Estate manager")
        SERVICE_DIRECTOR = "service_director", _("Company service director (company admins)")

    level = models.PositiveSmallIntegerField(
        _("step"), validators=[MinValueValidator(1), MaxValueValidator(9)]
    )
    recipient = models.CharField(_("who is told"), max_length=20, choices=Recipient.choices)
    delay_minutes = models.PositiveIntegerField(_("after (minutes)"), default=0)

    objects = RestrictedQuerySet.as_manager()
    access = _calendar_access()

    class Meta:
        verbose_name = _("escalation step")
        verbose_name_plural = _("escalation steps")
        ordering = ["company", "estate", "level"]
        constraints = [
            models.UniqueConstraint(
                "company", Coalesce("estate", Value(0)), "level", name="escalation_step_unique"
            ),
        ]

    def __str__(self):
        return f"{self.level}: {self.get_recipient_display()}"


class RequestTarget(QuickChoiceLabels, models.Model):
    """One target's clock on one request: due time while it runs, the business (or
    calendar) minutes it has counted, and how it ended. Stored as it happens so reports
    never recompute history."""

    class State(models.TextChoices):
        RUNNING = "running", _("Running")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        STOPPED = "stopped", _("Not counted")

    request = models.ForeignKey(
        "servicedesk.ServiceRequest", on_delete=models.CASCADE, related_name="targets"
    )
    target = models.CharField(_("target"), max_length=12, choices=Target.choices)
    policy_name = models.CharField(_("policy"), max_length=100)
    minutes = models.PositiveIntegerField(_("minutes"))
    clock = models.CharField(_("counted in"), max_length=8, choices=Clock.choices)
    warn_percent = models.PositiveSmallIntegerField(default=80, validators=WARN_PERCENT)
    state = models.CharField(_("state"), max_length=8, choices=State.choices)
    started_at = models.DateTimeField(_("started"))
    # While running: since when, and the minutes counted before that.
    running_since = models.DateTimeField(null=True, blank=True)
    elapsed_minutes = models.FloatField(_("minutes counted"), default=0)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    warn_at = models.DateTimeField(null=True, blank=True)
    warned_at = models.DateTimeField(null=True, blank=True)
    breached_at = models.DateTimeField(null=True, blank=True)
    escalation_level = models.PositiveSmallIntegerField(default=0)
    escalated_at = models.DateTimeField(null=True, blank=True)
    met_at = models.DateTimeField(_("met"), null=True, blank=True)
    on_time = models.BooleanField(_("on time"), null=True)
    # Who held the request when the target was met, for on-time rates per person and team.
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "org.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # When the SLA check must next look at this clock (a warning, the breach, the next
    # escalation step); empty when it has nothing left to do. The check reads it by index.
    next_check_at = models.DateTimeField(null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = request_part_access({VIEW: ALL_STAFF})

    class Meta:
        verbose_name = _("request target")
        verbose_name_plural = _("request targets")
        ordering = ["request", "target"]
        constraints = [
            models.UniqueConstraint(fields=["request", "target"], name="request_target_unique"),
        ]
        indexes = [
            models.Index(
                fields=["next_check_at"],
                condition=Q(next_check_at__isnull=False),
                name="request_target_next_check",
            ),
        ]

    def __str__(self):
        return f"{self.request_id} {self.get_target_display()}"


class SlaAlert(models.Model):
    """A warning (step 0) or an escalation step sent for a target: at most one of each,
    however many times the check runs."""

    WARNING = 0

    target = models.ForeignKey(RequestTarget, on_delete=models.CASCADE, related_name="alerts")
    step = models.PositiveSmallIntegerField()
    at = models.DateTimeField()
    recipients = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["target", "step"], name="sla_alert_once"),
        ]

    def __str__(self):
        return f"{self.target_id}: {self.step}"
