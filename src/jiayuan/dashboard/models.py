"""Rollups the dashboards read: the service desk's requests folded into additive counts and
sums per estate, month, team, kind, category and channel (`MonthStat`), per day for the trend
lines (`DayStat`), and histograms of the times for medians and the 90th percentile
(`TimeBucket`). They are rebuilt per estate and month by a job (dashboard.rollups) from the
requests and what hangs on them, so every number equals the raw records'; tests prove it."""

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import VIEW, Access, RestrictedQuerySet
from jiayuan.core.roles import MANAGERS
from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk.models import Channel, Kind

# Who reads the dashboards: the managers of an estate (estate managers) or of all of them.
DASHBOARD_ROLES = MANAGERS

ROLLUP_ACCESS = Access(
    staff={VIEW: DASHBOARD_ROLES}, estate_path="estate_id", company_path="company_id"
)

# The additive measures of a MonthStat, in one place: the rollup job fills them, the
# selectors sum them. Times are wall-clock minutes.
COUNTS = (
    "received",  # every report, duplicates included
    "duplicates",  # reports that joined an incident
    "cancelled",
    "declined",
    "counted",  # received − duplicates − cancelled − declined: the base of the rates
    "resolved",  # counted and completed, replied or closed
    "first_contact",  # resolved by the person who took it, nobody else handled it
    "completed_repairs",
    "first_time_fixed",  # completed repairs never reopened
    "reopened",  # resolved requests reopened at least once
    "complaints",
    "repeat_complaints",  # same household and category within 30 days before
    "rated",  # owners' own ratings
    "rating_sum",
    "rating_low",  # own ratings of 2 or less
    "auto_rated",
    "timeliness_sum",
    "attitude_sum",
    "quality_sum",
    "visits_done",
    "visits_satisfied",
    "response_count",
    "response_minutes",
    "arrival_count",
    "arrival_minutes",
    "resolution_count",
    "resolution_minutes",
)
TARGET_COUNTS = tuple(
    f"{target}_{what}"
    for target in ("accept", "response", "arrival", "resolution")
    for what in ("met", "on_time", "breached")
)
# How long requests waited in each stage: (count, minutes) per stage.
STAGES = (
    "wait_accept",  # submitted → accepted
    "wait_dispatch",  # accepted → dispatched (repairs)
    "wait_arrival",  # dispatched → arrived
    "on_site",  # arrived → completed
    "investigate",  # accepted → replied (other kinds)
    "wait_owner",  # completed or replied → closed
    "on_hold",  # paused, in total
)
STAGE_COUNTS = tuple(f"{stage}_{what}" for stage in STAGES for what in ("count", "minutes"))
MEASURES = COUNTS + TARGET_COUNTS + STAGE_COUNTS


class StatKey(models.Model):
    company = models.ForeignKey("org.Company", on_delete=models.CASCADE, related_name="+")
    estate = models.ForeignKey("org.Estate", on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(
        "org.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    kind = models.CharField(max_length=12, choices=Kind.choices)

    objects = RestrictedQuerySet.as_manager()
    access = ROLLUP_ACCESS

    class Meta:
        abstract = True


class MonthStat(StatKey):
    """One estate's requests of one month (by the day they came in), per team, kind,
    category and channel; every name of MEASURES is a column."""

    month = models.DateField()
    category = models.CharField(max_length=32, choices=Category.choices)
    channel = models.CharField(max_length=12, choices=Channel.choices)

    class Meta:
        indexes = [
            models.Index(fields=["company", "month"]),
            models.Index(fields=["estate", "month"]),
        ]

    def __str__(self):
        return f"{self.estate_id} {self.month:%Y-%m} {self.kind} {self.category} {self.channel}"


for _measure in MEASURES:
    MonthStat.add_to_class(_measure, models.BigIntegerField(default=0))


class DayStat(StatKey):
    """The trend lines: one estate's requests of one day per team and kind."""

    day = models.DateField()
    received = models.IntegerField(default=0)
    counted = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    rated = models.IntegerField(default=0)
    rating_sum = models.IntegerField(default=0)
    targets_met = models.IntegerField(default=0)
    targets_on_time = models.IntegerField(default=0)

    class Meta:
        indexes = [models.Index(fields=["company", "day"]), models.Index(fields=["estate", "day"])]

    def __str__(self):
        return f"{self.estate_id} {self.day} {self.kind}"


class TimeBucket(StatKey):
    """How many requests of one estate, month, team and kind took a time in one bucket:
    bucket b holds minutes in [1.05^(b-1), 1.05^b), bucket 0 less than a minute, so a
    median read from them is within 2.5% of the exact one (dashboard.facts)."""

    class Measure(models.TextChoices):
        RESPONSE = "response", _("First-response time")
        ARRIVAL = "arrival", _("Arrival time")
        RESOLUTION = "resolution", _("Resolution time")

    month = models.DateField()
    measure = models.CharField(max_length=10, choices=Measure.choices)
    bucket = models.PositiveSmallIntegerField()
    count = models.IntegerField(default=0)

    class Meta:
        indexes = [
            models.Index(fields=["company", "month"]),
            models.Index(fields=["estate", "month"]),
        ]

    def __str__(self):
        return f"{self.estate_id} {self.month:%Y-%m} {self.measure} {self.bucket}: {self.count}"


class RollupRun(models.Model):
    """The rollup job's bookkeeping: up to when the records were folded in, and what the
    last run did. One row per company."""

    company = models.OneToOneField("org.Company", on_delete=models.CASCADE, related_name="+")
    folded_until = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(default=timezone.now)
    months_rebuilt = models.IntegerField(default=0)

    objects = RestrictedQuerySet.as_manager()
    access = Access(staff={VIEW: DASHBOARD_ROLES}, company_path="company_id")

    def __str__(self):
        return f"{self.company_id}: {self.folded_until}"
