"""The desk's pages: who reaches every route, the queue's filters and counts, recording a
call with the caller lookup, every step on a request's page (bad input, stale pages), return
visits, reply templates and the desk's settings."""

import datetime as dt

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.taxonomy import Category
from jiayuan.core.testing import make_building, make_owner, make_staff, make_unit
from jiayuan.org.models import Team
from jiayuan.servicedesk import selectors, services
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import (
    DeskSettings,
    Handling,
    Kind,
    ReplyTemplate,
    ReturnVisit,
    ServiceRequest,
    Status,
    Urgency,
)
from jiayuan.servicedesk.selectors import QueueFilters
from jiayuan.servicedesk.urls_desk import urlpatterns

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
STALE = "Someone else changed this request"


def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def desk(personas, user=None):
    return english(personas.client_for(user or personas.clerk_a))


def phone_repair(p, **extra):
    values = {
        "actor": p.clerk_a,
        "estate": p.estate_a,
        "kind": Kind.REPAIR,
        "category": "plumbing",
        "description": "厨房水龙头漏水",
        "reporter": p.resident_a101,
        "unit": p.unit_a101,
    } | extra
    return services.request_create(**values)


def complaint(p, **extra):
    values = {
        "actor": p.clerk_a,
        "estate": p.estate_a,
        "kind": Kind.COMPLAINT,
        "category": "noise_neighbor",
        "description": "楼上装修噪音",
        "reporter": p.resident_a102,
        "unit": p.unit_a102,
    } | extra
    return services.request_create(**values)


def fresh(request) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


def act_url(request, action):
    return reverse("servicedesk:act", args=[request.pk, action])


def step(client, request, action, **data):
    """Post a step as its form on the page does: prefixed fields and the shown version."""
    values = {f"{action}-version": fresh(request).version}
    values |= {f"{action}-{name}": value for name, value in data.items()}
    return client.post(act_url(request, action), values)


def flashes(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def finance_a(personas):
    return make_staff("finance_a", "钱会计", personas.estate_a, Role.FINANCE)


@pytest.fixture
def world(personas):
    """One request of each kind that matters and what the routes with a pk are tried on."""
    p = personas
    repair = phone_repair(p)
    visit_request = complaint(p)
    services.request_investigate(actor=p.clerk_a, request=visit_request)
    services.request_reply(actor=p.clerk_a, request=visit_request, reply="已处理")
    services.request_confirm(actor=p.clerk_a, request=visit_request)
    template = services.reply_template_create(
        actor=p.manager_a, company=p.company, kind=Kind.COMPLAINT, title="已联系", body="已联系对方"
    )
    return {
        "repair": repair,
        "visit": ReturnVisit.objects.get(request=visit_request),
        "template": template,
    }


OBJECT_OF_ROUTE = {
    "detail": lambda w: w["repair"],
    "timeline": lambda w: w["repair"],
    "act": lambda w: w["repair"],
    "visit_record": lambda w: w["visit"],
    "template_edit": lambda w: w["template"],
    "template_delete": lambda w: w["template"],
    "incident_link": lambda w: w["repair"],
    "incident_unlink": lambda w: w["repair"],
    "incident_suggestion": lambda w: w["repair"],
}
ROUTES = [pattern.name for pattern in urlpatterns]
ESTATE_A_OBJECTS = ["detail", "timeline", "act", "visit_record"]


def url_of(name, world):
    if name == "act":
        return act_url(world["repair"], "accept")
    if name == "incident_suggestion":
        return reverse(f"servicedesk:{name}", args=[world["repair"].pk, 1, "dismiss"])
    if name in OBJECT_OF_ROUTE:
        return reverse(f"servicedesk:{name}", args=[OBJECT_OF_ROUTE[name](world).pk])
    return reverse(f"servicedesk:{name}")


def test_every_route_with_a_pk_has_an_object_to_try():
    with_pk = {p.name for p in urlpatterns if "<int:pk>" in str(p.pattern)}
    assert with_pk == set(OBJECT_OF_ROUTE)


class TestWhoReachesWhat:
    @pytest.mark.parametrize("name", ROUTES)
    def test_anonymous_is_sent_to_sign_in(self, client, world, name):
        for response in (client.get(url_of(name, world)), client.post(url_of(name, world))):
            assert response.status_code == 302
            assert response["Location"].startswith(reverse("accounts:login"))

    @pytest.mark.parametrize("name", ROUTES)
    @pytest.mark.parametrize("who", ["stranger", "owner_a101", "owner_a102"])
    def test_people_without_a_staff_role_find_nothing(self, personas, world, name, who):
        client = personas.client_for(getattr(personas, who))
        events = AuditEvent.objects.count()
        assert client.get(url_of(name, world)).status_code == 404
        assert client.post(url_of(name, world), {"accept-version": 1}).status_code == 404
        assert AuditEvent.objects.count() == events

    @pytest.mark.parametrize("name", ESTATE_A_OBJECTS)
    @pytest.mark.parametrize("who", ["outsider", "clerk_b"])
    def test_estate_a_requests_are_missing_for_other_estates(self, personas, world, name, who):
        client = personas.client_for(getattr(personas, who))
        events = AuditEvent.objects.count()
        assert client.get(url_of(name, world)).status_code == 404
        response = client.post(url_of(name, world), {"accept-version": 1, "outcome": "satisfied"})
        assert response.status_code == 404
        assert AuditEvent.objects.count() == events
        assert fresh(world["repair"]).status == Status.SUBMITTED

    @pytest.mark.parametrize("action", ["dispatch", "decline", "cancel_by_desk", "reply"])
    def test_every_step_of_another_estate_is_a_404(self, personas, world, action):
        client = personas.client_for(personas.clerk_b)
        response = step(client, world["repair"], action, reason="x", assignee="1", reply="x")
        assert response.status_code == 404
        assert client.get(act_url(world["repair"], action)).status_code == 404

    @pytest.mark.parametrize("name", ["template_edit", "template_delete"])
    def test_templates_of_another_company_are_missing(self, personas, world, name):
        client = personas.client_for(personas.outsider)
        assert client.get(url_of(name, world)).status_code == 404
        assert client.post(url_of(name, world), {"title": "x"}).status_code == 404
        assert ReplyTemplate.objects.get().title == "已联系"

    @pytest.mark.parametrize(
        "name", ["queue", "record", "resident_lookup", "visit_list", "template_list", "settings"]
    )
    def test_field_staff_are_refused_the_desk(self, personas, world, name):
        client = personas.client_for(personas.technician_a)
        assert client.get(url_of(name, world)).status_code == 403

    def test_field_staff_following_a_link_to_the_desk_page_land_on_theirs(self, personas, world):
        p = personas
        services.request_dispatch(actor=p.clerk_a, request=world["repair"], assignee=p.technician_a)
        client = p.client_for(p.technician_a)
        response = client.get(url_of("detail", world))
        assert response["Location"] == reverse("servicedesk:tech_detail", args=[world["repair"].pk])
        assert step(client, world["repair"], "transfer", reason="x").status_code == 403

    def test_finance_reads_the_queue_and_a_request_but_takes_no_step(
        self, personas, world, finance_a
    ):
        client = desk(personas, finance_a)
        assert client.get(reverse("servicedesk:queue")).status_code == 200
        page = client.get(url_of("detail", world))
        assert page.status_code == 200
        assert page.context["panels"] == []
        assert step(client, world["repair"], "accept").status_code == 403
        assert fresh(world["repair"]).status == Status.SUBMITTED
        assert client.get(reverse("servicedesk:record")).status_code == 403
        assert client.get(reverse("servicedesk:visit_list")).status_code == 403

    def test_only_managers_change_templates_and_settings(self, personas, world):
        client = personas.client_for(personas.clerk_a)
        template = world["template"]
        assert client.get(reverse("servicedesk:template_list")).status_code == 200
        for name in ("template_create", "template_edit", "template_delete", "settings"):
            assert client.get(url_of(name, world)).status_code == 403
            assert (
                client.post(url_of(name, world), {"title": "改", "kind": "repair"}).status_code
                == 403
            )
        assert ReplyTemplate.objects.get(pk=template.pk).title == "已联系"
        assert not DeskSettings.objects.exists()

    def test_the_menu_shows_the_desk_to_its_roles(self, personas, finance_a):
        queue, visits = reverse("servicedesk:queue"), reverse("servicedesk:visit_list")
        home = reverse("core:home")
        clerk = personas.client_for(personas.clerk_a).get(home).content.decode()
        assert f'href="{queue}"' in clerk and f'href="{visits}"' in clerk
        money = personas.client_for(finance_a).get(home).content.decode()
        assert f'href="{queue}"' in money and f'href="{visits}"' not in money
        field = personas.client_for(personas.technician_a).get(home).content.decode()
        assert f'href="{queue}"' not in field


# ----------------------------------------------------------------------------- queue


@pytest.fixture
def queue_rows(personas, time_machine):
    """Four requests of estate A, on four days, and one of estate B."""
    p = personas
    building_a2 = make_building(p.estate_a, "2号楼")
    unit_a201 = make_unit(building_a2, "201")
    time_machine.move_to(dt.datetime(2026, 3, 1, 9, tzinfo=dt.UTC))
    inquiry = services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=Kind.INQUIRY,
        category="billing",
        urgency=Urgency.EMERGENCY,
        description="物业费发票怎么开",
        contact_name="路人甲",
        contact_phone="13600000000",
        channel="walk_in",
    )
    time_machine.move_to(dt.datetime(2026, 3, 2, 9, tzinfo=dt.UTC))
    noise = complaint(
        p,
        urgency=Urgency.URGENT,
        reporter=None,
        unit=None,
        common_area=p.lobby_a,
        contact_name="赵先生",
        contact_phone="13912345678",
    )
    services.request_investigate(actor=p.clerk_a, request=noise)
    time_machine.move_to(dt.datetime(2026, 3, 3, 9, tzinfo=dt.UTC))
    leak = phone_repair(p)
    services.request_dispatch(actor=p.dispatcher_a, request=leak, assignee=p.technician_a)
    time_machine.move_to(dt.datetime(2026, 3, 4, 9, tzinfo=dt.UTC))
    light = phone_repair(
        p, category="electrical", unit=unit_a201, reporter=None, contact_phone="13700000000"
    )
    services.request_cancel(actor=p.clerk_a, request=light, reason="重复报修")
    services.request_create(
        actor=p.clerk_b,
        estate=p.estate_b,
        kind=Kind.REPAIR,
        category="plumbing",
        description="B座漏水",
        contact_phone="13500000000",
    )
    return {
        "inquiry": inquiry,
        "noise": noise,
        "leak": leak,
        "light": light,
        "building_a2": building_a2,
    }


