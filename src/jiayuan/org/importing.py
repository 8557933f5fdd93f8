"""Onboarding from spreadsheets: buildings, units and residents from .xlsx or .csv files.

A file is read whole, every row is checked against the estate and against the other rows
of the file, and only a file without a single bad row is written, in one transaction. The
report names every bad cell as the user sees it in Excel: sheet, row number, column header.
The column layouts here are the file format shared by the templates and the exports
(org/exporting.py), so that an export can be imported again.
"""

from __future__ import annotations

import csv
import io
import logging
import re
import secrets
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from pathlib import PurePath

import openpyxl
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.http import Http404
from django.template.defaultfilters import filesizeformat
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiayuan.core.access import ADD, VIEW, can_in_estate, ensure_can_in_estate
from jiayuan.core.audit import record_event
from jiayuan.core.phones import normalize_mobile, validate_mainland_mobile
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import Building, Estate, ImportJob, Residency, Resident, Unit
from jiayuan.org.services import unit_status_after_move_in

logger = logging.getLogger(__name__)

Kind = ImportJob.Kind

# The sheet that explains the columns; it is never read as data.
HELP_SHEET = "说明"
HELP_SHEETS = frozenset({HELP_SHEET, "help"})
# Rows above the header are allowed for a title such as "阳光花园房屋清单".
HEADER_SEARCH_ROWS = 10
MAX_COLUMNS = 40
# Checking a row is cheap; writing the count after every row would not be.
PROGRESS_EVERY = 500
WRITE_BATCH = 1000
QUERY_CHUNK = 500
# A file of 50,000 rows with every cell wrong would make a report too big to store and show;
# the count of errors stays exact.
MAX_REPORTED_ERRORS = 10_000
MAX_FLOORS_ABOVE = 200
MAX_FLOORS_BELOW = 20
AREA_UNITS = ("平方米", "平米", "㎡", "m²", "m2")
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHOLE_NUMBER = re.compile(r"^[+-]?\d+$")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y%m%d")

# ----------------------------------------------------------------------------- file format

UNIT_STATUS_LABELS = {
    Unit.Status.VACANT: "空置",
    Unit.Status.OCCUPIED: "自住",
    Unit.Status.RENTED: "出租",
    Unit.Status.RENOVATING: "装修",
}
RELATION_LABELS = {
    Residency.Relation.OWNER: "业主",
    Residency.Relation.TENANT: "租户",
    Residency.Relation.FAMILY: "家庭成员",
}
TIER_LABELS = {Resident.Tier.REGULAR: "普通", Resident.Tier.VIP: "VIP"}


@dataclass(frozen=True)
class Column:
    key: str
    header: str  # as written in templates and exports
    english: str  # accepted as a header too
    required: bool
    help: str  # English msgid, shown translated on the help sheet and in header comments
    labels: dict[str, str] | None = None  # code -> the Chinese label written in the file


@dataclass(frozen=True)
class Layout:
    kind: str
    sheet: str
    english_sheet: str
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        return next(column for column in self.columns if column.key == key)

    def header_of(self, key: str) -> str:
        return self.column(key).header


BUILDINGS = Layout(
    Kind.BUILDINGS,
    "楼栋",
    "buildings",
    (
        Column(
            "name",
            "楼栋名称",
            "building name",
            True,
            gettext_noop("The building's name, e.g. 3号楼. Unique in the estate."),
        ),
        Column(
            "floors_above",
            "地上层数",
            "floors above ground",
            False,
            gettext_noop("Whole number of floors above ground; 1 when empty."),
        ),
        Column(
            "floors_below",
            "地下层数",
            "floors below ground",
            False,
            gettext_noop("Whole number of basement floors; 0 when empty."),
        ),
        Column("note", "备注", "note", False, gettext_noop("Free text, at most 200 characters.")),
    ),
)
UNITS = Layout(
    Kind.UNITS,
    "房屋",
    "units",
    (
        Column(
            "building",
            "楼栋",
            "building",
            True,
            gettext_noop(
                "A building of the estate, or one on the 楼栋 sheet of the same workbook."
            ),
        ),
        Column(
            "entrance",
            "单元",
            "entrance",
            False,
            gettext_noop("The entrance (单元), e.g. 2单元; empty when the building has one."),
        ),
        Column(
            "number",
            "房号",
            "unit number",
            True,
            gettext_noop("The unit number, e.g. 1502; unique within its building and entrance."),
        ),
        Column(
            "floor",
            "楼层",
            "floor",
            True,
            gettext_noop("Whole number within the building's floors; basements are negative."),
        ),
        Column(
            "gross_area",
            "建筑面积",
            "gross area",
            True,
            gettext_noop("Square metres, more than 0, at most two decimals."),
        ),
        Column(
            "inner_area",
            "套内面积",
            "inner area",
            False,
            gettext_noop("Square metres, more than 0 and not more than the gross area."),
        ),
        Column(
            "status",
            "状态",
            "status",
            False,
            gettext_noop("One of the allowed values; 空置 when empty."),
            UNIT_STATUS_LABELS,
        ),
    ),
)
RESIDENTS = Layout(
    Kind.RESIDENTS,
    "住户",
    "residents",
    (
        Column("name", "姓名", "name", True, gettext_noop("The resident's name.")),
        Column(
            "mobile",
            "手机号",
            "mobile",
            True,
            gettext_noop(
                "Mainland mobile number, 11 digits. A resident already registered with this "
                "number is linked to the unit, not registered twice."
            ),
        ),
        Column(
            "building",
            "楼栋",
            "building",
            True,
            gettext_noop("The building of the unit the resident lives in or owns."),
        ),
        Column("entrance", "单元", "entrance", False, gettext_noop("The unit's entrance, if any.")),
        Column("number", "房号", "unit number", True, gettext_noop("The unit number.")),
        Column(
            "relation",
            "关系",
            "relation",
            False,
            gettext_noop("One of the allowed values; 业主 when empty."),
            RELATION_LABELS,
        ),
        Column(
            "moved_in_on",
            "入住日期",
            "moved in",
            False,
            gettext_noop("A date such as 2024-03-01; today when empty."),
        ),
        Column(
            "tier",
            "等级",
            "tier",
            False,
            gettext_noop("One of the allowed values; 普通 when empty."),
            TIER_LABELS,
        ),
        Column("note", "备注", "note", False, gettext_noop("Free text, at most 200 characters.")),
    ),
)
LAYOUTS = {layout.kind: layout for layout in (BUILDINGS, UNITS, RESIDENTS)}


