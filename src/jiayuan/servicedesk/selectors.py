"""Every read of requests that pages and the API share, always through restrict()."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time

from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.models import Count, F, Func, Lookup, Prefetch, Q, QuerySet, TextField, Window
from django.utils import timezone

from jiayuan.core.access import VIEW, get_visible
from jiayuan.core.db import columns_of, models_read
from jiayuan.core.models import AuditEvent
from jiayuan.core.phones import mask_mobile
from jiayuan.core.taxonomy import Category
from jiayuan.org.models import (
    CURRENT_RESIDENCY_SQL,
    Building,
    CommonArea,
    Estate,
    Residency,
    Resident,
    Team,
    Unit,
    unit_label,
)
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import (
    OPEN_STATUSES,
    Handling,
    Photo,
    ReturnVisit,
    ServiceRequest,
    Status,
    place_words,
)
from jiayuan.sla import deadlines

# What a list row shows besides its own columns. The place is joined; the people, the team
# and the estate are read in one query each for the whole page: every join more multiplies
# PostgreSQL's planning time (9 joins took 14 ms to plan a 1 ms query).
LIST_JOINED = ("unit", "unit__building", "common_area")
LIST_PREFETCHED = ("estate", "assignee", "team", "first_contact", "reporter")


def with_list_relations(rows: QuerySet) -> QuerySet:
    return rows.select_related(*LIST_JOINED).prefetch_related(*LIST_PREFETCHED)


@dataclass(frozen=True)
class QueueFilters:
    """The desk queue's filters; every one is optional."""

    status: str = ""
    kind: str = ""
    category: str = ""
    urgency: str = ""
    building: int | None = None
    assignee: int | None = None
    unassigned: bool = False
    open_only: bool = False
    created_from: date | None = None
    created_to: date | None = None
    search: str = ""
    due: str = ""  # a key of sla.deadlines.DUE_FILTERS: "overdue" or "soon"


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _visible(user, estate) -> QuerySet:
    if estate is None:
        return ServiceRequest.objects.restrict(user, VIEW)
    return ServiceRequest.objects.restrict_in_estate(user, estate, VIEW)


# A whole request number as staff read it out on the phone: BX20261122-0007.
WHOLE_NUMBER = re.compile(r"[A-Za-z]{2}\d{8}-\d{4,}")


def _search(term: str, estate) -> Q:
    """A whole number finds its request through the (company, number) index; anything else
    is looked for in the number, the contact's name and phone, and the description: on
    PostgreSQL narrowed first by the grams index (migration 0012), which the plain
    "contains" filter then checks."""
    if WHOLE_NUMBER.fullmatch(term):
        whole = Q(number=term.upper())
        return whole & Q(company_id=estate.company_id) if estate is not None else whole
    contains = (
        Q(number__icontains=term)
        | Q(contact_phone__endswith=term)
        | Q(contact_name__icontains=term)
        | Q(description__icontains=term)
    )
    grams = _search_grams(term, estate)
    return contains if grams is None else Q(_HoldsGrams(SEARCH_TERMS, grams)) & contains


# The expression the grams index is built on, word for word, so PostgreSQL can use it.
SEARCH_TERMS = Func(
    F("estate_id"),
    F("number"),
    F("contact_name"),
    F("contact_phone"),
    F("description"),
    function="request_search_terms",
    output_field=TextField(),
)


class _HoldsGrams(Lookup):
    lookup_name = "holds_grams"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} @@ ({rhs})::tsquery", (*lhs_params, *rhs_params)


def _search_grams(term: str, estate) -> str | None:
    """The grams every request of the estate matching `term` holds, as tsquery text; None
    where there is no index (SQLite), no one estate, or no gram in the term (one character,
    say)."""
    if connection.vendor != "postgresql" or estate is None:
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT request_search_query(%s, %s)", [estate.pk, term])
        return cursor.fetchone()[0]