def numbers_on(response) -> set[str]:
    return {row.number for row in response.context["page"].object_list}


class TestQueue:
    def test_lists_the_current_estates_requests_newest_first(self, personas, queue_rows):
        response = desk(personas).get(reverse("servicedesk:queue"))
        rows = list(response.context["page"].object_list)
        expected = ["light", "leak", "noise", "inquiry"]
        assert [r.pk for r in rows] == [queue_rows[name].pk for name in expected]
        page = response.content.decode()
        assert "B座漏水" not in page and "王师傅" in page and "赵先生" in page

    def test_another_company_sees_none_of_it(self, personas, queue_rows):
        response = personas.client_for(personas.outsider).get(reverse("servicedesk:queue"))
        assert response.status_code == 200
        assert numbers_on(response) == set()

    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ({"status": "dispatched"}, {"leak"}),
            ({"status": "cancelled"}, {"light"}),
            ({"open_only": "on"}, {"inquiry", "noise", "leak"}),
            ({"kind": "complaint"}, {"noise"}),
            ({"kind": "repair", "category": "electrical"}, {"light"}),
            ({"urgency": "urgent"}, {"noise"}),
            ({"urgency": "emergency"}, {"inquiry"}),
            ({"assignee": "unassigned"}, {"inquiry", "light"}),
            ({"created_from": "2026-03-02", "created_to": "2026-03-03"}, {"noise", "leak"}),
            ({"created_from": "2026-03-04"}, {"light"}),
            ({"q": "5678"}, {"noise"}),
            ({"q": "赵先生"}, {"noise"}),
            ({"q": "发票"}, {"inquiry"}),
            ({"q": "先生"}, {"noise"}),
            ({"q": "水龙头漏水"}, {"leak", "light"}),
            ({"q": "漏"}, {"leak", "light"}),
            ({"q": "漏水 "}, {"leak", "light"}),
            ({"q": "水漏"}, set()),
            ({"q": "B座漏水"}, set()),
            ({"q": "0000000"}, {"inquiry", "light"}),
        ],
    )
    def test_each_filter_narrows_the_list(self, personas, queue_rows, query, expected):
        response = desk(personas).get(reverse("servicedesk:queue"), query)
        assert response.context["filters"].errors == {}
        assert numbers_on(response) == {queue_rows[name].number for name in expected}

    def test_filters_by_building_assignee_and_number(self, personas, queue_rows):
        client = desk(personas)
        queue = reverse("servicedesk:queue")
        by_building = client.get(queue, {"building": queue_rows["building_a2"].pk})
        assert numbers_on(by_building) == {queue_rows["light"].number}
        by_handler = client.get(queue, {"assignee": personas.technician_a.pk})
        assert numbers_on(by_handler) == {queue_rows["leak"].number}
        by_number = client.get(queue, {"q": queue_rows["leak"].number})
        assert numbers_on(by_number) == {queue_rows["leak"].number}

    def test_tabs_count_each_state_of_the_estate(self, personas, queue_rows):
        response = desk(personas).get(reverse("servicedesk:queue"), {"status": "dispatched"})
        tabs = {str(tab["label"]): tab for tab in response.context["tabs"]}
        assert tabs["All"]["count"] == 4 and tabs["Open"]["count"] == 3
        assert tabs["Dispatched"]["count"] == 1 and tabs["Dispatched"]["current"]
        assert tabs["Investigating"]["count"] == 1 and tabs["Cancelled"]["count"] == 1
        assert tabs["Submitted"]["count"] == 1 and tabs["Closed"]["count"] == 0
        assert "status=cancelled" in tabs["Cancelled"]["url"]

    @pytest.mark.parametrize(
        ("query", "field"),
        [
            ({"status": "lost"}, "status"),
            ({"kind": "gossip"}, "kind"),
            ({"building": "999999"}, "building"),
            ({"building": "abc"}, "building"),
            ({"assignee": "999999"}, "assignee"),
            ({"created_from": "yesterday"}, "created_from"),
            ({"created_from": "2026-03-04", "created_to": "2026-03-01"}, "created_to"),
        ],
    )
    def test_a_bad_filter_is_reported_and_left_out(self, personas, queue_rows, query, field):
        response = desk(personas).get(reverse("servicedesk:queue"), query)
        assert response.status_code == 200
        assert response.context["filters"].errors[field]
        # The other filters still apply: here the valid start date.
        assert len(numbers_on(response)) == (1 if field == "created_to" else 4)

    def test_a_building_of_another_estate_is_not_a_choice(self, personas, queue_rows):
        response = desk(personas).get(
            reverse("servicedesk:queue"), {"building": personas.building_b1.pk}
        )
        assert response.context["filters"].errors["building"]

    def test_a_piece_of_a_number_finds_it(self, personas, queue_rows):
        number = queue_rows["noise"].number
        for piece in (number[-6:], number[2:10].lower(), number[:4]):
            found = numbers_on(desk(personas).get(reverse("servicedesk:queue"), {"q": piece}))
            assert number in found and queue_rows["inquiry"].number not in found

    @pytest.mark.parametrize(
        "term", ["a'b\\c", "水管' | '漏", "!漏水", "漏水:*", "(漏水)", "&", "'", "漏水 & 发票"]
    )
    def test_search_syntax_in_the_term_is_text(self, personas, queue_rows, term):
        response = desk(personas).get(reverse("servicedesk:queue"), {"q": term})
        assert response.status_code == 200
        assert numbers_on(response) == set()

    def test_search_reads_the_grams_index_on_postgresql(self, personas, queue_rows):
        rows = selectors.request_queue(
            personas.clerk_a, estate=personas.estate_a, filters=QueueFilters(search="水龙头")
        )
        assert {r.number for r in rows} == {queue_rows["leak"].number, queue_rows["light"].number}
        if connection.vendor != "postgresql":  # SQLite has no such index: the plain way
            assert "request_search" not in str(rows.query)
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            assert "request_search" in rows.explain()

    def test_the_indexes_the_queue_sorts_by_hold_the_estate_and_the_id(self, personas, queue_rows):
        building = personas.unit_a101.building
        rows = selectors.request_queue(
            personas.clerk_a, estate=personas.estate_a, filters=QueueFilters(building=building.pk)
        )
        assert rows.count() == ServiceRequest.objects.filter(building=building).count() > 0
        if connection.vendor != "postgresql":  # SQLite keeps no columns in an index
            assert connection.vendor == "sqlite"
            return
        # The count checks each request's estate: held in the index, PostgreSQL checks it on
        # the index's entries, where it read all of the estate's entries as well before.
        # (Which scan a plan takes depends on the table's statistics; the benchmark shows
        # the count at a million requests, docs/benchmarks.md.)
        # A later page's ids come from the index alone (selectors.page_values).
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE indexname IN "
                "('request_building_recent', 'request_estate_recent')"
            )
            definitions = dict(cursor.fetchall())
        assert definitions["request_building_recent"].endswith(
            "(building_id, created_at DESC, id DESC) INCLUDE (estate_id)"
        )
        assert definitions["request_estate_recent"].endswith(
            "(estate_id, created_at DESC, id DESC) INCLUDE (status, kind, category, urgency)"
        )

    def test_the_grams_index_can_be_rebuilt_as_a_restore_does(self, personas):
        # pg_restore builds indexes with an empty search_path: the functions must find
        # each other by their schema.
        if connection.vendor != "postgresql":  # SQLite has neither functions nor index
            assert connection.vendor == "sqlite"
            return
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SELECT current_schema()")
            schema = connection.ops.quote_name(cursor.fetchone()[0])
            cursor.execute("SET LOCAL search_path = ''")
            cursor.execute(
                f"SELECT {schema}.request_search_terms(7, 'BX1', '王伟', '13912345678', "
                "'水管漏水')::text, "
                f"{schema}.request_search_query(7, '管漏 5678')"
            )
            terms, query = cursor.fetchone()
            cursor.execute(f"REINDEX INDEX {schema}.request_search")
        assert "'7:水管'" in terms and "'7:王伟'" in terms and "'7:567'" in terms
        assert query == "'7:管漏' & '7:567' & '7:678'"

    def test_an_oversized_search_is_cut_not_a_crash(self, personas, queue_rows):
        response = desk(personas).get(reverse("servicedesk:queue"), {"q": "漏" * 10_000})
        assert response.status_code == 200
        assert numbers_on(response) == set()

    def test_htmx_gets_the_results_alone(self, personas, queue_rows):
        response = desk(personas).get(
            reverse("servicedesk:queue"), {"kind": "repair"}, HTTP_HX_REQUEST="true"
        )
        page = response.content.decode()
        assert 'id="desk-queue-results"' in page and "<html" not in page

    def test_hostile_text_is_shown_escaped(self, personas):
        phone_repair(personas, reporter=None, contact_name=HOSTILE, contact_phone="13600000000")
        page = desk(personas).get(reverse("servicedesk:queue")).content.decode()
        assert ESCAPED in page and HOSTILE not in page

    def test_every_cell_of_a_row_shows_its_request_and_escapes_what_people_typed(
        self, personas, time_machine
    ):
        p = personas
        time_machine.move_to(dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC), tick=False)
        p.team_a.name = HOSTILE
        p.team_a.save()
        p.technician_a.name = f"{HOSTILE}师傅"
        p.technician_a.save()
        p.clerk_a.name = f"{HOSTILE}前台"
        p.clerk_a.save()
        request = phone_repair(
            p, reporter=None, contact_name=HOSTILE, contact_phone="13600000000",
            location_note=HOSTILE,
        )  # fmt: skip
        services.request_dispatch(
            actor=p.dispatcher_a, request=request, assignee=p.technician_a, team=p.team_a
        )
        page = desk(p).get(reverse("servicedesk:queue")).content.decode()
        start = page.index(f'href="/service/requests/{request.pk}/"')
        row = page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]
        assert HOSTILE not in page
        assert f'<td data-label="Place">{p.unit_a101} · {ESCAPED}</td>' in row
        assert f'<td data-label="Reporter">{ESCAPED}</td>' in row
        assert f'<td data-label="First-contact owner">{ESCAPED}前台</td>' in row
        assert (
            f'<td data-label="Handler">{ESCAPED}师傅 <span class="muted small">{ESCAPED}</span>'
        ) in row
        assert f">{request.number}</a></td>" in row and "duplicate" not in row
        assert 'class="badge sd-status-dispatched">Dispatched<' in row
        assert 'class="badge sd-urgency-badge-normal">Normal<' in row
        # Times are the estate's (Asia/Shanghai): the age, and the nearest clock's due time.
        assert '<time datetime="2026-12-07T17:00:00+08:00" title="2026-12-07 17:00">0' in row
        request.refresh_from_db()
        due = timezone.localtime(request.due_at)
        assert f'<time datetime="{due.isoformat()}" title="{due:%Y-%m-%d %H:%M}">' in row

    def test_a_row_with_nobody_on_it_says_so(self, personas):
        request = phone_repair(
            personas, reporter=None, contact_name="", contact_phone="13600000000"
        )
        ServiceRequest.objects.filter(pk=request.pk).update(first_contact=None)
        page = desk(personas).get(reverse("servicedesk:queue")).content.decode()
        start = page.index(f'href="/service/requests/{request.pk}/"')
        row = page[page.rindex("<tr", 0, start) : page.index("</tr>", start)]
        assert '<td data-label="Reporter">—</td>' in row
        assert '<td data-label="First-contact owner"><span class="muted">—</span></td>' in row
        assert '<td data-label="Handler"><span class="muted">nobody yet</span></td>' in row

    def test_the_lines_read_as_values_say_what_the_requests_say(self, personas):
        """The queue reads its page as values (selectors.queue_lines); each line must say
        what the request's own properties say, for every kind of place and person."""
        p = personas
        building = make_building(p.estate_a, "5号楼")
        with_entrance = make_unit(building, "1502")
        with_entrance.entrance = "2单元"
        with_entrance.save()
        p.technician_a.name = ""  # named by the username then
        p.technician_a.save()
        made = [
            phone_repair(p),
            phone_repair(
                p,
                unit=with_entrance,
                reporter=None,
                contact_name="路人",
                contact_phone="13600000001",
            ),
            complaint(p, unit=None, common_area=p.lobby_a, location_note="东门"),
            complaint(p, unit=None, reporter=None, contact_phone="13600000000"),
        ]
        services.request_dispatch(actor=p.dispatcher_a, request=made[0], team=p.team_a)
        services.request_dispatch(
            actor=p.dispatcher_a, request=made[1], assignee=p.technician_a, team=p.team_a
        )
        ServiceRequest.objects.filter(pk=made[3].pk).update(parent=made[2], first_contact=None)
        rows = selectors.request_queue(p.clerk_a, estate=p.estate_a)
        lines = {line.pk: line for line in selectors.queue_lines(rows)}
        assert len(lines) == len(made)
        for request in rows.filter(pk__in=[r.pk for r in made]):
            line = lines[request.pk]
            assert (line.number, line.kind, line.category, line.urgency, line.status) == (
                request.number, request.kind, request.category, request.urgency, request.status
            )  # fmt: skip
            assert line.place == request.place_label
            assert line.reporter == (
                request.reporter.name if request.reporter else request.contact_name
            )
            first = request.first_contact
            assert line.first_contact == (first.get_short_name() if first else "")
            assignee = request.assignee
            assert line.assignee == (assignee.get_short_name() if assignee else "")
            assert line.team == (request.team.name if request.team else "")
            assert line.is_duplicate == (request.parent_id is not None)
            assert (line.due_at, line.created_at) == (request.due_at, request.created_at)
        assert lines[made[1].pk].place == "5号楼 2单元 1502"
        assert lines[made[1].pk].assignee == p.technician_a.username
        assert lines[made[2].pk].place == f"{p.lobby_a.name} · 东门"
        assert lines[made[0].pk].team == p.team_a.name and lines[made[0].pk].assignee == ""

    @staticmethod
    def _many(estate, count: int, **fields) -> None:
        """`count` plain repairs in the estate, written at once; `fields` may be a callable
        of the row's index."""
        fields = {"description": "x"} | fields
        ServiceRequest.objects.bulk_create(
            ServiceRequest(
                company=estate.company,
                estate=estate,
                number=f"BX-{estate.pk}-{n}",
                kind=Kind.REPAIR,
                category="plumbing",
                channel="phone",
                **{name: value(n) if callable(value) else value for name, value in fields.items()},
            )
            for n in range(count)
        )

    def test_pages_of_fifty(self, personas):
        self._many(personas.estate_a, 51)
        client = desk(personas)
        assert len(client.get(reverse("servicedesk:queue")).context["page"].object_list) == 50
        last = client.get(reverse("servicedesk:queue"), {"page": 2})
        assert len(last.context["page"].object_list) == 1

    def test_later_pages_found_by_their_ids_hold_each_request_once_in_order(self, personas):
        """A page after the first is read by its ids first (selectors.page_values): with
        times that tie, filters and another estate's requests about, the pages must hold
        exactly the rows, in the order, that reading each slice at once gives."""
        p = personas
        for estate, building in ((p.estate_a, p.building_a1), (p.estate_b, p.building_b1)):
            self._many(estate, 23, building=lambda n, b=building: b if n % 3 else None)
        moment = timezone.now() - dt.timedelta(days=1)
        ServiceRequest.objects.filter(number__endswith="7").update(created_at=moment)
        for filters in (QueueFilters(), QueueFilters(building=p.building_a1.pk)):
            rows = selectors.request_queue(p.clerk_a, estate=p.estate_a, filters=filters)
            expected = list(rows.values_list("pk", flat=True))
            read = []
            for start in range(0, len(expected), 5):
                page = rows[start : start + 5]
                direct = [v["pk"] for v in page.values("pk")]
                by_ids = [v["pk"] for v in selectors.page_values(page, ("pk",))]
                assert by_ids == direct
                read += by_ids
            assert read == expected and len(set(read)) == len(read)
            assert (
                ServiceRequest.objects.filter(pk__in=read).exclude(estate=p.estate_a).count() == 0
            )

    def test_a_searched_page_counted_with_its_rows_is_the_paginators_page(self, personas):
        """A search's page comes with its count from one statement
        (selectors.counted_queue_page): for every way of asking for a page, the queue must
        show the page number, the count and the lines the paginator alone gives, with tied
        times and another estate's matches about."""
        p = personas
        for estate in (p.estate_a, p.estate_b):
            self._many(estate, 130, description=lambda n: "水龙头漏水" if n % 4 else "门锁坏了")
        moment = timezone.now() - dt.timedelta(days=1)
        ServiceRequest.objects.filter(number__endswith="3").update(created_at=moment)
        rows = selectors.request_queue(
            p.clerk_a, estate=p.estate_a, filters=QueueFilters(search="水龙头")
        )
        expected = list(rows.values_list("pk", flat=True))
        assert len(expected) == 97  # 130 less the 33 whose index is a multiple of 4
        client = desk(p)
        for asked, number in (
            (None, 1),
            ("1", 1),
            ("2", 2),
            ("3", 2),  # past the end, below 1 or beyond any count: the last page
            ("0", 2),
            ("-2", 2),
            ("9" * 30, 2),
            ("abc", 1),  # not a number: the first
            ("2.5", 1),
        ):
            query = {"q": "水龙头"} | ({"page": asked} if asked else {})
            page = client.get(reverse("servicedesk:queue"), query).context["page"]
            start = (number - 1) * 50
            assert page.number == number, asked
            assert page.paginator.count == len(expected), asked
            assert [line.pk for line in page.object_list] == expected[start : start + 50], asked
        empty = client.get(reverse("servicedesk:queue"), {"q": "没有这个词"}).context["page"]
        assert (empty.number, empty.paginator.count, list(empty.object_list)) == (1, 0, [])

    def test_a_tab_total_taken_from_the_counts_matches_the_rows(self, personas):
        p = personas
        for n in range(3):
            phone_repair(p, description=f"漏水{n}")
        closed = phone_repair(p, category="electrical")
        services.request_cancel(actor=p.clerk_a, request=closed, reason="重复")
        client = desk(p)
        for query, total in (
            ({}, 4),
            ({"status": "submitted"}, 3),
            ({"open_only": "on"}, 3),
            ({"status": "cancelled"}, 1),
            ({"status": "submitted", "category": "electrical"}, 0),
            ({"open_only": "on", "category": "plumbing"}, 3),
        ):
            page = client.get(reverse("servicedesk:queue"), query).context["page"]
            assert page.paginator.count == total == len(page.object_list), query

    def test_query_count_does_not_grow_with_rows(self, personas, django_assert_max_num_queries):
        p = personas
        # Rows with every relation the list shows, so each is read once already.
        first = phone_repair(p)
        services.request_dispatch(
            actor=p.dispatcher_a, request=first, assignee=p.technician_a, team=p.team_a
        )
        complaint(p, unit=None, common_area=p.lobby_a)
        client = desk(p)
        with CaptureQueriesContext(connection) as few:
            client.get(reverse("servicedesk:queue"))
        building = make_building(p.estate_a, "3号楼")
        team = Team.objects.create(estate=p.estate_a, name="保洁组")
        for n in range(20):
            unit = make_unit(building, f"{n + 1:02d}01")
            _owner, resident = make_owner(f"o{n}", f"业主{n}", f"1390000{n:04d}", unit)
            request = phone_repair(p, unit=unit, reporter=resident)
            if n % 2:
                services.request_dispatch(
                    actor=p.dispatcher_a, request=request, assignee=p.technician_a
                )
            else:
                services.request_dispatch(actor=p.dispatcher_a, request=request, team=team)
            complaint(
                p, unit=None, reporter=None, common_area=p.lobby_a, contact_phone="13600000000"
            )
        with django_assert_max_num_queries(len(few)):
            response = client.get(reverse("servicedesk:queue"))
        assert len(response.context["page"].object_list) == 42