def layouts_of(kind: str) -> tuple[Layout, ...]:
    """The sheets a file of this kind holds, in the order they must be written."""
    if kind == Kind.WORKBOOK:
        return (BUILDINGS, UNITS, RESIDENTS)
    return (LAYOUTS[kind],)


def _folded(text: str) -> str:
    return " ".join(str(text).replace("_", " ").replace("-", " ").split()).casefold()


def _choice_vocabulary(labels: dict[str, str], choices: type[models.TextChoices]) -> dict:
    """Chinese labels, codes and English labels, all accepted."""
    vocabulary = {}
    with translation.override("en"):
        for code, english in choices.choices:
            vocabulary[_folded(code)] = code
            vocabulary[_folded(str(english))] = code
    for code, label in labels.items():
        vocabulary[_folded(label)] = code
    return vocabulary


# ----------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    """One reason a file cannot be imported; row is None for the file or a sheet as a whole."""

    sheet: str
    row: int | None
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return {
            "sheet": self.sheet,
            "row": self.row,
            "column": self.column,
            "value": self.value,
            "message": self.message,
        }


class FileRejected(Exception):
    """The file as a whole cannot be read as the chosen kind of spreadsheet."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(problem.message for problem in problems))
        self.problems = problems


class TooManyRows(FileRejected):
    """Reading stops at the limit: the rest of the file is not even looked at."""


def _file_problem(message: str, sheet: str = "") -> Problem:
    return Problem(sheet=sheet, row=None, column="", value="", message=message)


class Report:
    def __init__(self):
        self.problems: list[Problem] = []
        self.count = 0

    def add(self, problem: Problem) -> None:
        self.count += 1
        if len(self.problems) < MAX_REPORTED_ERRORS:
            self.problems.append(problem)


# ----------------------------------------------------------------------------- uploads


def check_upload(name: str, size: int, head: bytes) -> None:
    """Refuse at once what cannot be a spreadsheet we read, before a job is made."""
    suffix = PurePath(name or "").suffix.lower()
    if suffix not in {".xlsx", ".csv"}:
        raise ValidationError(
            {
                "file": _(
                    "Upload an Excel workbook (.xlsx) or a CSV file (.csv). "
                    "Save older .xls files as .xlsx in Excel first."
                )
            },
            code="file_type",
        )
    if size > settings.IMPORT_MAX_BYTES:
        raise ValidationError(
            {
                "file": _("The file is too large: at most %(limit)s.")
                % {"limit": filesizeformat(settings.IMPORT_MAX_BYTES)}
            },
            code="file_size",
        )
    if size == 0:
        raise ValidationError({"file": _("The file is empty.")}, code="file_empty")
    # An .xlsx file is a zip archive; a CSV file is text, which never holds a zero byte.
    if (suffix == ".xlsx" and not head.startswith(b"PK\x03\x04")) or (
        suffix == ".csv" and b"\x00" in head
    ):
        raise ValidationError(
            {"file": _("This file is not a spreadsheet. Upload an .xlsx or .csv file.")},
            code="not_spreadsheet",
        )


# ----------------------------------------------------------------------------- reading

Cells = tuple


@dataclass
class Table:
    layout: Layout
    sheet: str  # the sheet's name, or the CSV file's name
    positions: dict[str, int]  # column key -> index in the row
    headers: dict[str, str]  # column key -> the header as written in the file
    rows: list[tuple[int, Cells]] = field(default_factory=list)  # (Excel row number, cells)

    def header(self, key: str) -> str:
        return self.headers.get(key) or self.layout.header_of(key)


def _clean_cell(value):
    if isinstance(value, str):
        value = _CONTROL_CHARACTERS.sub("", value).replace("\u3000", " ").strip()
        return value or None
    return value


def _as_text(value) -> str:
    """A cell as the text the user typed: Excel turns 101 and 13800138000 into numbers."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def _match_headers(layout: Layout, cells: Cells) -> tuple[dict, dict, list[str]]:
    names = {}
    for column in layout.columns:
        for alias in (column.header, column.english, column.key):
            names[_folded(alias)] = column.key
    positions, headers, repeated = {}, {}, []
    for index, cell in enumerate(cells):
        if cell is None:
            continue
        key = names.get(_folded(cell))
        if key is None:
            continue
        if key in positions:
            repeated.append(str(cell))
            continue
        positions[key] = index
        headers[key] = str(cell)
    return positions, headers, repeated


