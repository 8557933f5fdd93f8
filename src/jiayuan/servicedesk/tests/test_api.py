"""The service desk over the API: intake, every step with its version, the owner's and the
staff's view of one request, filters and pages, photos, ratings and return visits."""

import io
from datetime import timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from PIL import Image

from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import make_unit
from jiayuan.org.models import Residency, Resident
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import ReturnVisit, ServiceRequest

pytestmark = pytest.mark.django_db

NOW = timezone.make_aware(timezone.datetime(2026, 11, 24, 10, 0))


def jpeg(name="leak.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), "navy").save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def owner_report(p, client=None, **changes):
    body = {
        "estate": p.estate_a.pk,
        "kind": "repair",
        "category": "plumbing",
        "description": "厨房水龙头一直滴水",
        "unit": p.unit_a101.pk,
        **changes,
    }
    return (client or ApiClient(p.owner_a101)).post("/requests", body)


def step(p, user, request_id, action, version, **fields):
    return ApiClient(user).post(
        f"/requests/{request_id}/actions/{action}", {"version": version, **fields}
    )


def actions_of(body) -> set[str]:
    return {a["action"] for a in body["allowed_actions"]}


# ----------------------------------------------------------------------------- intake


def test_an_owner_reports_a_repair(personas):
    p = personas
    response = owner_report(p)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("BX") and body["status"] == "submitted"
    assert body["channel"] == "portal" and body["first_contact"] is None
    assert body["version"] == 1 and body["place"]
    assert body["contact_phone"] == "13800138001"  # their own number, in full
    detail = ApiClient(p.owner_a101).get(f"/requests/{body['id']}").json()
    assert detail["reporter"]["id"] == p.resident_a101.pk
    assert actions_of(detail) == {"cancel"}
    assert detail["handlings"] == [] and detail["return_visit"] is None
    created = ServiceRequest.objects.get(pk=body["id"])
    assert AuditEvent.objects.filter(target_id=str(created.pk)).count() == 1


def test_an_owners_reports_run_on_prepared_statements_on_postgresql(personas, settings):
    settings.PREPARED_STATEMENTS_AFTER = 2
    client = ApiClient(personas.owner_a101)
    for category in ("plumbing", "electrical", "hvac"):
        assert owner_report(personas, client, category=category).status_code == 201
    assert ServiceRequest.objects.count() == 3
    if connection.vendor == "postgresql":  # SQLite prepares nothing
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_prepared_statements")
            assert cursor.fetchone()[0] > 0
        assert connection.connection.prepare_threshold is None


def test_the_desk_records_a_call_and_becomes_first_contact(personas):
    p = personas
    response = ApiClient(p.clerk_a).post(
        "/requests",
        {
            "estate": p.estate_a.pk,
            "kind": "complaint",
            "category": "noise_neighbor",
            "description": "楼上装修中午也在电钻",
            "unit": p.unit_a102.pk,
            "channel": "phone",
            "reporter": p.resident_a102.pk,
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"].startswith("TS")
    assert body["first_contact"]["id"] == p.clerk_a.pk
    assert body["contact_phone"] == p.resident_a102.mobile
    detail = ApiClient(p.clerk_a).get(f"/requests/{body['id']}").json()
    assert "investigate" in actions_of(detail)


def test_the_answer_to_a_report_says_what_the_request_itself_says(personas):
    """The new request is answered as a line of the list, worded from the row in hand
    (api._request_line): it must equal the same fields of the request's own answer, for an
    owner and for staff recording a call, named or known by their username only."""
    p = personas
    p.clerk_a.name = ""  # named by the username then
    p.clerk_a.save()
    reports = [
        (p.owner_a101, {"unit": p.unit_a101.pk}),
        (p.owner_a101, {"unit": None, "common_area": p.lobby_a.pk, "location_note": "<b>东门</b>"}),
        (
            p.clerk_a,
            {
                "kind": "complaint",
                "category": "noise_neighbor",
                "unit": p.unit_a102.pk,
                "channel": "phone",
                "reporter": p.resident_a102.pk,
            },
        ),
        (
            p.manager_a,
            {
                "channel": "staff",
                "unit": None,
                "common_area": p.lobby_a.pk,
                "contact_phone": "13600000000",
            },
        ),
    ]
    for caller, changes in reports:
        client = ApiClient(caller, language="zh-hans")
        answer = owner_report(p, client, **changes)
        assert answer.status_code == 201, answer.content
        line = answer.json()
        itself = client.get(f"/requests/{line['id']}").json()
        assert line == {name: itself[name] for name in line}, caller.username
        assert line["kind_label"] and line["status_label"] == "待受理" and line["place"]
    assert line["first_contact"] == {"id": p.manager_a.pk, "name": p.manager_a.name}
    clerks = ServiceRequest.objects.get(channel="phone")
    answered = ApiClient(p.clerk_a).get(f"/requests/{clerks.pk}").json()
    assert answered["first_contact"] == {"id": p.clerk_a.pk, "name": p.clerk_a.username}


def test_a_phone_call_without_a_number_is_refused_on_the_field(personas):
    p = personas
    before = ServiceRequest.objects.count()
    response = ApiClient(p.clerk_a).post(
        "/requests",
        {
            "estate": p.estate_a.pk,
            "kind": "inquiry",
            "category": "billing",
            "description": "物业费怎么交",
            "channel": "phone",
        },
    )
    assert response.status_code == 422
    assert "contact_phone" in field_errors(response)
    assert ServiceRequest.objects.count() == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"unit": "a102"}, "unit"),  # another owner's flat
        ({"unit": "b101"}, "unit"),  # a flat in another estate
        ({"common_area": 987654}, "common_area"),
        ({"category": "teleportation"}, "category"),
        ({"kind": "wish"}, "kind"),
        ({"description": "   "}, "description"),
        ({"description": "漏" * 5001}, "description"),
        ({"description": "a\x00b"}, "description"),
        ({"appointment_start": "2026-11-20T09:00:00", "appointment_end": "2026-11-20T11:00"}, None),
        ({"appointment_start": "2026-11-25T11:00:00", "appointment_end": "2026-11-25T09:00"}, None),
        ({"channel": "phone"}, "channel"),
        ({"contact_name": "王先生"}, "contact_name"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_input_is_answered_on_its_field_and_nothing_is_written(personas, changes, field):
    p = personas
    units = {"a102": p.unit_a102.pk, "b101": p.unit_b101.pk}
    if changes.get("unit") in units:
        changes = {**changes, "unit": units[changes["unit"]]}
    before = (ServiceRequest.objects.count(), AuditEvent.objects.count())
    with time_machine.travel(NOW, tick=False):
        response = owner_report(p, **changes)
    assert response.status_code == 422, response.content
    errors = field_errors(response)
    assert errors and all(errors.values())
    if field:
        assert field in errors
    assert (ServiceRequest.objects.count(), AuditEvent.objects.count()) == before


def test_a_time_without_offset_is_read_in_local_time(personas):
    p = personas
    with time_machine.travel(NOW, tick=False):
        response = owner_report(
            p, appointment_start="2026-11-25T09:00:00", appointment_end="2026-11-25T11:00:00"
        )
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(pk=response.json()["id"])
    assert timezone.localtime(created.appointment_start).hour == 9


def test_an_owner_reports_about_a_common_area(personas):
    p = personas
    response = owner_report(p, unit=None, common_area=p.lobby_a.pk, category="cleaning")
    assert response.status_code == 201, response.content
    created = ServiceRequest.objects.get(pk=response.json()["id"])
    assert (created.estate, created.common_area, created.unit) == (p.estate_a, p.lobby_a, None)
    assert created.reporter == p.resident_a101
    assert response.json()["place"] == str(p.lobby_a)


def test_staff_of_another_estate_report_as_owners_where_they_live(personas):
    p = personas
    resident = Resident.objects.create(
        company=p.estate_b.company, user=p.outsider, name="外人", mobile="13900139009"
    )
    Residency.objects.create(resident=resident, unit=p.unit_b101, relation="owner")
    mine = owner_report(p, ApiClient(p.outsider), estate=p.estate_b.pk, unit=p.unit_b101.pk)
    assert mine.status_code == 201, mine.content
    created = ServiceRequest.objects.get(pk=mine.json()["id"])
    assert (created.channel, created.reporter_user, created.first_contact) == (
        "portal",
        p.outsider,
        None,
    )


def test_people_outside_the_estate_cannot_report_there(personas):
    p = personas
    for user in (p.outsider, p.stranger):
        assert owner_report(p, ApiClient(user)).status_code == 404
    assert ServiceRequest.objects.count() == 0


# ----------------------------------------------------------------------------- the steps


def test_a_repair_goes_round_the_loop_through_the_api(personas):
    p = personas
    created = owner_report(p).json()
    rid = created["id"]
    body = step(p, p.clerk_a, rid, "accept", 1).json()
    assert body["status"] == "accepted" and body["first_contact"]["id"] == p.clerk_a.pk
    body = step(p, p.dispatcher_a, rid, "dispatch", 2, assignee=p.technician_a.pk).json()
    assert body["status"] == "dispatched" and body["assignee"]["id"] == p.technician_a.pk
    tech = ApiClient(p.technician_a).get(f"/requests/{rid}").json()
    assert {"take", "arrive", "return", "hold"} <= actions_of(tech)
    body = step(p, p.technician_a, rid, "take", 3).json()
    body = step(p, p.technician_a, rid, "arrive", body["version"]).json()
    assert body["status"] == "in_progress" and body["arrived_at"]
    body = step(
        p,
        p.technician_a,
        rid,
        "complete",
        body["version"],
        work_notes="更换阀芯",
        is_paid=True,
        labour_fee="30",
        materials=[{"item": "阀芯", "unit_price": "25.5", "quantity": "2"}],
    ).json()
    assert body["status"] == "completed" and body["charge_total"] == "81.00"
    owner = ApiClient(p.owner_a101)
    assert actions_of(owner.get(f"/requests/{rid}").json()) == {"confirm", "reopen"}
    body = step(p, p.owner_a101, rid, "confirm", body["version"]).json()
    assert body["status"] == "closed" and body["can_rate"] is True
    rating = owner.post(f"/requests/{rid}/rating", {"overall": 5, "tags": ["准时"]})
    assert rating.status_code == 201 and rating.json()["timeliness"] == 5
    staff_view = ApiClient(p.clerk_a).get(f"/requests/{rid}").json()
    assert staff_view["rating"]["overall"] == 5
    (hop,) = staff_view["handlings"]
    assert hop["handler"]["id"] == p.technician_a.pk and hop["outcome"] == "completed"
    owner_timeline = owner.get(f"/requests/{rid}/timeline").json()
    staff_timeline = ApiClient(p.clerk_a).get(f"/requests/{rid}/timeline").json()
    assert owner_timeline[0]["text"] and len(staff_timeline) > len(owner_timeline)
    assert owner.get(f"/requests/{rid}").json()["handlings"] == []


def test_a_step_on_an_old_version_is_a_conflict_and_writes_nothing(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    assert step(p, p.clerk_a, rid, "accept", 1).status_code == 200
    events = AuditEvent.objects.count()
    late = step(p, p.dispatcher_a, rid, "dispatch", 1, assignee=p.technician_a.pk)
    assert late.status_code == 409
    assert "Someone else changed this request" in late.json()["detail"]
    assert ServiceRequest.objects.get(pk=rid).status == "accepted"
    assert AuditEvent.objects.count() == events


def test_a_step_that_is_no_longer_possible_is_a_conflict(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    step(p, p.owner_a101, rid, "cancel", 1)
    response = ApiClient(p.clerk_a).post(f"/requests/{rid}/actions/accept", {"version": 2})
    assert response.status_code == 409
    assert "no longer possible" in response.json()["detail"]


def test_an_unknown_step_or_a_field_the_step_does_not_take_is_422(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    unknown = step(p, p.clerk_a, rid, "teleport", 1)
    assert unknown.status_code == 422 and "action" in field_errors(unknown)
    extra = step(p, p.clerk_a, rid, "accept", 1, reason="因为")
    assert extra.status_code == 422 and "reason" in field_errors(extra)
    missing = ApiClient(p.clerk_a).post(f"/requests/{rid}/actions/accept", {})
    assert missing.status_code == 422 and "version" in field_errors(missing)
    assert ServiceRequest.objects.get(pk=rid).version == 1


def test_a_step_needing_a_reason_without_one_is_422(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    response = step(p, p.clerk_a, rid, "decline", 1)
    assert response.status_code == 422 and "reason" in field_errors(response)


def test_dispatch_to_someone_outside_the_estate_is_refused_on_the_field(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    response = step(p, p.dispatcher_a, rid, "dispatch", 1, assignee=p.clerk_b.pk)
    assert response.status_code == 422 and "assignee" in field_errors(response)
    response = step(p, p.dispatcher_a, rid, "dispatch", 1)
    assert response.status_code == 422 and "assignee" in field_errors(response)


def test_people_without_the_role_are_refused(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    assert step(p, p.owner_a101, rid, "accept", 1).status_code == 403
    # A technician sees only the work sent to them.
    assert step(p, p.technician_a, rid, "accept", 1).status_code == 404
    # Another owner, another estate's desk and another company do not even see it.
    for user in (p.owner_a102, p.clerk_b, p.outsider):
        assert step(p, user, rid, "cancel", 1).status_code == 404
        assert ApiClient(user).get(f"/requests/{rid}").status_code == 404
    assert ServiceRequest.objects.get(pk=rid).version == 1


def test_return_to_the_pool_and_reassign(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    step(p, p.dispatcher_a, rid, "dispatch", 1, assignee=p.technician_a.pk)
    body = step(p, p.technician_a, rid, "return", 2, reason="缺少配件").json()
    assert body["status"] == "accepted" and body["assignee"] is None
    body = step(p, p.dispatcher_a, rid, "dispatch", body["version"], team=p.team_a.pk).json()
    assert body["team"]["id"] == p.team_a.pk and body["status"] == "dispatched"


def test_a_rating_is_given_once(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    request = ServiceRequest.objects.get(pk=rid)
    services.request_dispatch(actor=p.dispatcher_a, request=request, assignee=p.technician_a)
    services.request_arrive(actor=p.technician_a, request=request)
    services.request_complete(actor=p.technician_a, request=request, work_notes="修好了")
    services.request_confirm(actor=p.owner_a101, request=request)
    owner = ApiClient(p.owner_a101)
    assert owner.post(f"/requests/{rid}/rating", {"overall": 6}).status_code == 422
    assert (
        ApiClient(p.owner_a102).post(f"/requests/{rid}/rating", {"overall": 5}).status_code == 404
    )
    assert owner.post(f"/requests/{rid}/rating", {"overall": 4}).status_code == 201
    again = owner.post(f"/requests/{rid}/rating", {"overall": 1})
    assert again.status_code == 409 and "already been rated" in again.json()["detail"]


# ----------------------------------------------------------------------------- photos


def test_photos_are_uploaded_and_served_only_to_those_who_see_the_request(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    owner = ApiClient(p.owner_a101)
    response = owner.post_files(f"/requests/{rid}/photos", {"photos": [jpeg(), jpeg("b.jpg")]})
    assert response.status_code == 201, response.content
    first = response.json()[0]
    assert first["stage"] == "report"
    full = owner.client.get(first["url"])
    assert full.status_code == 200 and full["Content-Type"] == "image/jpeg"
    assert ApiClient(p.clerk_a).client.get(first["thumbnail_url"]).status_code == 200
    assert ApiClient(p.owner_a102).client.get(first["url"]).status_code == 404
    detail = owner.get(f"/requests/{rid}").json()
    assert len(detail["photos"]) == 2


def test_a_file_that_is_not_an_image_is_refused(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    fake = SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not a picture", content_type="image/jpeg")
    response = ApiClient(p.owner_a101).post_files(f"/requests/{rid}/photos", {"photos": [fake]})
    assert response.status_code == 422
    assert ServiceRequest.objects.get(pk=rid).photos.count() == 0


def test_at_most_nine_photos(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    files = [jpeg(f"{n}.jpg") for n in range(10)]
    response = ApiClient(p.owner_a101).post_files(f"/requests/{rid}/photos", {"photos": files})
    assert response.status_code == 422
    assert ServiceRequest.objects.get(pk=rid).photos.count() == 0


# ----------------------------------------------------------------------------- lists


def _many(p, n):
    for i in range(n):
        services.request_create(
            actor=p.clerk_a,
            estate=p.estate_a,
            kind="repair" if i % 2 else "inquiry",
            category="electrical" if i % 3 else "plumbing",
            description=f"第{i}个请求",
            unit=p.unit_a101 if i % 2 else None,
            common_area=None if i % 2 else p.lobby_a,
            contact_phone="13900001111",
        )


def test_the_list_filters_and_pages(personas):
    p = personas
    _many(p, 12)
    desk = ApiClient(p.clerk_a)
    page = desk.get("/requests", page_size=5)
    assert page.json()["count"] == 12 and len(page.json()["items"]) == 5
    repairs = desk.get("/requests", kind="repair").json()
    assert repairs["count"] == 6 and {r["kind"] for r in repairs["items"]} == {"repair"}
    plumbing = desk.get("/requests", category="plumbing", kind="repair").json()
    assert all(r["category"] == "plumbing" for r in plumbing["items"])
    found = desk.get("/requests", q="第7个").json()
    assert [r["description"] for r in found["items"]] == ["第7个请求"]
    in_building = desk.get("/requests", building=p.building_a1.pk).json()
    assert in_building["count"] == 12
    assert desk.get("/requests", estate=p.estate_c.pk).status_code == 404
    assert desk.get("/requests", status="flying").status_code == 422
    # The other estate's desk and the owners see none of these (they were not reported
    # by an owner).
    assert ApiClient(p.clerk_b).get("/requests").json()["count"] == 0
    assert ApiClient(p.owner_a101).get("/requests").json()["count"] == 0


def test_an_owner_lists_only_their_own_requests(personas):
    p = personas
    mine = owner_report(p).json()["id"]
    theirs = owner_report(p, ApiClient(p.owner_a102), unit=p.unit_a102.pk).json()["id"]
    listed = ApiClient(p.owner_a101).get("/requests").json()
    assert [r["id"] for r in listed["items"]] == [mine]
    assert theirs != mine


def test_a_phone_is_masked_for_staff_who_do_not_call_owners(personas):
    p = personas
    owner_report(p)
    shown = ApiClient(p.security_a).get("/requests").json()["items"]
    assert all("****" in r["contact_phone"] for r in shown)
    assert ApiClient(p.clerk_a).get("/requests").json()["items"][0]["contact_phone"] == (
        "13800138001"
    )


def test_each_line_of_the_list_says_what_the_request_itself_says(personas):
    """The list reads its page as values and words them itself (api._request_lines); for
    every caller, each line must equal the same fields of the request's own answer, which
    is read from the row: places, people, masked or whole phones, staff-only deadlines."""
    p = personas
    with_entrance = make_unit(p.building_a1, "1502")
    with_entrance.entrance = "2单元"
    with_entrance.save()
    p.technician_a.name = ""  # named by the username then
    p.technician_a.save()
    owners = owner_report(p).json()["id"]
    services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind="complaint",
        category="noise_neighbor",
        description="<script>alert(1)</script> 楼上装修太吵",
        common_area=p.lobby_a,
        location_note="东门",
        contact_name="路人",
        contact_phone="13600000000",
    )
    dispatched = services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind="repair",
        category="electrical",
        urgency="urgent",
        description="楼道灯不亮",
        unit=with_entrance,
        contact_phone="13600000001",
    )
    services.request_accept(actor=p.clerk_a, request=dispatched)
    services.request_dispatch(
        actor=p.dispatcher_a, request=dispatched, assignee=p.technician_a, team=p.team_a
    )
    callers = [p.clerk_a, p.security_a, p.technician_a, p.owner_a101, p.dispatcher_a]
    seen = 0
    for caller in callers:
        client = ApiClient(caller, language="zh-hans")
        for params in ({}, {"estate": p.estate_a.pk}):
            listed = client.get("/requests", **params)
            if listed.status_code == 404:  # an owner picks no estate of staff
                continue
            for line in listed.json()["items"]:
                itself = client.get(f"/requests/{line['id']}").json()
                assert line == {name: itself[name] for name in line}, caller.username
                seen += 1
    listed = {r["id"]: r for r in ApiClient(p.clerk_a).get("/requests").json()["items"]}
    assert listed[dispatched.pk]["place"] == "1号楼 2单元 1502"
    assert listed[dispatched.pk]["assignee"] == {
        "id": p.technician_a.pk,
        "name": p.technician_a.username,
    }
    assert listed[dispatched.pk]["team"] == {"id": p.team_a.pk, "name": p.team_a.name}
    assert listed[dispatched.pk]["due_at"] is not None
    owner_sees = ApiClient(p.owner_a101).get("/requests").json()["items"]
    assert [r["id"] for r in owner_sees] == [owners] and owner_sees[0]["due_at"] is None
    security_sees = ApiClient(p.security_a).get("/requests").json()["items"]
    assert all("****" in r["contact_phone"] for r in security_sees)
    technician_sees = ApiClient(p.technician_a).get("/requests").json()["items"]
    assert [r["contact_phone"] for r in technician_sees] == ["13600000001"]
    assert seen >= 14


@pytest.mark.parametrize("one_estate", [False, True])
def test_the_list_reads_the_same_number_of_queries_for_any_page_size(personas, one_estate):
    p = personas
    _many(p, 30)
    desk = ApiClient(p.clerk_a)
    params = {"estate": p.estate_a.pk} if one_estate else {}
    desk.get("/requests", page_size=2, **params)  # warm the session and permission caches
    with CaptureQueriesContext(connection) as small:
        assert len(desk.get("/requests", page_size=3, **params).json()["items"]) == 3
    with CaptureQueriesContext(connection) as large:
        assert len(desk.get("/requests", page_size=30, **params).json()["items"]) == 30
    assert len(large) == len(small)


# ----------------------------------------------------------------------------- visits


def test_return_visits_are_listed_and_recorded_once(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    request = ServiceRequest.objects.get(pk=rid)
    visit = ReturnVisit.objects.create(request=request, due_at=timezone.now() + timedelta(days=1))
    desk = ApiClient(p.clerk_a)
    listed = desk.get("/return-visits", estate=p.estate_a.pk).json()
    assert [v["id"] for v in listed["items"]] == [visit.pk]
    assert ApiClient(p.owner_a101).get("/return-visits").json()["count"] == 0
    bad = desk.post(f"/return-visits/{visit.pk}", {"method": "pigeon", "outcome": "satisfied"})
    assert bad.status_code == 422 and "method" in field_errors(bad)
    done = desk.post(f"/return-visits/{visit.pk}", {"method": "phone", "outcome": "satisfied"})
    assert done.status_code == 200 and done.json()["done_at"]
    again = desk.post(f"/return-visits/{visit.pk}", {"method": "phone", "outcome": "satisfied"})
    assert again.status_code == 409
    assert (
        ApiClient(p.outsider)
        .post(f"/return-visits/{visit.pk}", {"method": "phone", "outcome": "satisfied"})
        .status_code
        == 404
    )


def test_reply_templates_are_listed_per_kind(personas):
    p = personas
    services.reply_template_create(
        actor=p.manager_a, company=p.company, kind="inquiry", title="停水", body="今晚恢复。"
    )
    services.reply_template_create(
        actor=p.manager_a, company=p.company, kind="complaint", title="致歉", body="非常抱歉。"
    )
    desk = ApiClient(p.clerk_a)
    inquiry = desk.get("/reply-templates", estate=p.estate_a.pk, kind="inquiry").json()
    assert [t["title"] for t in inquiry["items"]] == ["停水"]
    assert desk.get("/reply-templates").json()["count"] == 2
    assert ApiClient(p.outsider).get("/reply-templates").json()["count"] == 0


def test_messages_follow_the_callers_language(personas):
    p = personas
    rid = owner_report(p).json()["id"]
    step(p, p.clerk_a, rid, "accept", 1)
    chinese = ApiClient(p.dispatcher_a, language="zh-hans").post(
        f"/requests/{rid}/actions/dispatch", {"version": 1, "assignee": p.technician_a.pk}
    )
    assert chinese.status_code == 409
    assert any("\u4e00" <= ch <= "\u9fff" for ch in chinese.json()["detail"])