# ----------------------------------------------------------------------------- recording a call


def record_values(p, **extra):
    return {
        "reporter": p.resident_a101.pk,
        "unit": p.unit_a101.pk,
        "contact_name": "张伟",
        "contact_phone": "13800138001",
        "channel": "phone",
        "kind": "repair",
        "category": "plumbing",
        "urgency": "normal",
        "description": "卫生间地漏堵塞",
    } | extra


class TestCallerLookup:
    @pytest.mark.parametrize("term", ["8001", "13800138001", "138 0013 8001", "张伟", "1号楼 101"])
    def test_finds_the_caller_by_phone_name_or_unit(self, personas, term):
        response = desk(personas).get(reverse("servicedesk:resident_lookup"), {"q": term})
        callers = response.context["callers"]
        assert [(c.resident, c.unit) for c in callers] == [
            (personas.resident_a101, personas.unit_a101)
        ]
        page = response.content.decode()
        assert "13800138001" in page and "<html" not in page
        assert f"resident={personas.resident_a101.pk}&amp;unit={personas.unit_a101.pk}" in page

    def test_a_unit_number_finds_everyone_living_there(self, personas):
        response = desk(personas).get(reverse("servicedesk:resident_lookup"), {"q": "102"})
        assert [c.resident for c in response.context["callers"]] == [personas.resident_a102]

    def test_residents_of_other_estates_are_not_found(self, personas):
        make_owner("owner_b", "张伟", "13800139999", personas.unit_b101)
        make_owner("owner_c", "张伟", "13800138888", personas.unit_c101)
        client = desk(personas)
        for term in ("9999", "8888", "13800139999"):
            assert (
                client.get(reverse("servicedesk:resident_lookup"), {"q": term}).context["callers"]
                == []
            )
        names = client.get(reverse("servicedesk:resident_lookup"), {"q": "张伟"})
        assert [c.resident for c in names.context["callers"]] == [personas.resident_a101]

    def test_nothing_typed_finds_nothing_and_says_nothing(self, personas):
        response = desk(personas).get(reverse("servicedesk:resident_lookup"), {"q": "  "})
        assert response.context["callers"] == []
        assert "Nobody found" not in response.content.decode()

    def test_without_javascript_the_record_page_shows_the_lookup(self, personas):
        response = desk(personas).get(reverse("servicedesk:record"), {"q": "8001"})
        assert [c.resident for c in response.context["callers"]] == [personas.resident_a101]

    def test_picking_a_caller_fills_who_and_where(self, personas):
        p = personas
        response = desk(p).get(
            reverse("servicedesk:record"), {"resident": p.resident_a101.pk, "unit": p.unit_a101.pk}
        )
        form = response.context["form"]
        assert form["reporter"].value() == p.resident_a101.pk
        assert form["unit"].value() == p.unit_a101.pk
        assert form["contact_name"].value() == "张伟"
        assert form["contact_phone"].value() == "13800138001"
        assert form["channel"].value() == "phone"
        assert response.context["caller"] == p.resident_a101

    def test_a_resident_of_another_company_cannot_be_picked(self, personas):
        _, stranger = make_owner("owner_c", "外人", "13800138888", personas.unit_c101)
        response = desk(personas).get(reverse("servicedesk:record"), {"resident": stranger.pk})
        assert response.context["form"]["reporter"].value() is None
        assert response.context["caller"] is None