def _read_table(layout: Layout, sheet: str, rows: Iterable[tuple[int, Cells]], room: int) -> Table:
    """Find the header row, then keep every non-empty row below it."""
    table = None
    first_header_try = None
    tried = 0
    for number, raw in rows:
        cells = tuple(_clean_cell(value) for value in raw)
        if not any(cell is not None for cell in cells):
            continue
        if table is None:
            positions, headers, repeated = _match_headers(layout, cells)
            first_header_try = first_header_try or (positions, headers, repeated)
            required = {c.key for c in layout.columns if c.required}
            if required <= positions.keys():
                if repeated:
                    raise FileRejected(
                        [
                            _file_problem(
                                _("The column %(column)s appears twice.") % {"column": repeated[0]},
                                sheet,
                            )
                        ]
                    )
                table = Table(layout, sheet, positions, headers)
                continue
            tried += 1
            if tried >= HEADER_SEARCH_ROWS:
                break
            continue
        # Notes in columns of the user's own beside the data do not make a row.
        if all(index >= len(cells) or cells[index] is None for index in table.positions.values()):
            continue
        if len(table.rows) >= room:
            raise TooManyRows(
                [
                    _file_problem(
                        _("The file has more than %(limit)s rows. Split it into smaller files.")
                        % {"limit": settings.IMPORT_MAX_ROWS},
                        sheet,
                    )
                ]
            )
        table.rows.append((number, cells))
    if table is None:
        found = first_header_try[0] if first_header_try else {}
        missing = [c.header for c in layout.columns if c.required and c.key not in found]
        raise FileRejected(
            [
                _file_problem(
                    _("Missing columns: %(columns)s. Use the template's column headers.")
                    % {"columns": ", ".join(missing)},
                    sheet,
                )
            ]
        )
    return table


