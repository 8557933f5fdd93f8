"""The dashboards' numbers: company, estate and team from the rollups (a few grouped queries
whatever the history), a person from their handler trail. Every read is scoped by
restrict(): a manager of one estate sees that estate's numbers and no other's."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from django.db.models import Count, Min, Sum
from django.db.models.functions import TruncWeek
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiayuan.core.access import VIEW, roles_in_estate
from jiayuan.core.taxonomy import Category
from jiayuan.dashboard.facts import exact_percentile, minutes_between, percentile_from_buckets
from jiayuan.dashboard.kpis import Kpi
from jiayuan.dashboard.models import (
    DASHBOARD_ROLES,
    MEASURES,
    STAGES,
    DayStat,
    MonthStat,
    RollupRun,
    TimeBucket,
)
from jiayuan.dashboard.periods import Period, add_months
from jiayuan.org.models import Building, Company, Estate, Membership, Team
from jiayuan.quality.selectors import csi
from jiayuan.servicedesk.models import (
    OPEN_STATUSES,
    Channel,
    Handling,
    Kind,
    Rating,
    ReturnVisit,
    ServiceRequest,
    Status,
)
from jiayuan.sla.models import RequestTarget, Target

STAGE_LABELS = {
    "wait_accept": gettext_lazy("Waiting to be accepted"),
    "wait_dispatch": gettext_lazy("Waiting for dispatch"),
    "wait_arrival": gettext_lazy("Waiting for the technician"),
    "on_site": gettext_lazy("Work on site"),
    "investigate": gettext_lazy("Investigation and reply"),
    "wait_owner": gettext_lazy("Waiting for the owner to confirm"),
    "on_hold": gettext_lazy("On hold"),
}
# The KPI an improvement action would move when requests wait too long in a stage.
STAGE_KPI = {
    "wait_accept": Kpi.ACCEPT_ON_TIME,
    "wait_dispatch": Kpi.RESPONSE_ON_TIME,
    "wait_arrival": Kpi.ARRIVAL_TIME,
    "on_site": Kpi.RESOLUTION_TIME,
    "investigate": Kpi.RESOLUTION_TIME,
    "on_hold": Kpi.RESOLUTION_TIME,
}
TIME_MEASURES = ("response", "arrival", "resolution")
TARGETS = ("accept", "response", "arrival", "resolution")
HANDLED = (Handling.Outcome.COMPLETED, Handling.Outcome.REPLIED)


def _ratio(part, whole) -> float | None:
    return round(100 * part / whole, 1) if whole else None


def _mean(total, count) -> float | None:
    return round(total / count, 2) if count else None


@dataclass
class Kpis:
    """The headline numbers of one scope and period (rates in percent, times in minutes)."""

    totals: dict
    times: dict = field(default_factory=dict)  # measure → (median, p90, mean)

    def __getattr__(self, name):
        totals = self.__dict__.get("totals", {})
        if name in totals:
            return totals[name]
        raise AttributeError(name)

    @property
    def resolution_rate(self):
        return _ratio(self.totals["resolved"], self.totals["counted"])

    @property
    def first_contact_rate(self):
        return _ratio(self.totals["first_contact"], self.totals["resolved"])

    @property
    def first_time_fix_rate(self):
        return _ratio(self.totals["first_time_fixed"], self.totals["completed_repairs"])

    @property
    def reopen_rate(self):
        return _ratio(self.totals["reopened"], self.totals["resolved"])

    @property
    def average_rating(self):
        return _mean(self.totals["rating_sum"], self.totals["rated"])

    @property
    def low_rating_rate(self):
        return _ratio(self.totals["rating_low"], self.totals["rated"])

    @property
    def visit_satisfied_rate(self):
        return _ratio(self.totals["visits_satisfied"], self.totals["visits_done"])

    def on_time(self, target: str):
        return _ratio(self.totals[f"{target}_on_time"], self.totals[f"{target}_met"])

    @property
    def on_time_response(self):
        return self.on_time("response")

    @property
    def median_resolution(self):
        return self.times.get("resolution", (None,))[0]

    @property
    def on_time_rates(self) -> list[tuple[str, float | None, int]]:
        labels = dict(Target.choices)
        return [
            (labels[target], self.on_time(target), self.totals[f"{target}_met"])
            for target in TARGETS
        ]

    @property
    def rating_dimensions(self) -> list[tuple[str, float | None]]:
        rated = self.totals["rated"]
        return [
            (_("Timeliness"), _mean(self.totals["timeliness_sum"], rated)),
            (_("Attitude"), _mean(self.totals["attitude_sum"], rated)),
            (_("Quality"), _mean(self.totals["quality_sum"], rated)),
        ]

    @property
    def funnel(self) -> list[tuple[str, str, float | None, int]]:
        """(stage, label, mean minutes, requests) in the order a request passes them."""
        return [
            (
                stage,
                STAGE_LABELS[stage],
                _mean(self.totals[f"{stage}_minutes"], self.totals[f"{stage}_count"]),
                self.totals[f"{stage}_count"],
            )
            for stage in STAGES
        ]

    @property
    def bottleneck(self) -> tuple[str, float, str] | None:
        """(label, mean minutes, the KPI it weighs on) of the stage where requests waited
        longest on average for the company's staff: work on site and the owner's own time to
        confirm are not waiting on service."""
        waits = [
            (mean, label, STAGE_KPI[stage])
            for stage, label, mean, _n in self.funnel
            if mean and stage not in ("on_site", "wait_owner")
        ]
        if not waits:
            return None
        mean, label, kpi = max(waits, key=lambda item: item[0])
        return label, mean, kpi

    def value_of(self, kpi: str):
        """The KPI's number, for improvement actions that measure their effect."""
        getters = {
            Kpi.VOLUME: lambda: self.totals["received"],
            Kpi.ACCEPT_ON_TIME: lambda: self.on_time("accept"),
            Kpi.RESPONSE_ON_TIME: lambda: self.on_time("response"),
            Kpi.ARRIVAL_ON_TIME: lambda: self.on_time("arrival"),
            Kpi.RESOLUTION_ON_TIME: lambda: self.on_time("resolution"),
            Kpi.FIRST_RESPONSE_TIME: lambda: self.times.get("response", (None,))[0],
            Kpi.ARRIVAL_TIME: lambda: self.times.get("arrival", (None,))[0],
            Kpi.RESOLUTION_TIME: lambda: self.times.get("resolution", (None,))[0],
            Kpi.RESOLUTION_RATE: lambda: self.resolution_rate,
            Kpi.FIRST_CONTACT_RESOLUTION: lambda: self.first_contact_rate,
            Kpi.FIRST_TIME_FIX: lambda: self.first_time_fix_rate,
            Kpi.REOPEN_RATE: lambda: self.reopen_rate,
            Kpi.REPEAT_COMPLAINTS: lambda: self.totals["repeat_complaints"],
            Kpi.SATISFACTION: lambda: self.average_rating,
        }
        getter = getters.get(kpi)
        return getter() if getter else None