def _due(name: str) -> Q:
    """Requests whose nearest running clock is past due, or due within DUE_SOON: read from
    `due_at`, which the sla app keeps, not from the clocks."""
    now = timezone.now()
    if name == "overdue":
        return Q(due_at__lt=now)
    if name == "soon":
        return Q(due_at__gte=now, due_at__lt=now + deadlines.DUE_SOON)
    raise ValueError(f"unknown due filter {name!r}")


def request_queue(user, *, estate=None, filters: QueueFilters = QueueFilters()) -> QuerySet:
    """Requests the user may see, newest first, filtered as the desk asks."""
    rows = _visible(user, estate)
    f = filters
    if f.status:
        rows = rows.filter(status=f.status)
    elif f.open_only:
        rows = rows.filter(status__in=OPEN_STATUSES)
    for name in ("kind", "category", "urgency"):
        if getattr(f, name):
            rows = rows.filter(**{name: getattr(f, name)})
    if f.building:
        rows = rows.filter(building_id=f.building)
    if f.unassigned:
        rows = rows.filter(assignee__isnull=True, team__isnull=True)
    elif f.assignee:
        rows = rows.filter(assignee_id=f.assignee)
    if f.created_from:
        rows = rows.filter(created_at__gte=_day_start(f.created_from))
    if f.created_to:
        rows = rows.filter(created_at__lt=_day_start(f.created_to) + timezone.timedelta(days=1))
    if f.search:
        rows = rows.filter(_search(f.search.strip(), estate))
    if f.due:
        rows = rows.filter(_due(f.due))
    if f.search:
        # PostgreSQL cannot tell how many rows a search keeps (grams and text look rare
        # together) and, expecting a few, would join each match to its place before sorting:
        # thousands of joins for a common word. The page's places are read apart instead.
        rows = rows.prefetch_related(*LIST_JOINED, *LIST_PREFETCHED)
    else:
        rows = with_list_relations(rows)
    return rows.order_by("-created_at", "-id")


@dataclass(frozen=True, slots=True)
class QueueLine:
    """A line of the desk queue: the columns it shows and the names of its people."""

    pk: int
    number: str
    kind: str
    category: str
    urgency: str
    status: str
    is_duplicate: bool
    due_at: datetime | None
    created_at: datetime
    place: str
    reporter: str
    first_contact: str
    assignee: str
    team: str


_QUEUE_VALUES = (
    *("pk", "number", "kind", "category", "urgency", "status", "parent_id", "due_at"),
    *("created_at", "location_note", "contact_name", "unit_id", "common_area_id"),
    *("reporter_id", "first_contact_id", "assignee_id", "team_id"),
)


def queue_lines(rows: QuerySet) -> list[QueueLine]:
    """A page of request_queue() read as values, not models: 50 requests with their places,
    estate, people and team cost 10–12 ms of CPU as models and 4 as values (decisions §33).
    The places and the names of the people, reporters and teams are read apart, in one
    query each for the page: joined, a search for a common word made PostgreSQL join each
    of its thousands of matches before sorting (§30)."""
    return _queue_lines(page_values(rows, _QUEUE_VALUES))


def counted_queue_page(
    rows: QuerySet, number: int, size: int
) -> tuple[int, list[QueueLine]] | None:
    """Page `number` (from 1) of a searched request_queue() and how many requests match, read
    by one statement; None when the page lies past the end, whose count is then unknown.

    A search's matches are all read to be counted: their grams' bitmap, then each row's text
    to check the words. Counted apart, as the paginator does, PostgreSQL read the same
    thousands of rows a second time to sort them for the page (5 ms each; decisions §36)."""
    start = (number - 1) * size
    counted = rows.prefetch_related(None).annotate(matching=Window(Count("pk")))
    values = list(counted.values(*_QUEUE_VALUES, "matching")[start : start + size])
    return (values[0]["matching"], _queue_lines(values)) if values else None