def _decode_csv(data: bytes) -> str:
    """Excel in China saves CSV as GB18030 (GBK); other tools as UTF-8, often with a BOM."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise FileRejected(
            [_file_problem(_("The CSV file is not in UTF-8 or GB18030 text encoding."))]
        ) from exc


def _csv_rows(text: str) -> Iterator[tuple[int, Cells]]:
    # Excel's quoting always; only the separator varies (a tab when saved as "Unicode text").
    first_line = text[: text.find("\n")] if "\n" in text else text
    delimiter = max(",\t;", key=first_line.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, row in enumerate(reader, start=1):
            yield number, tuple(row[:MAX_COLUMNS])
    except csv.Error as exc:
        raise FileRejected([_file_problem(_("The CSV file is damaged: %s") % exc)]) from exc


def _sheet_rows(worksheet, sheet: str) -> Iterator[tuple[int, Cells]]:
    try:
        yield from enumerate(worksheet.iter_rows(values_only=True, max_col=MAX_COLUMNS), start=1)
    except Exception as exc:  # openpyxl reports a damaged sheet with many kinds of exception
        raise FileRejected(
            [_file_problem(_("This sheet is damaged and cannot be read."), sheet)]
        ) from exc


def _open_workbook(data: bytes):
    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl reports a damaged file with many kinds of exception
        raise FileRejected(
            [_file_problem(_("This file is not a spreadsheet. Upload an .xlsx or .csv file."))]
        ) from exc


def _pick_sheets(workbook, kind: str) -> tuple[list[tuple[Layout, str]], list[Problem]]:
    """Which sheet holds which layout: by name, or the only sheet of a one-kind file. An
    unknown sheet in a workbook is reported, and the known sheets are still checked."""
    by_name = {}
    for layout in LAYOUTS.values():
        by_name[_folded(layout.sheet)] = layout
        by_name[_folded(layout.english_sheet)] = layout
    data_sheets = [name for name in workbook.sheetnames if _folded(name) not in HELP_SHEETS]
    expected = "、".join(layout.sheet for layout in layouts_of(kind))
    no_such_sheet = _("The workbook has no sheet named %(names)s.") % {"names": expected}
    if kind == Kind.WORKBOOK:
        problems = [
            _file_problem(
                _("Unknown sheet. The sheets of a workbook are named %(names)s.")
                % {"names": expected},
                name,
            )
            for name in data_sheets
            if _folded(name) not in by_name
        ]
        found = {
            by_name[_folded(name)].kind: name for name in data_sheets if _folded(name) in by_name
        }
        picked = [
            (layout, found[layout.kind]) for layout in layouts_of(kind) if layout.kind in found
        ]
        if not picked:
            raise FileRejected([*problems, _file_problem(no_such_sheet)])
        return picked, problems
    layout = LAYOUTS[kind]
    for name in data_sheets:
        if by_name.get(_folded(name)) == layout:
            return [(layout, name)], []
    if len(data_sheets) == 1 and by_name.get(_folded(data_sheets[0])) is None:
        return [(layout, data_sheets[0])], []
    if len(data_sheets) == 1:
        message = _("This sheet holds %(found)s, but you chose to import %(chosen)s.") % {
            "found": by_name[_folded(data_sheets[0])].sheet,
            "chosen": layout.sheet,
        }
        raise FileRejected([_file_problem(message, data_sheets[0])])
    raise FileRejected([_file_problem(no_such_sheet, "、".join(data_sheets))])


def read_tables(data: bytes, file_name: str, kind: str) -> tuple[list[Table], list[Problem]]:
    """The file's rows, sheet by sheet in writing order, and the problems of sheets that
    cannot be read; FileRejected when there is nothing to check at all."""
    suffix = PurePath(file_name).suffix.lower()
    if suffix == ".csv":
        if kind == Kind.WORKBOOK:
            raise FileRejected(
                [
                    _file_problem(
                        _("A workbook import needs an .xlsx file with the sheets 楼栋, 房屋, 住户.")
                    )
                ]
            )
        rows = _csv_rows(_decode_csv(data))
        return [_read_table(LAYOUTS[kind], file_name, rows, settings.IMPORT_MAX_ROWS)], []
    if suffix != ".xlsx":
        raise FileRejected(
            [_file_problem(_("This file is not a spreadsheet. Upload an .xlsx or .csv file."))]
        )
    workbook = _open_workbook(data)
    try:
        picked, problems = _pick_sheets(workbook, kind)
        tables: list[Table] = []
        room = settings.IMPORT_MAX_ROWS
        for layout, name in picked:
            try:
                table = _read_table(layout, name, _sheet_rows(workbook[name], name), room)
            except TooManyRows:
                raise
            except FileRejected as exc:
                problems.extend(exc.problems)
                continue
            room -= len(table.rows)
            tables.append(table)
    finally:
        workbook.close()
    if not tables:
        raise FileRejected(problems)
    return tables, problems


# ----------------------------------------------------------------------------- checking rows


class RowReader:
    """Turns one row's cells into values, reporting each bad cell once."""

    def __init__(self, table: Table, number: int, cells: Cells):
        self.table, self.number, self.cells = table, number, cells
        self.problems: dict[str, Problem] = {}

    @property
    def ok(self) -> bool:
        return not self.problems

    def in_column_order(self) -> list[Problem]:
        def position(key: str) -> int:
            return self.table.positions.get(key, MAX_COLUMNS)

        return [self.problems[key] for key in sorted(self.problems, key=position)]

    def raw(self, key: str):
        index = self.table.positions.get(key)
        if index is None or index >= len(self.cells):
            return None
        return self.cells[index]

    def fail(self, key: str, message: str) -> None:
        if key in self.problems:
            return
        value = self.raw(key)
        self.problems[key] = Problem(
            sheet=self.table.sheet,
            row=self.number,
            column=self.table.header(key),
            value="" if value is None else str(value)[:100],
            message=message,
        )

    def _missing(self, key: str, required: bool) -> bool:
        if self.raw(key) is not None:
            return False
        if required:
            self.fail(key, _("This cell is required."))
        return True

    def text(self, key: str, model: type[models.Model], field_name: str, required=False) -> str:
        if self._missing(key, required):
            return ""
        value = _as_text(self.raw(key))
        limit = model._meta.get_field(field_name).max_length
        if limit and len(value) > limit:
            self.fail(
                key,
                _("At most %(limit)s characters (this cell has %(count)s).")
                % {"limit": limit, "count": len(value)},
            )
        return value

    def whole(self, key: str, default: int | None, low: int, high: int, required=False):
        if self._missing(key, required):
            return default
        value = self.raw(key)
        if (isinstance(value, float) and value.is_integer()) or (
            isinstance(value, str) and _WHOLE_NUMBER.match(value)
        ):
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            self.fail(key, _("Enter a whole number."))
            return None
        if not low <= value <= high:
            self.fail(
                key,
                _("Enter a whole number from %(low)s to %(high)s.") % {"low": low, "high": high},
            )
            return None
        return value

    def area(self, key: str, field_name: str, required=False) -> Decimal | None:
        if self._missing(key, required):
            return None
        value = self.raw(key)
        if isinstance(value, bool | datetime | date):
            self.fail(key, _("Enter an area in square metres, such as 89.5."))
            return None
        text = str(value).replace(",", "")
        for unit_name in AREA_UNITS:
            text = text.removesuffix(unit_name)
        try:
            area = Decimal(text.strip())
        except InvalidOperation:
            self.fail(key, _("Enter an area in square metres, such as 89.5."))
            return None
        if not area.is_finite():
            self.fail(key, _("Enter an area in square metres, such as 89.5."))
            return None
        # Excel stores 89.3 as the float 89.29999999999999; two decimals were meant.
        rounded = area.quantize(Decimal("0.01"))
        if isinstance(value, float) and abs(rounded - area) < Decimal("0.000001"):
            area = rounded
        if area <= 0:
            self.fail(key, _("The area must be more than 0."))
            return None
        model_field = Unit._meta.get_field(field_name)
        if area != rounded:
            self.fail(key, _("Use at most two decimal places."))
            return None
        if area >= Decimal(10) ** (model_field.max_digits - model_field.decimal_places):
            self.fail(key, _("This area is too large."))
            return None
        return rounded

    def choice(self, key: str, vocabulary: dict, labels: dict, default: str) -> str:
        if self._missing(key, False):
            return default
        code = vocabulary.get(_folded(self.raw(key)))
        if code is None:
            self.fail(key, _("Use one of: %(values)s.") % {"values": "、".join(labels.values())})
            return default
        return code

    def day(self, key: str) -> date | None:
        if self._missing(key, False):
            return None
        value = self.raw(key)
        if isinstance(value, int | float) and not isinstance(value, bool):
            value = _as_text(value)
        if isinstance(value, datetime):
            value = value.date()
        elif isinstance(value, str):
            for pattern in DATE_FORMATS:
                try:
                    value = datetime.strptime(value, pattern).date()
                    break
                except ValueError:
                    continue
        if not isinstance(value, date) or not 1900 <= value.year <= 2100:
            self.fail(key, _("Enter a date such as 2024-03-01."))
            return None
        return value

    def mobile(self, key: str) -> str:
        if self._missing(key, True):
            return ""
        mobile = normalize_mobile(_as_text(self.raw(key)))
        try:
            validate_mainland_mobile(mobile)
        except ValidationError as exc:
            self.fail(key, str(exc.messages[0]))
            return ""
        return mobile