@dataclass(frozen=True)
class Scope:
    """Whose numbers: a company (the estates the user sees in it), an estate, or a team."""

    company_id: int
    estate: Estate | None = None
    team: Team | None = None
    # A company scope's estates whose dashboards the user may read (company_scope()).
    estates: tuple[Estate, ...] = ()

    @property
    def title(self) -> str:
        if self.team is not None:
            return f"{self.estate.name} · {self.team.name}"
        if self.estate is not None:
            return self.estate.name
        return Company.objects.get(pk=self.company_id).name

    def filter(self, queryset, user):
        queryset = queryset.restrict(user, VIEW).filter(company_id=self.company_id)
        if self.estate is not None:
            queryset = queryset.filter(estate_id=self.estate.pk)
        if self.team is not None:
            queryset = queryset.filter(team_id=self.team.pk)
        return queryset


def may_see_estate(user, estate: Estate) -> bool:
    return user.is_superuser or bool(roles_in_estate(user, estate) & DASHBOARD_ROLES)


def company_scope(user, company_id: int) -> Scope | None:
    """The company's dashboard scope for the user; None when they may read no estate of it."""
    estates = tuple(visible_estates(user, company_id))
    return Scope(company_id, estates=estates) if estates else None


def visible_estates(user, company_id: int):
    """The company's estates whose dashboards the user may read."""
    return [
        estate
        for estate in Estate.objects.restrict(user, VIEW)
        .filter(company_id=company_id)
        .select_related("company")
        .order_by("name")
        if may_see_estate(user, estate)
    ]