class TestRecord:
    def test_records_a_phone_call_and_the_clerk_owns_it(self, personas):
        client = desk(personas)
        response = client.post(reverse("servicedesk:record"), record_values(personas))
        created = ServiceRequest.objects.get()
        assert response["Location"] == reverse("servicedesk:detail", args=[created.pk])
        assert (created.channel, created.first_contact, created.reporter) == (
            "phone",
            personas.clerk_a,
            personas.resident_a101,
        )
        assert (created.reporter_user, created.building) == (
            personas.owner_a101,
            personas.building_a1,
        )
        assert created.number.startswith("BX")

    def test_phone_call_with_lookup_then_dispatch_now(self, personas):
        p = personas
        client = desk(p)
        found = client.get(reverse("servicedesk:resident_lookup"), {"q": "8001"})
        caller = found.context["callers"][0]
        prefilled = client.get(
            reverse("servicedesk:record"), {"resident": caller.resident_id, "unit": caller.unit_id}
        ).context["form"]
        values = {name: prefilled[name].value() or "" for name in prefilled.fields}
        values |= {"category": "plumbing", "description": "厨房水管爆裂", "urgency": "urgent"}
        response = client.post(reverse("servicedesk:record"), values | {"then": "dispatch"})
        created = ServiceRequest.objects.get()
        assert response["Location"] == act_url(created, "dispatch")
        form_page = client.get(response["Location"])
        assert form_page.status_code == 200
        assert 'name="dispatch-assignee"' in form_page.content.decode()
        done = step(client, created, "dispatch", assignee=p.technician_a.pk)
        assert done["Location"] == reverse("servicedesk:detail", args=[created.pk])
        created = fresh(created)
        assert (created.status, created.assignee, created.first_contact) == (
            Status.DISPATCHED,
            p.technician_a,
            p.clerk_a,
        )
        assert (created.reporter, created.contact_phone, created.urgency) == (
            p.resident_a101,
            "13800138001",
            "urgent",
        )

    def test_save_and_dispatch_of_a_complaint_goes_to_its_page(self, personas):
        values = record_values(personas, kind="complaint", category="noise_neighbor")
        response = desk(personas).post(reverse("servicedesk:record"), values | {"then": "dispatch"})
        created = ServiceRequest.objects.get()
        assert response["Location"] == reverse("servicedesk:detail", args=[created.pk])

    def test_a_common_area_instead_of_a_unit(self, personas):
        values = record_values(personas, unit="", common_area=personas.lobby_a.pk, reporter="")
        desk(personas).post(reverse("servicedesk:record"), values)
        created = ServiceRequest.objects.get()
        assert (created.common_area, created.unit, created.reporter) == (
            personas.lobby_a,
            None,
            None,
        )

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"description": ""}, "description"),
            ({"description": "漏" * 2001}, "description"),
            ({"unit": "999999"}, "unit"),
            ({"unit": "abc"}, "unit"),
            ({"reporter": "999999"}, "reporter"),
            ({"category": "dragons"}, "category"),
            ({"channel": "portal"}, "channel"),
            ({"contact_phone": "12345"}, "contact_phone"),
            ({"contact_phone": "", "reporter": ""}, "contact_phone"),
            ({"contact_name": "张" * 65}, "contact_name"),
            ({"common_area": "LOBBY"}, "common_area"),
            ({"appointment_start": "2099-01-01T10:00"}, "appointment_end"),
            (
                {"appointment_start": "2099-01-01T10:00", "appointment_end": "2099-01-01T09:00"},
                "appointment_end",
            ),
            ({"appointment_start": "soon", "appointment_end": "later"}, "appointment_start"),
        ],
    )
    def test_bad_input_is_shown_on_the_form_and_records_nothing(self, personas, change, field):
        response = desk(personas).post(
            reverse("servicedesk:record"), record_values(personas, **change)
        )
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert not ServiceRequest.objects.exists()
        assert not AuditEvent.objects.filter(code=DeskEvent.CREATED).exists()

    def test_a_unit_and_a_common_area_at_once_is_refused(self, personas):
        values = record_values(personas, common_area=personas.lobby_a.pk)
        response = desk(personas).post(reverse("servicedesk:record"), values)
        assert response.context["form"].errors["unit"]
        assert not ServiceRequest.objects.exists()

    @pytest.mark.parametrize("where", ["unit_b101", "unit_c101"])
    def test_a_unit_of_another_estate_is_not_a_choice(self, personas, where):
        values = record_values(personas, unit=getattr(personas, where).pk)
        response = desk(personas).post(reverse("servicedesk:record"), values)
        assert response.context["form"].errors["unit"]
        assert not ServiceRequest.objects.exists()

    def test_a_resident_of_another_company_is_not_a_choice(self, personas):
        _, stranger = make_owner("owner_c", "外人", "13800138888", personas.unit_c101)
        values = record_values(personas, reporter=stranger.pk)
        response = desk(personas).post(reverse("servicedesk:record"), values)
        assert response.context["form"].errors["reporter"]
        assert not ServiceRequest.objects.exists()

    def test_hostile_text_is_stored_as_typed_and_shown_escaped(self, personas):
        client = desk(personas)
        client.post(
            reverse("servicedesk:record"),
            record_values(personas, description=HOSTILE, location_note=HOSTILE),
        )
        created = ServiceRequest.objects.get()
        assert created.description == HOSTILE
        page = client.get(reverse("servicedesk:detail", args=[created.pk])).content.decode()
        assert ESCAPED in page and HOSTILE not in page