UnitKey = tuple[str, str, str]  # building name, entrance, number


@dataclass
class Batch:
    """What a file would write, built while its rows are checked."""

    buildings: list[Building] = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    residents: list[Resident] = field(default_factory=list)
    residencies: list[Residency] = field(default_factory=list)
    linked: set[int] = field(default_factory=set)

    def counts(self) -> dict[str, int]:
        return {
            "buildings": len(self.buildings),
            "units": len(self.units),
            "residents_created": len(self.residents),
            "residents_linked": len(self.linked),
            "residencies": len(self.residencies),
        }


class Checker:
    """Checks rows against the estate, loaded once into dicts, and against earlier rows."""

    def __init__(self, estate: Estate, report: Report, progress):
        self.estate = estate
        self.report = report
        self.progress = progress
        self.checked = 0
        self.batch = Batch()
        self.buildings = {b.name: b for b in Building.objects.filter(estate=estate)}
        names = {b.pk: b.name for b in self.buildings.values()}
        self.units: dict[UnitKey, Unit] = {
            (names[unit.building_id], unit.entrance, unit.number): unit
            for unit in Unit.objects.filter(estate=estate).only(
                "id", "estate_id", "building_id", "entrance", "number", "status"
            )
        }
        self.building_rows: dict[str, int] = {}
        self.unit_rows: dict[UnitKey, int] = {}
        self.statuses = _choice_vocabulary(UNIT_STATUS_LABELS, Unit.Status)
        self.relations = _choice_vocabulary(RELATION_LABELS, Residency.Relation)
        self.tiers = _choice_vocabulary(TIER_LABELS, Resident.Tier)

    def check(self, table: Table) -> None:
        check_row = {
            Kind.BUILDINGS: self._building,
            Kind.UNITS: self._unit,
            Kind.RESIDENTS: self._resident,
        }[table.layout.kind]
        if table.layout.kind == Kind.RESIDENTS:
            self._load_residents(table)
        for number, cells in table.rows:
            row = RowReader(table, number, cells)
            check_row(row)
            for problem in row.in_column_order():
                self.report.add(problem)
            self.checked += 1
            if self.checked % PROGRESS_EVERY == 0:
                self.progress(self.checked)

    def _building(self, row: RowReader) -> None:
        name = row.text("name", Building, "name", required=True)
        above = row.whole("floors_above", 1, 0, MAX_FLOORS_ABOVE)
        below = row.whole("floors_below", 0, 0, MAX_FLOORS_BELOW)
        note = row.text("note", Building, "note")
        if above == 0 and below == 0:
            row.fail("floors_above", _("A building needs at least one floor."))
        if not name:
            return
        if name in self.building_rows:
            row.fail(
                "name",
                _("This building is listed twice (first in row %(row)s).")
                % {"row": self.building_rows[name]},
            )
            return
        if name in self.buildings:
            row.fail("name", _("A building with this name already exists in this estate."))
            return
        # Known even when the row is bad, so its units are not reported as unknown too.
        building = Building(
            estate=self.estate, name=name, floors_above=above, floors_below=below, note=note
        )
        self.buildings[name] = building
        self.building_rows[name] = row.number
        if row.ok:
            self.batch.buildings.append(building)

    def _find_building(self, row: RowReader, name: str) -> Building | None:
        if not name:
            return None
        building = self.buildings.get(name)
        if building is None:
            row.fail("building", _("There is no building with this name in this estate."))
        return building

    def _unit(self, row: RowReader) -> None:
        building_name = row.text("building", Building, "name", required=True)
        entrance = row.text("entrance", Unit, "entrance")
        number = row.text("number", Unit, "number", required=True)
        floor = row.whole("floor", None, -MAX_FLOORS_BELOW, MAX_FLOORS_ABOVE, required=True)
        gross = row.area("gross_area", "gross_area", required=True)
        inner = row.area("inner_area", "inner_area")
        status = row.choice("status", self.statuses, UNIT_STATUS_LABELS, Unit.Status.VACANT)
        building = self._find_building(row, building_name)
        if floor == 0:
            row.fail("floor", _("There is no floor 0."))
        elif (
            floor is not None
            and building is not None
            and building.floors_above is not None
            and building.floors_below is not None
            and not -building.floors_below <= floor <= building.floors_above
        ):
            row.fail("floor", _("This floor does not exist in the building."))
        if gross is not None and inner is not None and inner > gross:
            row.fail("inner_area", _("The inner area cannot be larger than the gross area."))
        if not (building_name and number):
            return
        key = (building_name, entrance, number)
        if key in self.unit_rows:
            row.fail(
                "number",
                _("This unit is listed twice (first in row %(row)s).")
                % {"row": self.unit_rows[key]},
            )
            return
        if key in self.units:
            row.fail("number", _("This unit already exists."))
            return
        unit = Unit(
            estate=self.estate,
            building=building,
            entrance=entrance,
            number=number,
            floor=floor,
            gross_area=gross,
            inner_area=inner,
            status=status,
        )
        self.units[key] = unit
        self.unit_rows[key] = row.number
        if row.ok:
            self.batch.units.append(unit)

    def _load_residents(self, table: Table) -> None:
        """The company's residents with the file's mobiles, and where they live now."""
        index = table.positions["mobile"]
        mobiles = sorted(
            {
                normalize_mobile(_as_text(cells[index]))
                for _number, cells in table.rows
                if index < len(cells) and cells[index] is not None
            }
        )
        self.known_residents: dict[str, Resident] = {}
        for start in range(0, len(mobiles), QUERY_CHUNK):
            for resident in Resident.objects.filter(
                company_id=self.estate.company_id, mobile__in=mobiles[start : start + QUERY_CHUNK]
            ):
                self.known_residents[resident.mobile] = resident
        ids = [resident.pk for resident in self.known_residents.values()]
        self.living: set[tuple[int, int]] = set()
        for start in range(0, len(ids), QUERY_CHUNK):
            self.living.update(
                Residency.objects.filter(
                    resident_id__in=ids[start : start + QUERY_CHUNK],
                    unit__estate=self.estate,
                    moved_out_on__isnull=True,
                ).values_list("resident_id", "unit_id")
            )
        self.new_residents: dict[str, tuple[Resident, int]] = {}
        self.residency_rows: dict[tuple[str, UnitKey], int] = {}

    def _resident(self, row: RowReader) -> None:
        name = row.text("name", Resident, "name", required=True)
        mobile = row.mobile("mobile")
        building_name = row.text("building", Building, "name", required=True)
        entrance = row.text("entrance", Unit, "entrance")
        number = row.text("number", Unit, "number", required=True)
        relation = row.choice("relation", self.relations, RELATION_LABELS, Residency.Relation.OWNER)
        moved_in_on = row.day("moved_in_on")
        tier = row.choice("tier", self.tiers, TIER_LABELS, Resident.Tier.REGULAR)
        note = row.text("note", Resident, "note")
        unit = None
        if self._find_building(row, building_name) is not None and number:
            unit = self.units.get((building_name, entrance, number))
            if unit is None:
                row.fail("number", _("There is no unit with this number in this building."))
        if not (name and mobile):
            return
        known = self.known_residents.get(mobile)
        earlier = self.new_residents.get(mobile)
        if known is not None and known.name != name:
            row.fail(
                "name",
                _("A resident with this mobile number is registered under another name."),
            )
        elif earlier is not None and earlier[0].name != name:
            row.fail(
                "name",
                _("Row %(row)s gives this mobile number with another name.") % {"row": earlier[1]},
            )
        if unit is None:
            return
        key = (mobile, (building_name, entrance, number))
        if key in self.residency_rows:
            row.fail(
                "number",
                _("This resident is listed twice for this unit (first in row %(row)s).")
                % {"row": self.residency_rows[key]},
            )
            return
        self.residency_rows[key] = row.number
        if known is not None and unit.pk is not None and (known.pk, unit.pk) in self.living:
            row.fail("number", _("This resident already lives in this unit."))
        if not row.ok:
            return
        if known is not None:
            resident = known
            self.batch.linked.add(known.pk)
        elif earlier is not None:
            resident = earlier[0]
        else:
            resident = Resident(
                company_id=self.estate.company_id, name=name, mobile=mobile, tier=tier, note=note
            )
            self.new_residents[mobile] = (resident, row.number)
            self.batch.residents.append(resident)
        self.batch.residencies.append(
            Residency(
                resident=resident,
                unit=unit,
                relation=relation,
                moved_in_on=moved_in_on or timezone.localdate(),
            )
        )