def _sum_all():
    return {name: Sum(name) for name in MEASURES}


def kpis_of(user, scope: Scope, period: Period) -> Kpis:
    """The headline numbers: one aggregate query and one over the time buckets."""
    rows = scope.filter(MonthStat.objects, user).filter(
        month__gte=period.start, month__lt=period.end
    )
    totals = {name: value or 0 for name, value in rows.aggregate(**_sum_all()).items()}
    return Kpis(totals=totals, times=_times(user, scope, period))


def _times(user, scope: Scope, period: Period, by: str | None = None) -> dict:
    """measure → (median, p90, mean) from the buckets (and the exact sums for the mean);
    with `by`, a dict of those per group."""
    keys = [by] if by else []
    rows = (
        scope.filter(TimeBucket.objects, user)
        .filter(month__gte=period.start, month__lt=period.end)
        .values(*keys, "measure", "bucket")
        .annotate(n=Sum("count"))
    )
    grouped: dict = defaultdict(lambda: defaultdict(dict))
    for row in rows:
        grouped[row[by] if by else None][row["measure"]][row["bucket"]] = row["n"]
    result = {
        group: {
            measure: (
                percentile_from_buckets(counts, 0.5),
                percentile_from_buckets(counts, 0.9),
            )
            for measure, counts in measures.items()
        }
        for group, measures in grouped.items()
    }
    return result if by else result.get(None, {})


def breakdown(user, scope: Scope, period: Period, dimension: str) -> list[tuple[str, str, int]]:
    """(code, label, requests received) by kind, category or channel, largest first."""
    labels = {"kind": Kind, "category": Category, "channel": Channel}[dimension]
    rows = (
        scope.filter(MonthStat.objects, user)
        .filter(month__gte=period.start, month__lt=period.end)
        .values(dimension)
        .annotate(received=Sum("received"))
        .order_by("-received")
    )
    names = dict(labels.choices)
    return [
        (row[dimension], str(names.get(row[dimension], row[dimension])), row["received"])
        for row in rows
        if row["received"]
    ]


@dataclass
class GroupRow:
    key: int | None
    name: str
    kpis: Kpis


def by_group(user, scope: Scope, period: Period, group: str) -> list[GroupRow]:
    """The scope's KPIs per estate (company view) or per team (estate view)."""
    field_name = f"{group}_id"
    rows = (
        scope.filter(MonthStat.objects, user)
        .filter(month__gte=period.start, month__lt=period.end)
        .values(field_name)
        .annotate(**_sum_all())
    )
    times = _times(user, scope, period, by=field_name)
    model = {"estate": Estate, "team": Team}[group]
    names = dict(
        model.objects.filter(pk__in=[row[field_name] for row in rows]).values_list("pk", "name")
    )
    result = [
        GroupRow(
            row[field_name],
            names.get(row[field_name], _("No team")),
            Kpis(
                totals={name: row[name] or 0 for name in MEASURES},
                times=times.get(row[field_name], {}),
            ),
        )
        for row in rows
    ]
    return sorted(result, key=lambda row: (row.key is None, row.name))


@dataclass(frozen=True)
class TrendPoint:
    label: str
    received: int
    resolution_rate: float | None
    on_time_rate: float | None
    average_rating: float | None


def monthly_trend(user, scope: Scope, period: Period, months: int = 12) -> list[TrendPoint]:
    """Month by month over the period, and at least the `months` before its end, so a
    month's view shows the year leading to it."""
    start = min(period.start, add_months(period.end, -months))
    rows = (
        scope.filter(MonthStat.objects, user)
        .filter(month__gte=start, month__lt=period.end)
        .values("month")
        .annotate(
            received_=Sum("received"),
            counted_=Sum("counted"),
            resolved_=Sum("resolved"),
            rated_=Sum("rated"),
            rating_sum_=Sum("rating_sum"),
            **{f"{t}_{w}_": Sum(f"{t}_{w}") for t in TARGETS for w in ("met", "on_time")},
        )
        .order_by("month")
    )
    points = []
    for row in rows:
        met = sum(row[f"{t}_met_"] for t in TARGETS)
        on_time = sum(row[f"{t}_on_time_"] for t in TARGETS)
        points.append(
            TrendPoint(
                f"{row['month']:%Y-%m}",
                row["received_"],
                _ratio(row["resolved_"], row["counted_"]),
                _ratio(on_time, met),
                _mean(row["rating_sum_"], row["rated_"]),
            )
        )
    return points