# ----------------------------------------------------------------------------- a request's page


class TestDetail:
    def test_shows_the_owner_of_the_request_and_everything_about_it(self, personas):
        p = personas
        request = phone_repair(p, location_note="厨房水槽下")
        services.request_dispatch(actor=p.dispatcher_a, request=request, assignee=p.technician_a)
        response = desk(p, p.manager_a).get(reverse("servicedesk:detail", args=[request.pk]))
        page = response.content.decode()
        first_contact = page.index("First-contact owner")
        assert first_contact < page.index("Description")
        assert "陈客服" in page[first_contact : page.index("Description")]
        for text in ("1号楼 101", "厨房水槽下", "张伟", "厨房水龙头漏水", "王师傅", "周调度"):
            assert text in page
        assert 'href="tel:13800138001"' in page
        assert "Dispatched to 王师傅" in page

    def test_handler_trail_keeps_every_hop(self, personas):
        p = personas
        other = make_staff("tech_a2", "李师傅", p.estate_a, Role.TECHNICIAN)
        request = phone_repair(p)
        services.request_dispatch(actor=p.dispatcher_a, request=request, assignee=p.technician_a)
        services.request_transfer(
            actor=p.dispatcher_a, request=request, assignee=other, reason="王师傅请假"
        )
        response = desk(p).get(reverse("servicedesk:detail", args=[request.pk]))
        trail = list(response.context["req"].handlings.all())
        assert [(h.handler, h.outcome) for h in trail] == [
            (p.technician_a, Handling.Outcome.TRANSFERRED),
            (other, ""),
        ]
        page = response.content.decode()
        assert "王师傅请假" in page and "Transferred" in page

    def test_offers_the_steps_the_clerk_may_take(self, personas):
        request = phone_repair(personas)
        response = desk(personas).get(reverse("servicedesk:detail", args=[request.pk]))
        offered = [panel.action for panel in response.context["panels"]]
        assert offered == ["accept", "dispatch", "decline", "cancel_by_desk", "reclassify"]
        page = response.content.decode()
        assert f'name="accept-version" value="{request.version}"' in page

    def test_the_dispatch_form_offers_field_staff_and_teams_of_the_estate(self, personas):
        p = personas
        make_staff("tech_b", "B座师傅", p.estate_b, Role.TECHNICIAN)
        Team.objects.create(estate=p.estate_b, name="B座工程部")
        request = phone_repair(p)
        page = desk(p).get(reverse("servicedesk:detail", args=[request.pk])).content.decode()
        assert "王师傅" in page and "孙保安" in page and "工程部" in page
        assert "B座师傅" not in page and "B座工程部" not in page

    def test_rating_and_return_visit_are_shown(self, personas):
        p = personas
        request = complaint(p)
        services.request_investigate(actor=p.clerk_a, request=request)
        services.request_reply(actor=p.clerk_a, request=request, reply="已与邻居沟通")
        services.request_confirm(actor=p.owner_a102, request=request)
        services.request_rate(actor=p.owner_a102, request=request, overall=2, comment="还是吵")
        response = desk(p).get(reverse("servicedesk:detail", args=[request.pk]))
        page = response.content.decode()
        assert "已与邻居沟通" in page and "还是吵" in page and "2★" in page
        visit = ReturnVisit.objects.get(request=request)
        assert reverse("servicedesk:visit_record", args=[visit.pk]) in page

    def test_the_timeline_fragment(self, personas):
        request = phone_repair(personas)
        client = desk(personas)
        response = client.get(
            reverse("servicedesk:timeline", args=[request.pk]), HTTP_HX_REQUEST="true"
        )
        assert response.status_code == 200
        assert "Recorded by the service desk" in response.content.decode()

    def test_unknown_step_is_a_404(self, personas):
        request = phone_repair(personas)
        client = desk(personas)
        assert client.post(act_url(request, "explode"), {}).status_code == 404
        assert client.post(act_url(request, "take"), {}).status_code == 404