# ----------------------------------------------------------------------------- writing

MODELS_WRITTEN = {
    Kind.BUILDINGS: (Building,),
    Kind.UNITS: (Unit,),
    Kind.RESIDENTS: (Resident, Residency),
    Kind.WORKBOOK: (Building, Unit, Resident, Residency),
}


def can_import(user, estate: Estate) -> bool:
    return can_in_estate(user, ImportJob, ADD, estate)


def ensure_may_import(user, estate: Estate, kind: str) -> None:
    """404 for an estate the user cannot see, 403 for one they may not import into."""
    ensure_can_in_estate(user, ImportJob, ADD, estate)
    for model in MODELS_WRITTEN[kind]:
        ensure_can_in_estate(user, model, ADD, estate)


def _write(job: ImportJob, batch: Batch) -> dict[str, int]:
    """All rows in one transaction, with bulk inserts: 10,000 units in a few seconds."""
    changed_units: dict[int, Unit] = {}
    for residency in batch.residencies:
        unit = residency.unit
        new_status = unit_status_after_move_in(unit.status, residency.relation)
        if new_status != unit.status:
            unit.status = new_status
            if unit.pk is not None:
                changed_units[unit.pk] = unit
    with transaction.atomic():
        if not _this_run(job).select_for_update().exists():
            return {}  # a later attempt took the job over: this worker was thought dead
        ensure_may_import(job.created_by, job.estate, job.kind)
        Building.objects.bulk_create(batch.buildings, batch_size=WRITE_BATCH)
        Unit.objects.bulk_create(batch.units, batch_size=WRITE_BATCH)
        Resident.objects.bulk_create(batch.residents, batch_size=WRITE_BATCH)
        Residency.objects.bulk_create(batch.residencies, batch_size=WRITE_BATCH)
        by_status: dict[str, list[int]] = {}
        for unit in changed_units.values():
            by_status.setdefault(unit.status, []).append(unit.pk)
        now = timezone.now()
        for status, ids in by_status.items():
            for start in range(0, len(ids), QUERY_CHUNK):
                Unit.objects.filter(pk__in=ids[start : start + QUERY_CHUNK]).update(
                    status=status, updated_at=now
                )
        counts = {**batch.counts(), "units_status_changed": len(changed_units)}
        # One event for the whole file, not one per row: 10,000 rows would double the writes
        # and bury the estate's timeline, and the stored job keeps the file and its counts.
        record_event(
            actor=job.created_by,
            code=OrgEvent.IMPORT_COMMITTED,
            target=job,
            estate=job.estate,
            after={"job": job.pk, "file": job.file_name, "kind": job.kind, **counts},
        )
        _finish(job, ImportJob.Status.COMMITTED, counts=counts)
    return counts