def weekly_trend(user, scope: Scope, period: Period) -> list[TrendPoint]:
    rows = (
        scope.filter(DayStat.objects, user)
        .filter(day__gte=period.start, day__lt=period.end)
        .annotate(week=TruncWeek("day"))
        .values("week")
        .annotate(
            received_=Sum("received"),
            counted_=Sum("counted"),
            resolved_=Sum("resolved"),
            rated_=Sum("rated"),
            rating_sum_=Sum("rating_sum"),
            met_=Sum("targets_met"),
            on_time_=Sum("targets_on_time"),
        )
        .order_by("week")
    )
    return [
        TrendPoint(
            f"{row['week']:%m-%d}",
            row["received_"],
            _ratio(row["resolved_"], row["counted_"]),
            _ratio(row["on_time_"], row["met_"]),
            _mean(row["rating_sum_"], row["rated_"]),
        )
        for row in rows
    ]


@dataclass(frozen=True)
class HeatMap:
    rows: list[str]  # buildings or estates
    columns: list[str]  # categories
    cells: list[tuple[int, int, int]]  # (column index, row index, requests)


def heat_map(user, scope: Scope, period: Period) -> HeatMap:
    """Requests by building and category in an estate (from the requests: buildings are
    few and the estate's index answers it), by estate and category for a company."""
    names = dict(Category.choices)
    if scope.estate is None:
        rows = (
            scope.filter(MonthStat.objects, user)
            .filter(month__gte=period.start, month__lt=period.end)
            .values("estate_id", "category")
            .annotate(n=Sum("received"))
        )
        row_key = "estate_id"
        row_names = dict(
            Estate.objects.filter(company_id=scope.company_id).values_list("pk", "name")
        )
    else:
        start, end = period.bounds()
        requests = ServiceRequest.objects.restrict_in_estate(user, scope.estate).filter(
            created_at__gte=start, created_at__lt=end, building__isnull=False
        )
        if scope.team is not None:
            requests = requests.filter(team=scope.team)
        rows = requests.values("building_id", "category").annotate(n=Count("id"))
        row_key = "building_id"
        row_names = dict(Building.objects.filter(estate=scope.estate).values_list("pk", "name"))
    rows = [row for row in rows if row["n"]]
    row_ids = sorted({row[row_key] for row in rows}, key=lambda pk: str(row_names.get(pk, "")))
    columns = [code for code in Category.values if any(row["category"] == code for row in rows)]
    return HeatMap(
        rows=[str(row_names.get(pk, "—")) for pk in row_ids],
        columns=[str(names[code]) for code in columns],
        cells=[
            (columns.index(row["category"]), row_ids.index(row[row_key]), row["n"]) for row in rows
        ],
    )


@dataclass(frozen=True)
class BacklogRow:
    status: str
    label: str
    count: int
    oldest_hours: float | None


def backlog(user, scope: Scope) -> list[BacklogRow]:
    """Open requests now, by state, with the age of the oldest: where work is waiting today
    (live, not from the rollups)."""
    if scope.estate is not None:
        requests = ServiceRequest.objects.restrict_in_estate(user, scope.estate)
    else:
        # The estates' index answers it; restrict() alone would read every request.
        estates = [estate.pk for estate in scope.estates]
        requests = ServiceRequest.objects.restrict(user, VIEW).filter(estate_id__in=estates)
    requests = requests.filter(status__in=OPEN_STATUSES)
    if scope.team is not None:
        requests = requests.filter(team=scope.team)
    rows = {
        row["status"]: row
        for row in requests.values("status").annotate(n=Count("id"), oldest=Min("created_at"))
    }
    now = timezone.now()
    labels = dict(Status.choices)
    return [
        BacklogRow(
            status,
            str(labels[status]),
            rows[status]["n"],
            round((now - rows[status]["oldest"]).total_seconds() / 3600, 1),
        )
        for status in Status.values
        if status in rows
    ]