class TestSteps:
    def test_accept(self, personas):
        request = owner_request = services.request_create(
            actor=personas.owner_a101,
            estate=personas.estate_a,
            kind=Kind.REPAIR,
            category="plumbing",
            description="漏水",
            unit=personas.unit_a101,
        )
        client = desk(personas)
        response = client.post(
            act_url(request, "accept"), {"accept-version": request.version}, follow=True
        )
        assert "Accepted." in flashes(response)
        owner_request = fresh(owner_request)
        assert (owner_request.status, owner_request.first_contact) == (
            Status.ACCEPTED,
            personas.clerk_a,
        )

    def test_a_stale_page_is_refused_and_writes_nothing(self, personas):
        p = personas
        request = phone_repair(p)
        shown = request.version
        services.request_accept(actor=p.dispatcher_a, request=request)
        events = AuditEvent.objects.count()
        client = desk(p)
        response = client.post(
            act_url(request, "dispatch"),
            {"dispatch-version": shown, "dispatch-assignee": p.technician_a.pk},
            follow=True,
        )
        assert response.redirect_chain[-1][0] == reverse("servicedesk:detail", args=[request.pk])
        assert any(STALE in message for message in flashes(response))
        request = fresh(request)
        assert (request.status, request.assignee) == (Status.ACCEPTED, None)
        assert AuditEvent.objects.count() == events
        assert not Handling.objects.filter(request=request).exists()

    def test_a_missing_version_is_an_error_not_a_write(self, personas):
        request = phone_repair(personas)
        response = desk(personas).post(act_url(request, "accept"), {})
        assert response.status_code == 200
        assert response.context["panels"][0].form.errors["version"]
        assert fresh(request).status == Status.SUBMITTED

    @pytest.mark.parametrize("action", ["decline", "cancel_by_desk", "hold"])
    @pytest.mark.parametrize(("reason", "message"), [("", "required"), ("x" * 501, "at most")])
    def test_a_missing_or_oversized_reason(self, personas, action, reason, message):
        p = personas
        request = phone_repair(p)
        if action == "hold":
            services.request_accept(actor=p.clerk_a, request=request)
        before = fresh(request).status
        response = step(desk(p), request, action, reason=reason)
        assert response.status_code == 200
        bound = next(panel for panel in response.context["panels"] if panel.action == action)
        assert message in " ".join(bound.form.errors["reason"]).lower()
        assert f'id="panel-{action}" open' in response.content.decode()
        assert fresh(request).status == before

    def test_decline_and_cancel_with_a_reason(self, personas):
        p = personas
        client = desk(p)
        declined = phone_repair(p)
        step(client, declined, "decline", reason="不属于物业范围")
        assert (fresh(declined).status, fresh(declined).close_reason) == (
            Status.DECLINED,
            "不属于物业范围",
        )
        cancelled = phone_repair(p)
        step(client, cancelled, "cancel_by_desk", reason="业主已自行处理")
        assert fresh(cancelled).status == Status.CANCELLED

    @pytest.mark.parametrize("who", ["unknown", "other_estate", "resident_user"])
    def test_dispatch_to_someone_not_working_here_is_refused(self, personas, who):
        p = personas
        people = {
            "unknown": lambda: 999999,
            "other_estate": lambda: make_staff("tech_b", "B座师傅", p.estate_b, Role.TECHNICIAN).pk,
            "resident_user": lambda: p.owner_a101.pk,
        }
        request = phone_repair(p)
        response = step(desk(p), request, "dispatch", assignee=people[who]())
        assert response.status_code == 200
        bound = next(panel for panel in response.context["panels"] if panel.action == "dispatch")
        assert bound.form.errors["assignee"]
        request = fresh(request)
        assert (request.status, request.assignee) == (Status.SUBMITTED, None)

    def test_dispatch_to_a_team_of_another_estate_is_refused(self, personas):
        p = personas
        team_b = Team.objects.create(estate=p.estate_b, name="B座工程部")
        request = phone_repair(p)
        response = step(desk(p), request, "dispatch", team=team_b.pk)
        bound = next(panel for panel in response.context["panels"] if panel.action == "dispatch")
        assert bound.form.errors["team"]
        assert fresh(request).team is None

    def test_dispatch_to_nobody_is_refused_by_the_service(self, personas):
        request = phone_repair(personas)
        response = step(desk(personas), request, "dispatch")
        bound = next(panel for panel in response.context["panels"] if panel.action == "dispatch")
        assert bound.form.errors["assignee"]
        assert fresh(request).status == Status.SUBMITTED

    def test_dispatch_to_a_team(self, personas):
        request = phone_repair(personas)
        step(desk(personas, personas.dispatcher_a), request, "dispatch", team=personas.team_a.pk)
        request = fresh(request)
        assert (request.status, request.team, request.assignee) == (
            Status.DISPATCHED,
            personas.team_a,
            None,
        )

    def test_transfer_hold_and_resume(self, personas):
        p = personas
        other = make_staff("tech_a2", "李师傅", p.estate_a, Role.TECHNICIAN)
        request = phone_repair(p)
        services.request_dispatch(actor=p.dispatcher_a, request=request, assignee=p.technician_a)
        client = desk(p, p.dispatcher_a)
        missing = step(client, request, "transfer", assignee=other.pk, reason="")
        assert missing.status_code == 200 and fresh(request).assignee == p.technician_a
        step(client, request, "transfer", assignee=other.pk, reason="换人")
        assert fresh(request).assignee == other
        step(client, request, "hold", reason="等配件")
        assert (fresh(request).status, fresh(request).hold_reason) == (Status.ON_HOLD, "等配件")
        step(client, request, "resume")
        assert fresh(request).status == Status.DISPATCHED

    def test_confirm_for_the_owner_and_reopen(self, personas):
        p = personas
        client = desk(p)
        for action, status in (("confirm", Status.CLOSED), ("reopen", Status.DISPATCHED)):
            request = phone_repair(p)
            services.request_dispatch(
                actor=p.dispatcher_a, request=request, assignee=p.technician_a
            )
            services.request_arrive(actor=p.technician_a, request=request)
            services.request_complete(actor=p.technician_a, request=request, work_notes="换阀芯")
            step(client, request, action, reason="还在漏")
            assert fresh(request).status == status

    def test_investigate_a_complaint_with_another_handler(self, personas):
        p = personas
        request = complaint(p)
        step(desk(p), request, "investigate", assignee=p.manager_a.pk)
        request = fresh(request)
        assert (request.status, request.assignee) == (Status.INVESTIGATING, p.manager_a)

    def test_investigate_with_a_person_of_another_company_is_refused(self, personas):
        request = complaint(personas)
        response = step(desk(personas), request, "investigate", assignee=personas.outsider.pk)
        assert response.status_code == 200
        assert fresh(request).status == Status.SUBMITTED

    def test_picking_a_reply_template_fills_the_reply(self, personas):
        p = personas
        mine = services.reply_template_create(
            actor=p.manager_a,
            company=p.company,
            kind=Kind.COMPLAINT,
            title="已协调",
            body="已协调施工时间",
        )
        services.reply_template_create(
            actor=p.manager_a, company=p.company, kind=Kind.INQUIRY, title="缴费", body="前台缴费"
        )
        theirs = services.reply_template_create(
            actor=p.outsider, company=p.other_company, kind=Kind.COMPLAINT, title="外", body="外司"
        )
        request = complaint(p)
        services.request_investigate(actor=p.clerk_a, request=request)
        client = desk(p)
        url = reverse("servicedesk:detail", args=[request.pk])
        page = client.get(url)
        assert [t.title for t in page.context["reply_templates"]] == ["已协调"]
        assert f"?reply_template={mine.pk}" in page.content.decode()
        picked = client.get(url, {"reply_template": mine.pk}).content.decode()
        assert 'id="panel-reply" open' in picked
        assert "已协调施工时间</textarea>" in picked
        other = client.get(url, {"reply_template": theirs.pk}).content.decode()
        assert "外司" not in other
        alone = client.get(act_url(request, "reply")).content.decode()
        assert 'name="reply-reply"' in alone and f"?reply_template={mine.pk}" in alone
        step(client, request, "reply", reply="已协调施工时间，下午六点后不再施工")
        assert fresh(request).status == Status.REPLIED

    def test_a_reply_that_is_too_long_or_empty(self, personas):
        request = complaint(personas)
        services.request_investigate(actor=personas.clerk_a, request=request)
        client = desk(personas)
        for text in ("", "长" * 2001):
            response = step(client, request, "reply", reply=text)
            assert response.status_code == 200
            assert fresh(request).status == Status.INVESTIGATING

    def test_hostile_reasons_are_shown_escaped(self, personas):
        request = phone_repair(personas)
        client = desk(personas)
        step(client, request, "decline", reason=HOSTILE)
        page = client.get(reverse("servicedesk:detail", args=[request.pk])).content.decode()
        assert ESCAPED in page and HOSTILE not in page

    def test_a_step_no_longer_possible_says_so(self, personas):
        request = phone_repair(personas)
        services.request_decline(actor=personas.clerk_a, request=request, reason="重复")
        client = desk(personas)
        response = client.get(act_url(request, "dispatch"), follow=True)
        assert "not possible now" in " ".join(flashes(response))
        posted = step(client, request, "accept")
        assert posted.status_code == 302
        assert fresh(request).status == Status.DECLINED