def _queue_lines(values: list[dict]) -> list[QueueLine]:
    place = page_places(values)
    people = staff_names(values)
    reporters = _names(Resident, _ids(values, "reporter_id"))
    teams = team_names(values)
    return [
        QueueLine(
            pk=v["pk"],
            number=v["number"],
            kind=v["kind"],
            category=v["category"],
            urgency=v["urgency"],
            status=v["status"],
            is_duplicate=v["parent_id"] is not None,
            due_at=v["due_at"],
            created_at=v["created_at"],
            place=place(v),
            reporter=reporters.get(v["reporter_id"], v["contact_name"]),
            first_contact=people.get(v["first_contact_id"], ""),
            assignee=people.get(v["assignee_id"], ""),
            team=teams.get(v["team_id"], ""),
        )
        for v in values
    ]


def page_values(rows: QuerySet, columns: tuple[str, ...]) -> list[dict]:
    """A page (a slice) of request_queue() as values: the columns named, no joined model.

    A page after the first finds its ids first, then its rows by id: PostgreSQL reads the
    ids from an index alone (request_estate_recent, request_building_recent), where it
    read every one of a building's requests to sort them and skip to page 5 (12 ms, 2 now;
    decisions §34). The first page is read at once: it skips nothing, and the two steps
    cost PostgreSQL more planning than they save."""
    # values() leaves out the joins the selector asks for; its prefetches must go by hand.
    rows = rows.prefetch_related(None)
    if rows.query.low_mark:
        order = rows.query.order_by or ServiceRequest._meta.ordering
        rows = ServiceRequest.objects.filter(pk__in=rows.values("pk")).order_by(*order)
    return list(rows.values(*columns))


def page_places(values: list[dict]) -> Callable[[dict], str]:
    """How each line of a page names its place (unit_id, common_area_id, location_note):
    the page's units and common areas are read in one query each."""
    units = _unit_labels(_ids(values, "unit_id"))
    areas = _names(CommonArea, _ids(values, "common_area_id"))

    def place(v: dict) -> str:
        named = units.get(v["unit_id"]) or areas.get(v["common_area_id"], "")
        return place_words(named, v["location_note"])

    return place


def staff_names(values: list[dict]) -> dict[int, str]:
    """{user id: name} for the first-contact owners and handlers of a page's lines."""
    from jiayuan.accounts.models import User

    staff = _ids(values, "first_contact_id") | _ids(values, "assignee_id")
    return _names(User, staff, "username", named=User.get_short_name)


def team_names(values: list[dict]) -> dict[int, str]:
    return _names(Team, _ids(values, "team_id"))


def _ids(values: list[dict], column: str) -> set[int]:
    return {v[column] for v in values if v[column] is not None}