def kpi_value(user, estate: Estate, kpi: str, start: date, end: date) -> float | None:
    """A KPI of the estate over the whole months from `start`'s to `end`'s (at least one
    month), as the dashboard shows it: what an improvement action measures before and
    after. None when the KPI has no value there (or the user may not see it)."""
    first = start.replace(day=1)
    last = add_months(max(first, end.replace(day=1)), 1)
    scope = Scope(estate.company_id, estate)
    period = Period("range", first, last)
    kpis = kpis_of(user, scope, period)
    if kpi == Kpi.CSI:
        return csi_of(user, scope, period, kpis).score
    value = kpis.value_of(kpi)
    return None if value is None else round(float(value), 2)


def csi_of(user, scope: Scope, period: Period, kpis: Kpis):
    """The satisfaction index of the scope: the surveys of the period and the owners' own
    ratings of its requests, the latter summed from the rollups."""
    start, end = period.bounds()
    totals = kpis.totals
    return csi(
        user,
        company_id=scope.company_id,
        start=start,
        end=end,
        estate_id=scope.estate.pk if scope.estate else None,
        service_sums={
            "n": totals["rated"],
            "overall": totals["rating_sum"],
            "timeliness": totals["timeliness_sum"],
            "attitude": totals["attitude_sum"],
            "quality": totals["quality_sum"],
        },
    )


@dataclass(frozen=True)
class LowRating:
    number: str
    request_id: int
    category: str
    overall: int
    comment: str


def low_ratings(user, scope: Scope, period: Period, limit: int = 50) -> list[LowRating]:
    """The owners' ratings of 2 or less on requests of the period, for the monthly report."""
    start, end = period.bounds()
    ratings = Rating.objects.restrict(user, VIEW).filter(
        request__company_id=scope.company_id,
        request__created_at__gte=start,
        request__created_at__lt=end,
        overall__lte=2,
        is_automatic=False,
    )
    if scope.estate is not None:
        ratings = ratings.filter(request__estate=scope.estate)
    if scope.team is not None:
        ratings = ratings.filter(request__team=scope.team)
    labels = dict(Category.choices)
    return [
        LowRating(number, request_id, str(labels.get(category, category)), overall, comment)
        for number, request_id, category, overall, comment in ratings.order_by(
            "overall", "-rated_at"
        ).values_list("request__number", "request_id", "request__category", "overall", "comment")[
            :limit
        ]
    ]


def freshness(company_id: int):
    """When the rollups were last brought up to date."""
    run = RollupRun.objects.filter(company_id=company_id).first()
    return run.finished_at if run else None


# ----------------------------------------------------------------------------- people


@dataclass
class PersonKpis:
    """One staff member's numbers from their hops of the handler trail (raw, exact)."""

    user_id: int
    name: str
    assigned: int = 0
    handled: int = 0
    returned: int = 0
    response_minutes: list = field(default_factory=list)
    arrival_minutes: list = field(default_factory=list)
    resolution_minutes: list = field(default_factory=list)
    fixed_first_time: int = 0
    repairs_completed: int = 0
    ratings: list = field(default_factory=list)
    complaints: int = 0
    visits_done: int = 0
    visits_satisfied: int = 0
    targets: dict = field(default_factory=lambda: defaultdict(lambda: [0, 0]))

    def median(self, measure: str):
        return exact_percentile(getattr(self, f"{measure}_minutes"), 0.5)

    def p90(self, measure: str):
        return exact_percentile(getattr(self, f"{measure}_minutes"), 0.9)

    @property
    def first_time_fix_rate(self):
        return _ratio(self.fixed_first_time, self.repairs_completed)

    @property
    def average_rating(self):
        return _mean(sum(self.ratings), len(self.ratings))

    @property
    def visit_satisfied_rate(self):
        return _ratio(self.visits_satisfied, self.visits_done)

    @property
    def on_time_rate(self):
        met = sum(cell[0] for cell in self.targets.values())
        return _ratio(sum(cell[1] for cell in self.targets.values()), met)

    @property
    def on_time_rates(self) -> list[tuple[str, float | None, int]]:
        labels = dict(Target.choices)
        return [
            (
                labels[target],
                _ratio(self.targets[target][1], self.targets[target][0]),
                self.targets[target][0],
            )
            for target in TARGETS
        ]