# ----------------------------------------------------------------------------- jobs


def import_job_create(
    *, actor, estate: Estate, kind: str, upload, dry_run: bool = False
) -> ImportJob:
    """Store the upload, make a job and queue it; the worker checks and writes the rows."""
    from jiayuan.org.tasks import import_spreadsheet

    if kind not in Kind.values:
        raise ValidationError({"kind": _("Choose what the file holds.")})
    ensure_may_import(actor, estate, kind)
    upload.seek(0)
    head = upload.read(4096)
    upload.seek(0)
    check_upload(upload.name, upload.size, head)
    suffix = PurePath(upload.name).suffix.lower()
    job = ImportJob(
        estate=estate,
        kind=kind,
        file_name=PurePath(upload.name).name[:200],
        dry_run=dry_run,
        language=translation.get_language() or settings.LANGUAGE_CODE,
        created_by=actor,
    )
    # The stored name is ours: a user's file name is only shown, never used as a path.
    job.file.save(f"{secrets.token_hex(12)}{suffix}", upload, save=False)
    job.save()
    # Not deferred to on_commit: the job row is already saved, and the database task
    # backend writes its queue row in the same transaction as the caller's.
    import_spreadsheet.enqueue(job.pk)
    job.refresh_from_db()
    return job


def _finish(job: ImportJob, status: str, *, problems=(), error_count=0, counts=None) -> None:
    job.status = status
    job.errors = [problem.as_dict() for problem in problems]
    job.error_count = error_count or len(job.errors)
    job.counts = counts or {}
    if status in {ImportJob.Status.COMMITTED, ImportJob.Status.VALIDATED}:
        job.processed_rows = job.total_rows
    job.finished_at = timezone.now()
    _this_run(job).update(
        status=job.status,
        errors=job.errors,
        error_count=job.error_count,
        counts=job.counts,
        processed_rows=job.processed_rows,
        finished_at=job.finished_at,
        updated_at=job.finished_at,
    )