# ----------------------------------------------------------------------------- return visits


def closed_complaint(p, **extra):
    request = complaint(p, **extra)
    services.request_investigate(actor=p.clerk_a, request=request)
    services.request_reply(actor=p.clerk_a, request=request, reply="已处理")
    services.request_confirm(actor=p.clerk_a, request=request)
    return ReturnVisit.objects.get(request=request)


def closed_repair_with_visit(p):
    services.desk_settings_update(
        actor=p.manager_a, company=p.company, visit_policy={Kind.REPAIR: "always"}
    )
    request = phone_repair(p)
    services.request_dispatch(actor=p.dispatcher_a, request=request, assignee=p.technician_a)
    services.request_arrive(actor=p.technician_a, request=request)
    services.request_complete(actor=p.technician_a, request=request, work_notes="换阀芯")
    services.request_confirm(actor=p.clerk_a, request=request)
    return ReturnVisit.objects.get(request=request)


class TestReturnVisits:
    def test_due_visits_of_the_estate_overdue_first(self, personas, time_machine):
        p = personas
        time_machine.move_to(dt.datetime(2026, 4, 1, 9, tzinfo=dt.UTC))
        early = closed_complaint(p)
        time_machine.move_to(dt.datetime(2026, 4, 3, 9, tzinfo=dt.UTC))
        later = closed_complaint(p)
        time_machine.move_to(dt.datetime(2026, 4, 5, 9, tzinfo=dt.UTC))
        response = desk(p).get(reverse("servicedesk:visit_list"))
        assert list(response.context["page"].object_list) == [early, later]
        page = response.content.decode()
        assert page.count("overdue</span>") == 1
        outsider = personas.client_for(p.clerk_b).get(reverse("servicedesk:visit_list"))
        assert list(outsider.context["page"].object_list) == []

    def test_record_a_satisfied_owner(self, personas):
        visit = closed_complaint(personas)
        client = desk(personas)
        response = client.post(
            reverse("servicedesk:visit_record", args=[visit.pk]),
            {"method": "phone", "outcome": "satisfied", "note": "业主满意"},
        )
        assert response["Location"] == reverse("servicedesk:visit_list")
        visit.refresh_from_db()
        assert (visit.outcome, visit.done_by, visit.note) == (
            "satisfied",
            personas.clerk_a,
            "业主满意",
        )
        again = client.get(reverse("servicedesk:visit_record", args=[visit.pk]))
        assert again.status_code == 302

    def test_an_unhappy_owner_gets_the_repair_reopened(self, personas):
        visit = closed_repair_with_visit(personas)
        desk(personas).post(
            reverse("servicedesk:visit_record", args=[visit.pk]),
            {"method": "phone", "outcome": "unsatisfied", "note": "还在漏", "follow_up": "reopen"},
        )
        assert fresh(visit.request).status == Status.DISPATCHED

    def test_an_unhappy_owner_gets_a_complaint_opened(self, personas):
        visit = closed_repair_with_visit(personas)
        desk(personas).post(
            reverse("servicedesk:visit_record", args=[visit.pk]),
            {"method": "phone", "outcome": "unsatisfied", "follow_up": "complaint"},
        )
        follow_up = ServiceRequest.objects.get(kind=Kind.COMPLAINT)
        assert follow_up.related_to == visit.request

    @pytest.mark.parametrize(
        ("values", "field"),
        [
            ({"method": "phone"}, "outcome"),
            ({"method": "pigeon", "outcome": "satisfied"}, "method"),
            ({"method": "phone", "outcome": "satisfied", "note": "x" * 1001}, "note"),
            ({"method": "phone", "outcome": "satisfied", "follow_up": "reopen"}, "follow_up"),
            ({"method": "phone", "outcome": "unsatisfied", "follow_up": "reopen"}, "follow_up"),
            ({"method": "phone", "outcome": "satisfied", "follow_up": "sue"}, "follow_up"),
        ],
    )
    def test_bad_input_records_nothing(self, personas, values, field):
        visit = closed_complaint(personas)
        response = desk(personas).post(reverse("servicedesk:visit_record", args=[visit.pk]), values)
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        visit.refresh_from_db()
        assert visit.done_at is None
        assert not AuditEvent.objects.filter(code=DeskEvent.VISIT_DONE).exists()

    def test_hostile_note_shown_escaped(self, personas):
        visit = closed_complaint(personas)
        client = desk(personas)
        client.post(
            reverse("servicedesk:visit_record", args=[visit.pk]),
            {"method": "phone", "outcome": "satisfied", "note": HOSTILE},
        )
        page = client.get(reverse("servicedesk:detail", args=[visit.request_id])).content.decode()
        assert ESCAPED in page and HOSTILE not in page