def _unit_labels(ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = Unit.objects.filter(pk__in=ids).values_list("pk", "building__name", "entrance", "number")
    return {pk: unit_label(building, entrance, number) for pk, building, entrance, number in rows}


def _names(model, ids: set[int], *columns: str, named=lambda row: row.name) -> dict[int, str]:
    """{pk: the name a list shows} for the ids."""
    if not ids:
        return {}
    rows = model.objects.filter(pk__in=ids).only("pk", "name", *columns)
    return {row.pk: named(row) for row in rows}


def status_counts(user, *, estate=None) -> dict[str, int]:
    """How many requests the user may see are in each state (the queue's tabs)."""
    rows = _visible(user, estate)
    counts = dict(rows.values_list("status").annotate(n=Count("*")).order_by())
    return {status: counts.get(status, 0) for status in Status.values}


def my_requests(user) -> QuerySet:
    """An owner's own requests, newest first."""
    return (
        ServiceRequest.objects.restrict(user, VIEW)
        .filter(reporter_user=user)
        .select_related("estate", "unit", "unit__building", "common_area", "assignee")
        .prefetch_related("rating")
        .order_by("-created_at", "-id")
    )


def my_work(user) -> QuerySet:
    """A technician's open orders: theirs and their teams' not yet taken, most urgent and
    earliest appointment first."""
    from django.db.models import Case, IntegerField, Value, When

    from jiayuan.org.models import TeamMember

    team_ids = TeamMember.objects.filter(user=user).values("team_id")
    rank = Case(
        When(urgency="emergency", then=Value(0)),
        When(urgency="urgent", then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    )
    rows = (
        ServiceRequest.objects.restrict(user, VIEW)
        .filter(status__in=[Status.DISPATCHED, Status.IN_PROGRESS, Status.ON_HOLD])
        .filter(Q(assignee=user) | Q(assignee__isnull=True, team_id__in=team_ids))
    )
    return (
        with_list_relations(rows)
        .annotate(urgency_rank=rank)
        .order_by("urgency_rank", "appointment_start", "created_at")
    )


def request_detail(user, pk) -> ServiceRequest:
    """One request with what its page shows, or 404 for a missing or hidden one."""
    queryset = with_list_relations(ServiceRequest.objects.all()).prefetch_related(
        "praised_staff",
        "reporter_user",
        "related_to",
        "parent",
        "materials",
        Prefetch("photos", queryset=Photo.objects.order_by("uploaded_at", "id")),
        Prefetch(
            "handlings",
            queryset=Handling.objects.select_related("handler", "team", "assigned_by"),
        ),
    )
    return get_visible(queryset, user, VIEW, pk=pk)


# The steps an owner sees on their timeline; staff see every event.
OWNER_VISIBLE_EVENTS = frozenset(DeskEvent) - {
    DeskEvent.TAKEN,
    DeskEvent.TRANSFERRED,
    DeskEvent.RETURNED,
    DeskEvent.VISIT_PLANNED,
    DeskEvent.SETTINGS_UPDATED,
    DeskEvent.TEMPLATE_CREATED,
    DeskEvent.TEMPLATE_UPDATED,
    DeskEvent.TEMPLATE_DELETED,
    # Other households' reports of the same fault are the desk's business.
    DeskEvent.INCIDENT_JOINED,
    DeskEvent.INCIDENT_LEFT,
    DeskEvent.DUPLICATE_DISMISSED,
}


def request_timeline(user, request: ServiceRequest, *, for_owner: bool) -> QuerySet:
    """The request's events, oldest first, read from the audit trail (the caller has
    already been allowed to see the request)."""
    events = AuditEvent.objects.filter(
        target_type=ContentType.objects.get_for_model(ServiceRequest),
        target_id=str(request.pk),
    ).order_by("at", "id")
    if for_owner:
        events = events.filter(code__in=[e.value for e in OWNER_VISIBLE_EVENTS])
    return events


def due_return_visits(user, *, estate=None) -> QuerySet:
    visits = ReturnVisit.objects.restrict(user, VIEW).filter(done_at__isnull=True)
    if estate is not None:
        visits = visits.filter(request__estate=estate)
    return visits.select_related(
        "request",
        "request__unit",
        "request__unit__building",
        "request__common_area",
        "request__rating",
    ).order_by("due_at", "id")


# ----------------------------------------------------------------- owner and technician pages


@dataclass(frozen=True)
class ReportChoices:
    """What an owner may pick when reporting: their current units, the common areas of the
    estates those units are in, and (for praise) the staff of those estates as
    (estate, user) pairs."""

    units: list
    common_areas: list
    staff: list
    categories: list  # (code, label) the companies of those estates take requests in


def report_choices(user) -> ReportChoices:
    from jiayuan.org.models import Membership
    from jiayuan.org.selectors import my_residencies

    units = [residency.unit for residency in my_residencies(user)]
    estates = {unit.estate_id: unit.estate for unit in units}
    areas = (
        CommonArea.objects.restrict(user, VIEW)
        .filter(estate_id__in=estates)
        .select_related("estate")
        .order_by("estate__name", "name")
    )
    memberships = (
        Membership.objects.filter(is_active=True, user__is_active=True)
        .filter(
            Q(estate_id__in=estates)
            | Q(estate__isnull=True, company_id__in={e.company_id for e in estates.values()})
        )
        .select_related("user")
        .order_by("user__name", "user_id")
    )
    staff, seen = [], set()
    for estate in estates.values():
        for membership in memberships:
            works_here = membership.estate_id == estate.pk or (
                membership.estate_id is None and membership.company_id == estate.company_id
            )
            if works_here and (estate.pk, membership.user_id) not in seen:
                seen.add((estate.pk, membership.user_id))
                staff.append((estate, membership.user))
    from jiayuan.servicedesk.services import offered_codes

    offered = set().union(
        *(offered_codes(company_id) for company_id in {e.company_id for e in estates.values()})
    )
    categories = [(code, label) for code, label in Category.choices if code in offered]
    return ReportChoices(units=units, common_areas=list(areas), staff=staff, categories=categories)


def callable_phone(user, request: ServiceRequest) -> str:
    """The owner's whole number if this person may call them, else "" (pages then show the
    mask)."""
    return request.contact_phone if _may_call(user, request.assignee_id, request.estate) else ""


def _may_call(user, assignee_id: int | None, estate) -> bool:
    """Staff who read phones (org's rule) and the technician the order is assigned to, who
    calls before an in-home repair (docs/decisions.md)."""
    from jiayuan.org.selectors import can_read_phone

    return assignee_id == user.pk or can_read_phone(user, estate)


def phone_shown(user, *, phone: str, reporter_user_id, assignee_id, estate) -> str:
    """A request's contact number as this person reads it: whole for the reporter and for
    those who may call them, else masked."""
    if reporter_user_id == user.pk or _may_call(user, assignee_id, estate):
        return phone
    return mask_mobile(phone)


def request_photo(user, pk) -> Photo:
    """A photo of a request this person may see, or 404."""
    visible = ServiceRequest.objects.restrict(user, VIEW).values("pk")
    return get_visible(Photo.objects.filter(request__in=visible), user, VIEW, pk=pk)


# ----------------------------------------------------------------------------- desk pages

# How many callers the desk's lookup offers at once: enough for a family, few enough to read.
LOOKUP_LIMIT = 10


def caller_lookup(user, estate, term: str) -> list:
    """The current residencies of `estate` whose resident or unit matches what the desk
    typed while on the phone: the whole mobile number or its last four digits, a name, or
    a unit ("1号楼 101", "101"). Each resident gets `shown_mobile` (whole or masked, per the
    org's rule); staff who see masked numbers find people by the last four digits only."""
    from jiayuan.core.phones import normalize_mobile
    from jiayuan.org.models import Residency, current_residency
    from jiayuan.org.selectors import MASKED_SEARCH_DIGITS, can_read_phone, with_shown_mobiles

    term = (term or "").strip()[:50]
    if not term:
        return []
    matches = Q(resident__name__icontains=term)
    digits = normalize_mobile(term)
    if digits.isdigit():
        enough = (
            len(digits) >= MASKED_SEARCH_DIGITS
            if can_read_phone(user, estate)
            else len(digits) == MASKED_SEARCH_DIGITS
        )
        if enough:
            matches |= Q(resident__mobile__endswith=digits)
    unit_words = Q()
    for word in term.split():
        unit_words &= (
            Q(unit__number__iexact=word)
            | Q(unit__building__name__icontains=word)
            | Q(unit__entrance__iexact=word)
        )
    rows = list(
        Residency.objects.restrict(user, VIEW)
        .filter(unit__estate=estate)
        .filter(current_residency())
        .filter(matches | unit_words)
        .select_related("resident", "unit__building")
        .order_by("unit__building__name", "unit__entrance", "unit__number", "resident__name")[
            :LOOKUP_LIMIT
        ]
    )
    with_shown_mobiles(user, [row.resident for row in rows], estate)
    return rows


def _active_people(memberships) -> QuerySet:
    from jiayuan.accounts.models import User

    return User.objects.filter(pk__in=memberships.values("user_id"), is_active=True).order_by(
        "name", "username"
    )


def estate_staff(user, estate) -> QuerySet:
    """People working in the estate (its own staff and the company-wide ones), as far as the
    person's view of the staff list goes: who may handle a complaint, whose work the queue
    filters by."""
    from jiayuan.org.models import Membership

    return _active_people(
        Membership.objects.restrict(user, VIEW)
        .filter(is_active=True)
        .filter(Q(estate=estate) | Q(estate__isnull=True, company_id=estate.company_id))
    )


def field_staff(user, estate) -> QuerySet:
    """Whom an order can be sent to: the estate's technicians, security guards and cleaners."""
    from jiayuan.core.roles import FIELD_STAFF
    from jiayuan.org.models import Membership

    return _active_people(
        Membership.objects.restrict(user, VIEW).filter(
            is_active=True, estate=estate, role__in=FIELD_STAFF
        )
    )


def estate_teams(user, estate) -> QuerySet:
    from jiayuan.org.models import Team

    return Team.objects.restrict(user, VIEW).filter(estate=estate).order_by("name")


def reply_templates(user, company=None, *, kind: str = "") -> QuerySet:
    """The ready answers the person may read (of one company if named), for one kind of
    request or all."""
    from jiayuan.servicedesk.models import ReplyTemplate

    templates = ReplyTemplate.objects.restrict(user, VIEW)
    if company is not None:
        templates = templates.filter(company=company)
    if kind:
        templates = templates.filter(kind=kind)
    return templates.order_by("kind", "title", "id")


def _unit_sql(extra_columns: str = "", joins: str = "", where: str = "") -> str:
    """The unit with its estate's company and name and its building's name (UNIT_EXTRAS)."""
    unit, estate, building = Unit._meta.db_table, Estate._meta.db_table, Building._meta.db_table
    return (
        f"SELECT {columns_of(Unit, 'u')}, e.company_id, e.name, b.name{extra_columns} "  # noqa: S608
        f"FROM {unit} u JOIN {estate} e ON e.id = u.estate_id "
        f"JOIN {building} b ON b.id = u.building_id{joins} WHERE {where}"
    )


UNIT_EXTRAS = ("estate_company_id", "estate_name", "building_name")


def _with_estate(unit: Unit) -> Unit:
    """The unit's estate and building, from the columns _unit_sql() reads along."""
    db = unit._state.db
    estate = [unit.estate_id, unit.estate_company_id, unit.estate_name]
    unit.estate = Estate.from_db(db, ["id", "company_id", "name"], estate)
    unit.building = Building.from_db(
        db, ["id", "estate_id", "name"], [unit.building_id, unit.estate_id, unit.building_name]
    )
    return unit


# Every report names its flat: written out rather than built by the ORM (decisions §28).
UNIT_SQL = _unit_sql(where="u.id = %s AND u.estate_id = %s")


def unit_with_estate(estate_id: int, unit_id: int) -> Unit | None:
    """The unit if it is in the estate, with its estate and building read along (their id,
    company and name; any other field is read when asked for)."""
    found = models_read(Unit, UNIT_SQL, [unit_id, estate_id], extras=UNIT_EXTRAS)
    return _with_estate(found[0]) if found else None


RESIDENT_FIELDS = [field.attname for field in Resident._meta.concrete_fields]


def _homes_sql() -> str:
    residency, resident = Residency._meta.db_table, Resident._meta.db_table
    return _unit_sql(
        extra_columns=f", {columns_of(Resident, 'p')}",
        joins=f" JOIN {residency} r ON r.unit_id = u.id JOIN {resident} p ON p.id = r.resident_id",
        where=f"p.user_id = %s AND u.estate_id = %s AND {CURRENT_RESIDENCY_SQL.format(alias='r')}",
    )


# Every owner's report reads their homes, with the flats (decisions §28).
HOMES_SQL = _homes_sql()
HOMES_EXTRAS = (*UNIT_EXTRAS, *(f"resident__{name}" for name in RESIDENT_FIELDS))


def homes_in(user, estate_id: int) -> list[Resident]:
    """The user as a resident of each unit of the estate where they live now: each with
    `home_unit_id` and `home_unit` (its estate and building read along, as
    unit_with_estate() gives them)."""
    today = connection.ops.adapt_datefield_value(timezone.localdate())
    homes = []
    for unit in models_read(Unit, HOMES_SQL, [user.pk, estate_id, today], extras=HOMES_EXTRAS):
        values = [getattr(unit, f"resident__{name}") for name in RESIDENT_FIELDS]
        resident = Resident.from_db(unit._state.db, RESIDENT_FIELDS, values)
        resident.home_unit_id, resident.home_unit = unit.pk, _with_estate(unit)
        homes.append(resident)
    return homes
