"""Two runs of the rollup job rebuilding the same estate-month at once (a slow run that
overlaps the next tick) leave one copy of the figures, not two."""

import pytest

from jiayuan.core.testing import at_once
from jiayuan.dashboard import rollups, selectors
from jiayuan.dashboard.models import MonthStat

from .test_kpis import JUNE, month  # noqa: F401 - the fixture


@pytest.mark.usefixtures("file_database")
def test_two_rebuilds_at_once_leave_one_copy(month, personas):  # noqa: F811
    company, estate = personas.company, personas.estate_a
    rollups.rebuild_month(company.pk, estate.pk, JUNE.start)
    once = selectors.kpis_of(personas.manager_a, selectors.Scope(company.pk), JUNE).totals
    rows = MonthStat.objects.count()
    results = at_once(
        *[lambda: rollups.rebuild_month(company.pk, estate.pk, JUNE.start) for _ in range(3)]
    )
    assert results == [7, 7, 7]
    assert MonthStat.objects.count() == rows
    again = selectors.kpis_of(personas.manager_a, selectors.Scope(company.pk), JUNE).totals
    assert again == once
