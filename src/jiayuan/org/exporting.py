"""Spreadsheets going out: blank templates, error reports and exports of an estate's
buildings, units and residents, all in the column layouts of org/importing.py so that an
export can be imported again.

Who may export: managers and the service desk, the staff who keep the register of
residents. Field staff (technicians, security, cleaners) and finance may not: a whole
list of residents is more than their work needs, even with masked numbers.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Iterator
from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment

from jiayuan.core.access import VIEW, can_in_estate, roles_in_estate
from jiayuan.core.audit import record_event
from jiayuan.core.roles import RESIDENT_KEEPERS
from jiayuan.org.events import OrgEvent
from jiayuan.org.importing import (
    BUILDINGS,
    HELP_SHEET,
    RESIDENTS,
    UNITS,
    Kind,
    Layout,
    layouts_of,
)
from jiayuan.org.models import Building, Estate, ImportJob, Residency, Unit, current_residency
from jiayuan.org.selectors import phone_for

EXPORTERS = RESIDENT_KEEPERS
READ_CHUNK = 2000
DATE_FORMAT = "yyyy-mm-dd"


def can_export(user, estate: Estate) -> bool:
    if not can_in_estate(user, Estate, VIEW, estate):
        return False
    return user.is_superuser or bool(roles_in_estate(user, estate) & EXPORTERS)


def ensure_can_export(user, estate: Estate) -> None:
    """404 for an estate the user cannot see, 403 for staff whose role may not export."""
    if not can_in_estate(user, Estate, VIEW, estate):
        raise Http404(_("Not found."))
    if not can_export(user, estate):
        raise PermissionDenied(_("You are not allowed to do this."))


# ----------------------------------------------------------------------------- cells


def _cell(sheet, value):
    """A write-only cell that Excel shows as typed: text starting with "=" stays text, so a
    hostile name such as =HYPERLINK(...) never becomes a live formula."""
    if isinstance(value, str):
        value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"
    elif isinstance(value, date):
        cell.number_format = DATE_FORMAT
    return cell


def append_row(sheet, values: Iterable) -> None:
    sheet.append([_cell(sheet, value) for value in values])


def _header_row(sheet, layout: Layout) -> None:
    cells = []
    for column in layout.columns:
        cell = _cell(sheet, column.header)
        cell.comment = Comment(f"{column.english}\n{_(column.help)}", "Jiayuan")
        cells.append(cell)
    sheet.append(cells)


def spooled(workbook: Workbook):
    """The workbook in a temporary file, rewound, for a streamed download."""
    spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it after sending
    workbook.save(spool)
    spool.seek(0)
    return spool


# ----------------------------------------------------------------------------- templates


def _allowed_values(column) -> str:
    if column.labels:
        return "、".join(column.labels.values())
    return ""


def template_workbook(kind: str):
    """A blank file to fill in: the headers, and a help sheet explaining every column."""
    workbook = Workbook(write_only=True)
    layouts = layouts_of(kind)
    for layout in layouts:
        _header_row(workbook.create_sheet(layout.sheet), layout)
    help_sheet = workbook.create_sheet(HELP_SHEET)
    append_row(
        help_sheet,
        [
            _("Sheet"),
            _("Column"),
            _("English header"),
            _("Required"),
            _("What to enter"),
            _("Allowed values"),
        ],
    )
    for layout in layouts:
        for column in layout.columns:
            append_row(
                help_sheet,
                [
                    layout.sheet,
                    column.header,
                    column.english,
                    _("yes") if column.required else _("no"),
                    _(column.help),
                    _allowed_values(column),
                ],
            )
    return spooled(workbook)


def template_filename(kind: str) -> str:
    names = "-".join(layout.sheet for layout in layouts_of(kind))
    return f"{names}-模板.xlsx"


# ----------------------------------------------------------------------------- error reports


def error_report_workbook(job: ImportJob):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_("Errors")[:31])
    append_row(sheet, [_("Sheet"), _("Row"), _("Column"), _("Value"), _("Problem")])
    for error in job.errors:
        append_row(
            sheet,
            [error["sheet"], error["row"], error["column"], error["value"], error["message"]],
        )
    return spooled(workbook)


# ----------------------------------------------------------------------------- exports


def _building_rows(user, estate: Estate) -> Iterator[list]:
    buildings = Building.objects.restrict(user, VIEW).filter(estate=estate).order_by("name")
    for building in buildings.iterator(chunk_size=READ_CHUNK):
        yield [building.name, building.floors_above, building.floors_below, building.note]


def _unit_rows(user, estate: Estate) -> Iterator[list]:
    labels = UNITS.column("status").labels
    units = (
        Unit.objects.restrict(user, VIEW)
        .filter(estate=estate)
        .select_related("building")
        .order_by("building__name", "entrance", "number")
    )
    for unit in units.iterator(chunk_size=READ_CHUNK):
        yield [
            unit.building.name,
            unit.entrance,
            unit.number,
            unit.floor,
            unit.gross_area,
            unit.inner_area,
            labels.get(unit.status, unit.status),
        ]


def _resident_rows(user, estate: Estate) -> Iterator[list]:
    """One row per resident and unit they live in now, as the residents template has it."""
    relations, tiers = RESIDENTS.column("relation").labels, RESIDENTS.column("tier").labels
    residencies = (
        Residency.objects.restrict(user, VIEW)
        .filter(unit__estate=estate)
        .filter(current_residency())
        .select_related("resident", "unit__building")
        .order_by("unit__building__name", "unit__entrance", "unit__number", "relation", "id")
    )
    for residency in residencies.iterator(chunk_size=READ_CHUNK):
        resident, unit = residency.resident, residency.unit
        yield [
            resident.name,
            phone_for(user, resident, estate),
            unit.building.name,
            unit.entrance,
            unit.number,
            relations.get(residency.relation, residency.relation),
            residency.moved_in_on,
            tiers.get(resident.tier, resident.tier),
            resident.note,
        ]


ROWS_OF = {
    BUILDINGS.kind: _building_rows,
    UNITS.kind: _unit_rows,
    RESIDENTS.kind: _resident_rows,
}


def export_workbook(*, actor, estate: Estate, kind: str):
    """The estate's list(s) as a workbook, written row by row so memory stays flat."""
    if kind not in Kind.values:
        raise ValueError(kind)
    ensure_can_export(actor, estate)
    workbook = Workbook(write_only=True)
    counts = {}
    for layout in layouts_of(kind):
        sheet = workbook.create_sheet(layout.sheet)
        append_row(sheet, [column.header for column in layout.columns])
        written = 0
        for row in ROWS_OF[layout.kind](actor, estate):
            append_row(sheet, row)
            written += 1
        counts[layout.kind] = written
    spool = spooled(workbook)
    record_event(
        actor=actor,
        code=OrgEvent.EXPORT_DOWNLOADED,
        target=estate,
        estate=estate,
        after={"kind": kind, "rows": counts},
    )
    return spool


def export_filename(estate: Estate, kind: str) -> str:
    names = "-".join(layout.sheet for layout in layouts_of(kind))
    return f"{estate.name}-{names}-{timezone.localdate():%Y%m%d}.xlsx"