# ----------------------------------------------------------------------------- templates, settings


class TestReplyTemplates:
    def test_manager_creates_edits_and_deletes(self, personas):
        client = desk(personas, personas.manager_a)
        created = client.post(
            reverse("servicedesk:template_create"),
            {"kind": "inquiry", "title": "缴费方式", "body": "可在前台或线上缴纳"},
        )
        assert created["Location"] == reverse("servicedesk:template_list")
        template = ReplyTemplate.objects.get()
        assert (template.company, template.kind) == (personas.company, "inquiry")
        client.post(
            reverse("servicedesk:template_edit", args=[template.pk]),
            {"kind": "inquiry", "title": "缴费方式", "body": "前台、微信均可缴纳"},
        )
        assert ReplyTemplate.objects.get().body == "前台、微信均可缴纳"
        client.post(reverse("servicedesk:template_delete", args=[template.pk]))
        assert not ReplyTemplate.objects.exists()
        codes = list(
            AuditEvent.objects.filter(code__startswith="servicedesk.template")
            .order_by("at", "id")
            .values_list("code", flat=True)
        )
        assert codes == [
            DeskEvent.TEMPLATE_CREATED,
            DeskEvent.TEMPLATE_UPDATED,
            DeskEvent.TEMPLATE_DELETED,
        ]

    def test_the_desk_reads_them_by_kind(self, personas, world):
        services.reply_template_create(
            actor=personas.manager_a,
            company=personas.company,
            kind="inquiry",
            title="缴费",
            body="x",
        )
        client = desk(personas)
        every = client.get(reverse("servicedesk:template_list"))
        assert {t.title for t in every.context["templates"]} == {"已联系", "缴费"}
        assert reverse("servicedesk:template_create") not in every.content.decode()
        inquiries = client.get(reverse("servicedesk:template_list"), {"kind": "inquiry"})
        assert [t.title for t in inquiries.context["templates"]] == ["缴费"]
        other = personas.client_for(personas.outsider).get(reverse("servicedesk:template_list"))
        assert list(other.context["templates"]) == []

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"title": ""}, "title"),
            ({"title": "x" * 101}, "title"),
            ({"body": ""}, "body"),
            ({"body": "x" * 2001}, "body"),
            ({"kind": "gossip"}, "kind"),
        ],
    )
    def test_bad_input_saves_nothing(self, personas, change, field):
        values = {"kind": "inquiry", "title": "缴费", "body": "前台"} | change
        response = desk(personas, personas.manager_a).post(
            reverse("servicedesk:template_create"), values
        )
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert not ReplyTemplate.objects.exists()

    def test_hostile_titles_shown_escaped(self, personas):
        client = desk(personas, personas.manager_a)
        client.post(
            reverse("servicedesk:template_create"),
            {"kind": "inquiry", "title": HOSTILE, "body": HOSTILE},
        )
        page = client.get(reverse("servicedesk:template_list")).content.decode()
        assert ESCAPED in page and HOSTILE not in page

    def test_services_refuse_outsiders_and_the_desk(self, personas, world):
        from django.core.exceptions import PermissionDenied
        from django.http import Http404

        with pytest.raises(Http404):
            services.reply_template_create(
                actor=personas.outsider,
                company=personas.company,
                kind="inquiry",
                title="x",
                body="x",
            )
        with pytest.raises(PermissionDenied):
            services.reply_template_update(
                actor=personas.clerk_a, template=world["template"], title="改"
            )
        with pytest.raises(PermissionDenied):
            services.desk_settings_update(
                actor=personas.clerk_a, company=personas.company, auto_rating=1
            )


SETTINGS = {
    "auto_rate_after_hours": "24",
    "auto_rating": "4",
    "return_visit_within_hours": "48",
    "visit_repair": "low_ratings",
    "visit_complaint": "always",
    "visit_inquiry": "never",
    "visit_suggestion": "never",
    "visit_praise": "never",
    "offered_categories": Category.values,
}


class TestDeskSettings:
    def test_the_form_shows_the_defaults(self, personas):
        response = desk(personas, personas.manager_a).get(reverse("servicedesk:settings"))
        form = response.context["form"]
        assert form["auto_rate_after_hours"].value() == 48
        assert form["visit_repair"].value() == DeskSettings.VisitPolicy.IF_NOT_RATED

    def test_manager_changes_the_rules(self, personas):
        client = desk(personas, personas.company_admin)
        response = client.post(reverse("servicedesk:settings"), SETTINGS)
        assert response["Location"] == reverse("servicedesk:settings")
        saved = DeskSettings.objects.get(company=personas.company)
        assert (
            saved.auto_rate_after_hours,
            saved.auto_rating,
            saved.return_visit_within_hours,
        ) == (
            24,
            4,
            48,
        )
        assert saved.visit_policy_for(Kind.REPAIR) == "low_ratings"
        event = AuditEvent.objects.get(code=DeskEvent.SETTINGS_UPDATED)
        assert event.after["auto_rating"] == 4 and event.before["auto_rating"] == 5
        assert (
            client.get(reverse("servicedesk:settings")).context["form"]["auto_rating"].value() == 4
        )

    @pytest.mark.parametrize(
        ("change", "field"),
        [
            ({"auto_rate_after_hours": "0"}, "auto_rate_after_hours"),
            ({"auto_rate_after_hours": "soon"}, "auto_rate_after_hours"),
            ({"auto_rating": "9"}, "auto_rating"),
            ({"return_visit_within_hours": ""}, "return_visit_within_hours"),
            ({"visit_repair": "sometimes"}, "visit_repair"),
        ],
    )
    def test_bad_input_saves_nothing(self, personas, change, field):
        response = desk(personas, personas.manager_a).post(
            reverse("servicedesk:settings"), SETTINGS | change
        )
        assert response.status_code == 200
        assert response.context["form"].errors[field]
        assert not DeskSettings.objects.exists()
        assert not AuditEvent.objects.filter(code=DeskEvent.SETTINGS_UPDATED).exists()

    def test_settings_of_the_managers_own_company_only(self, personas):
        personas.client_for(personas.outsider).post(reverse("servicedesk:settings"), SETTINGS)
        assert not DeskSettings.objects.filter(company=personas.company).exists()
        assert DeskSettings.objects.get(company=personas.other_company).auto_rating == 4


def test_return_visit_list_query_count_does_not_grow(personas, django_assert_max_num_queries):
    client = desk(personas)
    closed_complaint(personas)
    with CaptureQueriesContext(connection) as few:
        client.get(reverse("servicedesk:visit_list"))
    for _ in range(10):
        closed_complaint(personas, unit=None, common_area=personas.lobby_a)
        closed_repair_with_visit(personas)
    with django_assert_max_num_queries(len(few)):
        response = client.get(reverse("servicedesk:visit_list"))
    assert len(response.context["page"].object_list) == 21
