"""The charts of a dashboard as tables: a title, columns and rows. The page draws each with
ECharts (static/jiayuan/dashboard.js turns the table into a chart by its `kind`) and shows
the table beneath it; the export writes the very same table to .xlsx. One definition per
chart, so the picture, the table and the spreadsheet cannot disagree."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from openpyxl import Workbook

from jiayuan.dashboard import selectors
from jiayuan.dashboard.periods import Period
from jiayuan.org.exporting import append_row, spooled
from jiayuan.quality.models import Dimension


@dataclass(frozen=True)
class Chart:
    name: str
    title: str
    kind: str  # bar, hbar, line, pie, heatmap
    columns: list[str]
    rows: list[list]
    # The columns drawn (the first column names the points); the table shows them all.
    series: tuple[int, ...] = (1,)

    @property
    def table_rows(self) -> list[tuple]:
        """(the row's name, [(column, value), ...]) for tables that label every cell (on a
        phone each row becomes a card)."""
        return [(row[0], list(zip(self.columns[1:], row[1:], strict=True))) for row in self.rows]

    def as_json(self) -> dict:
        return {
            "name": self.name,
            "title": self.title,
            "kind": self.kind,
            "columns": [str(column) for column in self.columns],
            "rows": self.rows,
            "series": list(self.series),
        }


def _round(value, places=1):
    return None if value is None else round(value, places)


def in_hours(minutes):
    """Minutes as hours with one decimal (None stays None): how the dashboards show times."""
    return None if minutes is None else round(minutes / 60, 1)


def volume_chart(user, scope, period, dimension: str) -> Chart:
    titles = {
        "kind": _("Requests by kind"),
        "category": _("Requests by category"),
        "channel": _("Requests by channel"),
    }
    rows = [
        [label, count]
        for _code, label, count in selectors.breakdown(user, scope, period, dimension)
    ]
    kind = "pie" if dimension != "category" else "hbar"
    return Chart(f"by_{dimension}", titles[dimension], kind, [_("Group"), _("Requests")], rows)


def on_time_chart(kpis: selectors.Kpis) -> Chart:
    rows = [[str(label), rate, met] for label, rate, met in kpis.on_time_rates]
    return Chart(
        "on_time",
        _("SLA targets met on time"),
        "bar",
        [_("Target"), _("On time (%)"), _("Targets met")],
        rows,
    )


def times_chart(kpis: selectors.Kpis) -> Chart:
    labels = {
        "response": _("First response"),
        "arrival": _("Arrival on site"),
        "resolution": _("Resolution"),
    }
    rows = []
    for measure in selectors.TIME_MEASURES:
        median, p90 = kpis.times.get(measure, (None, None))
        count = kpis.totals[f"{measure}_count"]
        mean = kpis.totals[f"{measure}_minutes"] / count if count else None
        rows.append([str(labels[measure]), in_hours(median), in_hours(p90), in_hours(mean), count])
    return Chart(
        "times",
        _("Times (hours)"),
        "bar",
        [_("Measure"), _("Median"), _("90th percentile"), _("Mean"), _("Requests")],
        rows,
        series=(1, 2),
    )


def funnel_chart(kpis: selectors.Kpis) -> Chart:
    rows = [
        [str(label), in_hours(mean), count] for _stage, label, mean, count in kpis.funnel if count
    ]
    return Chart(
        "stages",
        _("Where requests wait: mean hours per stage"),
        "hbar",
        [_("Stage"), _("Mean hours"), _("Requests")],
        rows,
    )


def trend_chart(points, name: str, title: str) -> Chart:
    rows = [
        [p.label, p.received, p.resolution_rate, p.on_time_rate, p.average_rating] for p in points
    ]
    return Chart(
        name,
        title,
        "line",
        [_("Period"), _("Requests"), _("Resolved (%)"), _("On time (%)"), _("Average rating")],
        rows,
        series=(1, 2, 3),
    )


def heat_chart(heat: selectors.HeatMap, estate_level: bool) -> Chart:
    rows = [[heat.rows[y], heat.columns[x], count] for x, y, count in heat.cells]
    return Chart(
        "heat",
        _("Requests by building and category")
        if estate_level
        else _("Requests by estate and category"),
        "heatmap",
        [_("Building") if estate_level else _("Estate"), _("Category"), _("Requests")],
        rows,
    )


def group_chart(groups: list[selectors.GroupRow], group: str) -> Chart:
    rows = [
        [
            row.name,
            row.kpis.received,
            row.kpis.resolution_rate,
            row.kpis.on_time("response"),
            in_hours(row.kpis.times.get("resolution", (None,))[0]),
            row.kpis.average_rating,
            row.kpis.reopen_rate,
        ]
        for row in groups
    ]
    return Chart(
        f"by_{group}",
        _("Estates compared") if group == "estate" else _("Teams compared"),
        "bar",
        [
            _("Estate") if group == "estate" else _("Team"),
            _("Requests"),
            _("Resolved (%)"),
            _("Responded on time (%)"),
            _("Median resolution (hours)"),
            _("Average rating"),
            _("Reopened (%)"),
        ],
        rows,
        series=(2, 3),
    )


def people_chart(people: list[selectors.PersonKpis]) -> Chart:
    rows = [
        [
            person.name,
            person.handled,
            in_hours(person.median("response")),
            in_hours(person.median("arrival")),
            in_hours(person.median("resolution")),
            person.on_time_rate,
            person.first_time_fix_rate,
            person.average_rating,
            person.complaints,
            person.visit_satisfied_rate,
        ]
        for person in people
    ]
    return Chart(
        "people",
        _("Staff compared"),
        "bar",
        [
            _("Staff member"),
            _("Handled"),
            _("Median response (hours)"),
            _("Median arrival (hours)"),
            _("Median resolution (hours)"),
            _("On time (%)"),
            _("First-time fix (%)"),
            _("Average rating"),
            _("Complaints received"),
            _("Satisfied at return visit (%)"),
        ],
        rows,
        series=(1,),
    )


def satisfaction_chart(csi) -> Chart:
    """What owners think: the CSI's four dimensions, from the surveys and the owners' own
    ratings of their requests, on 0–100."""
    labels = dict(Dimension.choices)
    rows = [[str(labels[dimension]), _round(score)] for dimension, score in csi.dimensions.items()]
    return Chart(
        "satisfaction",
        _("What owners think (CSI by dimension, 0–100)"),
        "bar",
        [_("Dimension"), _("Score")],
        rows if any(score is not None for _label, score in rows) else [],
    )


def scope_charts(
    user, scope: selectors.Scope, period: Period, kpis: selectors.Kpis, csi
) -> list[Chart]:
    """Every chart of a company, estate or team dashboard, in page order."""
    charts = [
        trend_chart(selectors.monthly_trend(user, scope, period), "monthly", _("Month by month")),
        trend_chart(selectors.weekly_trend(user, scope, period), "weekly", _("Week by week")),
        funnel_chart(kpis),
        on_time_chart(kpis),
        times_chart(kpis),
        satisfaction_chart(csi),
        volume_chart(user, scope, period, "kind"),
        volume_chart(user, scope, period, "category"),
        volume_chart(user, scope, period, "channel"),
    ]
    if scope.team is None:
        group = "estate" if scope.estate is None else "team"
        charts.insert(2, group_chart(selectors.by_group(user, scope, period, group), group))
        charts.append(heat_chart(selectors.heat_map(user, scope, period), scope.estate is not None))
    return charts


def workbook_of(chart: Chart, heading: str):
    """The chart's table as an .xlsx file (a spooled temporary file, rewound): a heading
    line, the columns, the rows; text stays text, so no name turns into a formula."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(chart.name[:31])
    append_row(sheet, [heading])
    append_row(sheet, chart.columns)
    for row in chart.rows:
        append_row(sheet, row)
    return spooled(workbook)