def people_kpis(user, people: dict[int, str], estate: Estate, period: Period) -> list[PersonKpis]:
    """KPIs of the given staff (id → name) over their hops assigned in the period in this
    estate: five queries whatever their number.

    - handled: hops that ended with the work completed or the reply given;
    - response, arrival, resolution: from the hop's assignment to its acceptance, arrival
      on site and end (handled hops only for the last);
    - first-time fix: repairs they completed that were never reopened;
    - rating and return visit: of the requests they completed (own ratings only);
    - complaints received: complaints that follow up on a request they handled;
    - on time: clocks met while they held the request."""
    start, end = period.bounds()
    result = {pk: PersonKpis(pk, name) for pk, name in people.items()}
    hops = (
        Handling.objects.restrict(user, VIEW)
        .filter(handler_id__in=list(people), request__estate=estate)
        .filter(assigned_at__gte=start, assigned_at__lt=end)
        .values_list(
            "handler_id",
            "request_id",
            "assigned_at",
            "accepted_at",
            "arrived_at",
            "ended_at",
            "outcome",
            "request__kind",
            "request__reopen_count",
        )
    )
    completed_by: dict[int, int] = {}
    handled_requests: dict[int, set] = defaultdict(set)
    for handler, request_id, assigned, accepted, arrived, ended, outcome, kind, reopens in hops:
        person = result[handler]
        person.assigned += 1
        handled_requests[request_id].add(handler)
        for measure, moment in (("response", accepted), ("arrival", arrived)):
            minutes = minutes_between(assigned, moment)
            if minutes is not None:
                getattr(person, f"{measure}_minutes").append(minutes)
        if outcome == Handling.Outcome.RETURNED:
            person.returned += 1
        if outcome in HANDLED:
            person.handled += 1
            completed_by[request_id] = handler
            minutes = minutes_between(assigned, ended)
            if minutes is not None:
                person.resolution_minutes.append(minutes)
            if kind == Kind.REPAIR:
                person.repairs_completed += 1
                person.fixed_first_time += int(not reopens)
    for request_id, overall in Rating.objects.filter(
        request_id__in=list(completed_by), is_automatic=False
    ).values_list("request_id", "overall"):
        result[completed_by[request_id]].ratings.append(overall)
    for request_id, outcome in (
        ReturnVisit.objects.filter(request_id__in=list(completed_by))
        .exclude(outcome="")
        .values_list("request_id", "outcome")
    ):
        person = result[completed_by[request_id]]
        person.visits_done += 1
        person.visits_satisfied += int(outcome == ReturnVisit.Outcome.SATISFIED)
    for (related_id,) in ServiceRequest.objects.filter(
        kind=Kind.COMPLAINT, related_to_id__in=list(handled_requests)
    ).values_list("related_to_id"):
        for handler in handled_requests[related_id]:
            result[handler].complaints += 1
    for handler, target, on_time in RequestTarget.objects.filter(
        handler_id__in=list(people),
        request__estate=estate,
        state=RequestTarget.State.MET,
        met_at__gte=start,
        met_at__lt=end,
    ).values_list("handler_id", "target", "on_time"):
        cell = result[handler].targets[target]
        cell[0] += 1
        cell[1] += int(bool(on_time))
    return sorted(result.values(), key=lambda person: (-person.handled, person.name))


def staff_member(user, estate: Estate, user_id: int) -> dict[int, str] | None:
    """{id: name} of an active staff member of the estate the user may see, else None."""
    membership = (
        Membership.objects.restrict(user, VIEW)
        .filter(estate=estate, user_id=user_id, is_active=True)
        .select_related("user")
        .first()
    )
    if membership is None:
        return None
    member = membership.user
    return {member.pk: member.get_short_name() or member.get_username()}


def team_people(team: Team) -> dict[int, str]:
    """The team's members, id → name."""
    return {
        membership.user_id: membership.user.get_short_name() or membership.user.get_username()
        for membership in team.memberships.select_related("user")
    }