def _set_progress(job: ImportJob, **values) -> None:
    for name, value in values.items():
        setattr(job, name, value)
    _this_run(job).update(updated_at=timezone.now(), **values)


def _this_run(job: ImportJob):
    """The job, as long as no later run has claimed it (each claim sets `started_at`): a
    run whose worker was only thought dead then writes nothing over its successor's."""
    return ImportJob.objects.filter(pk=job.pk, started_at=job.started_at)


def _read_stored(job: ImportJob) -> bytes:
    with job.file.open("rb") as stored:
        return stored.read(settings.IMPORT_MAX_BYTES + 1)


def _run(job: ImportJob) -> None:
    if job.created_by is None:
        _finish(
            job,
            ImportJob.Status.FAILED,
            problems=[_file_problem(_("The uploader's account no longer exists."))],
        )
        return
    try:
        ensure_may_import(job.created_by, job.estate, job.kind)
    except (PermissionDenied, Http404):
        _finish(
            job,
            ImportJob.Status.FAILED,
            problems=[_file_problem(_("You are not allowed to import into this estate."))],
        )
        return
    try:
        tables, sheet_problems = read_tables(_read_stored(job), job.file_name, job.kind)
    except FileRejected as exc:
        _finish(job, ImportJob.Status.FAILED, problems=exc.problems)
        return
    total = sum(len(table.rows) for table in tables)
    if not total and not sheet_problems:
        no_rows = _file_problem(_("The file has no rows to import."))
        _finish(job, ImportJob.Status.FAILED, problems=[no_rows])
        return
    _set_progress(job, total_rows=total)
    report = Report()
    for problem in sheet_problems:
        report.add(problem)
    checker = Checker(job.estate, report, lambda done: _set_progress(job, processed_rows=done))
    for table in tables:
        checker.check(table)
    _set_progress(job, processed_rows=job.total_rows)
    if report.count:
        _finish(job, ImportJob.Status.FAILED, problems=report.problems, error_count=report.count)
    elif job.dry_run:
        _finish(job, ImportJob.Status.VALIDATED, counts=checker.batch.counts())
    else:
        _set_progress(job, status=ImportJob.Status.COMMITTING)
        _write(job, checker.batch)


def import_job_run(*, job_id: int, attempt: int = 1) -> str:
    """Run a queued job once; a second worker picking the same job finds it claimed.

    A later attempt of the task (its worker died mid-way) starts a still running job over:
    nothing of it was saved, since every row is written in one transaction."""
    claimable = [ImportJob.Status.QUEUED] if attempt == 1 else ImportJob.RUNNING
    claimed = ImportJob.objects.filter(pk=job_id, status__in=claimable).update(
        status=ImportJob.Status.VALIDATING, started_at=timezone.now(), processed_rows=0
    )
    if not claimed:
        return ""
    job = ImportJob.objects.select_related("estate__company", "created_by").get(pk=job_id)
    with translation.override(job.language or settings.LANGUAGE_CODE):
        try:
            _run(job)
        except Exception:
            logger.exception("import job %s failed", job_id)
            _finish(
                job,
                ImportJob.Status.FAILED,
                problems=[
                    _file_problem(
                        _("The import stopped on an unexpected error. Nothing was saved.")
                    )
                ],
            )
            raise
    return job.status


def import_job_abandon(*, job_id: int) -> None:
    """The job's task was given up after its workers died running it, e.g. out of memory on
    a huge file: say so on the job instead of leaving it running for ever."""
    job = ImportJob.objects.filter(pk=job_id, status__in=ImportJob.RUNNING).first()
    if job is None:
        return
    with translation.override(job.language or settings.LANGUAGE_CODE):
        stopped = _(
            "The import stopped: the server running it stopped several times. Nothing was "
            "saved. Try again later, or split the file into smaller ones."
        )
        _finish(job, ImportJob.Status.FAILED, problems=[_file_problem(stopped)])


# ----------------------------------------------------------------------------- reads


def import_job_list(user, estate: Estate):
    return (
        ImportJob.objects.restrict(user, VIEW)
        .filter(estate=estate)
        .select_related("created_by")
        .defer("errors")
    )
