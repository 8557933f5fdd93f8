"""The pages: inspectors walk and submit, owners fix on the phone, someone else verifies;
outsiders find nothing; bad input is answered on its field; lists do not grow in queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jiayuan.core.models import AuditEvent
from jiayuan.supervision import services
from jiayuan.supervision.models import (
    Evaluation,
    ImprovementAction,
    Inspection,
    InspectionItem,
    RectificationOrder,
    Stage,
)
from jiayuan.supervision.tests.conftest import PDF, browser, jpeg, pdf

HOSTILE = "<script>alert(1)</script>"


def _form_of(inspection, **changes) -> dict:
    data = {}
    for item in inspection.items.all():
        data[f"item_{item.position}_points"] = str(item.points)
        data[f"item_{item.position}_note"] = item.note
    data.update(changes)
    return data


def _action(world, **changes):
    values = {
        "actor": world.p.manager_a,
        "estate": world.p.estate_a,
        "title": "提升保洁满意度",
        "problem_kind": "kpi",
        "kpi": "satisfaction",
        "owner": world.cleaner,
        "due_on": timezone.localdate() + timedelta(days=10),
        "plan": "每周两次大堂深度保洁",
    }
    return services.action_create(**{**values, **changes})


# ----------------------------------------------------------------------------- inspections


def test_an_inspector_starts_walks_and_submits_an_inspection(world):
    client = browser(world.p.clerk_a)
    assert client.get("/supervision/inspections/new/").status_code == 200
    started = client.post(
        "/supervision/inspections/new/",
        {"template": world.cleaning.pk, "inspected_at": "2026-06-01T09:30"},
    )
    inspection = Inspection.objects.get()
    assert started.status_code == 302 and started["Location"].endswith(f"/{inspection.pk}/")
    page = client.get(f"/supervision/inspections/{inspection.pk}/")
    assert page.status_code == 200 and "大堂地面无污渍" in page.content.decode()

    form = _form_of(
        inspection,
        item_1_points="6",
        item_1_note=HOSTILE,
        item_1_photo=jpeg(),
        owner=str(world.cleaner.pk),
        deadline="2026-06-04T18:00",
        submit="1",
    )
    submitted = client.post(f"/supervision/inspections/{inspection.pk}/", form)
    assert submitted.status_code == 302
    inspection.refresh_from_db()
    assert inspection.status == "submitted" and float(inspection.score) == 96.0
    order = RectificationOrder.objects.get()
    assert order.owner == world.cleaner and order.before_photo
    text = client.get(f"/supervision/inspections/{inspection.pk}/").content.decode()
    assert HOSTILE not in text and "&lt;script&gt;" in text
    assert client.get(f"/supervision/items/{order.inspection_item_id}/thumb/").status_code == 200


def test_points_above_the_maximum_are_a_form_error_and_nothing_is_saved(world):
    inspection = world.inspection()
    client = browser(world.p.manager_a)
    events = AuditEvent.objects.count()
    answer = client.post(
        f"/supervision/inspections/{inspection.pk}/",
        _form_of(inspection, item_1_points="15", submit="0"),
    )
    assert answer.status_code == 200
    assert "Ensure this value is less than or equal to 10." in answer.content.decode()
    assert set(inspection.items.values_list("points", flat=True)) == {10}
    assert AuditEvent.objects.count() == events


def test_a_missing_finding_is_shown_under_its_item(world):
    inspection = world.inspection()
    answer = browser(world.p.manager_a).post(
        f"/supervision/inspections/{inspection.pk}/",
        _form_of(
            inspection,
            item_2_points="5",
            owner=str(world.cleaner.pk),
            deadline="2026-06-04T18:00",
            submit="1",
        ),
    )
    assert answer.status_code == 200
    assert "Write the finding for an item below full marks." in answer.content.decode()
    inspection.refresh_from_db()
    assert inspection.is_draft and inspection.points == 100


def test_a_file_that_is_not_an_image_is_refused_on_its_item(world):
    inspection = world.inspection()
    fake = pdf("photo.jpg")
    answer = browser(world.p.manager_a).post(
        f"/supervision/inspections/{inspection.pk}/",
        _form_of(inspection, item_3_photo=fake, submit="0"),
    )
    assert answer.status_code == 200
    assert "is not an image that can be read" in answer.content.decode()
    assert not InspectionItem.objects.exclude(photo="").exists()


def test_a_submitted_inspection_is_read_only(world):
    order = world.finding()
    client = browser(world.p.manager_a)
    page = client.get(f"/supervision/inspections/{order.inspection_id}/").content.decode()
    assert 'name="item_1_points"' not in page and "Rectification order" in page
    assert client.post(f"/supervision/inspections/{order.inspection_id}/", {}).status_code == 404


def test_a_draft_can_be_discarded(world):
    inspection = world.inspection()
    answer = browser(world.p.manager_a).post(f"/supervision/inspections/{inspection.pk}/discard/")
    assert answer.status_code == 302 and not Inspection.objects.exists()


# ----------------------------------------------------------------------------- orders


def test_the_owner_marks_the_fix_on_the_phone_and_someone_else_verifies(world):
    order = world.finding(photo=jpeg())
    phone = browser(world.cleaner)
    mine = phone.get("/supervision/orders/").content.decode()
    assert "大堂地面无污渍" in mine
    detail = phone.get(f"/supervision/orders/{order.pk}/").content.decode()
    assert "Mark fixed" in detail and "Verified: close the order" not in detail
    without_photo = phone.post(
        f"/supervision/orders/{order.pk}/fix/", {"fix-version": order.version, "fix-note": "已清理"}
    )
    assert without_photo.status_code == 422
    assert "Add a photo of the result" in without_photo.content.decode()
    fixed = phone.post(
        f"/supervision/orders/{order.pk}/fix/",
        {"fix-version": order.version, "fix-note": "已清理", "fix-after_photo": jpeg()},
    )
    assert fixed.status_code == 302
    order.refresh_from_db()
    assert order.status == "fixed" and order.after_photo
    # The owner is offered no verification, and a forged one is refused.
    assert (
        "Verified: close the order"
        not in phone.get(f"/supervision/orders/{order.pk}/").content.decode()
    )
    assert (
        phone.post(
            f"/supervision/orders/{order.pk}/verify/", {"verify-version": order.version}
        ).status_code
        == 403
    )
    clerk = browser(world.p.clerk_a)
    assert (
        "Verified: close the order"
        in clerk.get(f"/supervision/orders/{order.pk}/").content.decode()
    )
    verified = clerk.post(
        f"/supervision/orders/{order.pk}/verify/", {"verify-version": order.version}
    )
    assert verified.status_code == 302
    order.refresh_from_db()
    assert order.status == "verified" and order.verified_by == world.p.clerk_a
    for stage in ("before", "after"):
        assert phone.get(f"/supervision/orders/{order.pk}/thumb/{stage}/").status_code == 200


def test_a_stale_form_is_told_the_order_changed(world):
    order = world.fixed()
    client = browser(world.p.clerk_a)
    answer = client.post(
        f"/supervision/orders/{order.pk}/verify/", {"verify-version": 1}, follow=True
    )
    assert "Someone else changed this order meanwhile" in answer.content.decode()
    order.refresh_from_db()
    assert order.status == "fixed"


def test_a_rejection_without_reason_is_a_form_error(world):
    order = world.fixed()
    answer = browser(world.p.clerk_a).post(
        f"/supervision/orders/{order.pk}/reject/", {"reject-version": order.version}
    )
    assert answer.status_code == 422 and "This field is required." in answer.content.decode()
    order.refresh_from_db()
    assert order.status == "fixed"


def test_field_staff_see_only_the_orders_they_own(world):
    mine = world.finding()
    other = services.order_open(
        actor=world.p.manager_a,
        estate=world.p.estate_a,
        area="security",
        finding="东门岗外来车辆未登记",
        owner=world.p.security_a,
        deadline=world.deadline(),
    )
    page = browser(world.cleaner).get("/supervision/orders/").content.decode()
    assert mine.finding[:20] in page and "东门岗" not in page
    assert browser(world.cleaner).get(f"/supervision/orders/{other.pk}/").status_code == 404
    # They have no inspection pages at all.
    assert browser(world.cleaner).get("/supervision/inspections/").status_code == 404


def test_a_manager_opens_an_order_by_hand(world):
    client = browser(world.p.manager_a)
    answer = client.post(
        "/supervision/orders/new/",
        {
            "area": "greening",
            "finding": "中心花园有枯枝",
            "owner": world.cleaner.pk,
            "deadline": "2026-06-03T18:00",
        },
    )
    assert answer.status_code == 302
    assert RectificationOrder.objects.get().finding == "中心花园有枯枝"
    assert browser(world.p.clerk_a).get("/supervision/orders/new/").status_code == 404


def test_the_overdue_filter_and_badge(world, morning):
    world.finding()
    morning.shift(timedelta(days=4))
    client = browser(world.p.manager_a)
    assert "Overdue" in client.get("/supervision/orders/?overdue=on").content.decode()
    world.finding()
    assert len(client.get("/supervision/orders/?overdue=on").context["page"].object_list) == 1


# ----------------------------------------------------------------------------- evaluations


def test_evaluations_with_their_trend_and_report(world):
    client = browser(world.p.manager_a)
    for day, score, report in (("2026-03-01", "86.5", pdf()), ("2026-05-20", "89", jpeg())):
        answer = client.post(
            "/supervision/evaluations/new/",
            {
                "evaluator": "卓越测评",
                "evaluated_on": day,
                "score": score,
                "scope": HOSTILE,
                "report": report,
            },
        )
        assert answer.status_code == 302
    page = client.get("/supervision/evaluations/")
    text = page.content.decode()
    assert "+2.5" in text and "<polyline" in text and HOSTILE not in text
    first = Evaluation.objects.get(score="86.5")
    report = client.get(f"/supervision/evaluations/{first.pk}/report/")
    assert report.status_code == 200 and report["Content-Type"] == "application/pdf"
    assert report["Content-Security-Policy"] == "sandbox"
    assert b"".join(report.streaming_content) == PDF


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"report": "not a file"}, "The report must be a PDF or an image."),
        ({"score": "101"}, "Ensure this value is less than or equal to 100."),
        ({"evaluator": ""}, "This field is required."),
    ],
)
def test_bad_evaluations_are_form_errors(world, changes, message):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = {"evaluator": "卓越测评", "evaluated_on": "2026-05-01", "score": "90"}
    data.update(changes)
    if data.get("report") == "not a file":
        data["report"] = SimpleUploadedFile("r.pdf", b"#!/bin/sh\nrm -rf /\n")
    answer = browser(world.p.manager_a).post("/supervision/evaluations/new/", data)
    assert answer.status_code == 200 and message in answer.content.decode()
    assert not Evaluation.objects.exists()


# ----------------------------------------------------------------------------- improvements


def test_an_action_is_created_and_moved_round_the_loop_from_the_pages(world):
    client = browser(world.p.manager_a)
    answer = client.post(
        "/supervision/actions/new/",
        {
            "title": "减少停车投诉",
            "problem_kind": "complaints",
            "complaint_category": "parking",
            "period_start": "2026-04-01",
            "period_end": "2026-04-30",
            "owner": world.p.security_a.pk,
            "due_on": "2026-06-30",
            "plan": "晚高峰增派人员",
        },
    )
    action = ImprovementAction.objects.get()
    assert answer.status_code == 302 and action.status == Stage.PLAN
    owner = browser(world.p.security_a)
    steps = [
        {"plan": "晚高峰增派人员疏导"},
        {"done": "增派两周", "done_on": "2026-05-30"},
        {
            "baseline_value": "15",
            "after_value": "6",
            "measured_on": "2026-06-01",
            "check_comment": "减少9起",
        },
        {"act_decision": "standardise", "act_note": "纳入岗位手册"},
    ]
    for step in steps:
        action.refresh_from_db()
        answer = owner.post(
            f"/supervision/actions/{action.pk}/advance/", {"version": action.version, **step}
        )
        assert answer.status_code == 302, answer.content.decode()
    action.refresh_from_db()
    assert action.status == Stage.CLOSED and float(action.after_value) == 6
    assert "Standardise" in owner.get(f"/supervision/actions/{action.pk}/").content.decode()


def test_advancing_without_the_stage_fields_is_a_form_error(world):
    action = services.action_advance(actor=world.p.manager_a, action=_action(world))
    answer = browser(world.p.manager_a).post(
        f"/supervision/actions/{action.pk}/advance/", {"version": action.version, "done": HOSTILE}
    )
    assert answer.status_code == 422 and "This field is required." in answer.content.decode()
    action.refresh_from_db()
    assert action.status == Stage.DO and action.done == ""


def test_the_action_filters(world, morning):
    late = _action(world, title="逾期的行动", due_on=timezone.localdate() - timedelta(days=1))
    _action(world, title="另一个人的行动", owner=world.p.security_a)
    client = browser(world.p.manager_a)

    def titles(query):
        return [a.title for a in client.get(f"/supervision/actions/{query}").context["page"]]

    assert titles("?overdue=on") == [late.title]
    assert titles(f"?owner={world.p.security_a.pk}") == ["另一个人的行动"]
    assert titles("?status=closed") == []
    assert len(titles("")) == 2


# ----------------------------------------------------------------------------- refusals


def _every_url(world):
    order = world.fixed()
    inspection = world.inspection()
    evaluation = services.evaluation_add(
        actor=world.p.manager_a,
        estate=world.p.estate_a,
        evaluator="测评",
        evaluated_on=timezone.localdate(),
        score=90,
        report=pdf(),
    )
    action = _action(world, problem_kind="finding", order=order, kpi="")
    details = [
        f"/supervision/checklists/{world.cleaning.pk}/",
        f"/supervision/inspections/{inspection.pk}/",
        f"/supervision/items/{inspection.items.first().pk}/photo/",
        f"/supervision/orders/{order.pk}/",
        f"/supervision/orders/{order.pk}/photo/after/",
        f"/supervision/evaluations/{evaluation.pk}/report/",
        f"/supervision/actions/{action.pk}/",
    ]
    writes = [
        f"/supervision/inspections/{inspection.pk}/",
        f"/supervision/inspections/{inspection.pk}/discard/",
        f"/supervision/orders/{order.pk}/verify/",
        f"/supervision/orders/{order.pk}/reject/",
        f"/supervision/actions/{action.pk}/advance/",
    ]
    lists = [
        "/supervision/inspections/",
        "/supervision/orders/",
        "/supervision/actions/",
        "/supervision/evaluations/",
        "/supervision/checklists/",
    ]
    return details, writes, lists


@pytest.mark.parametrize("who", ["outsider", "owner_a101", "stranger"])
def test_people_outside_the_estate_find_nothing(world, who):
    details, writes, lists = _every_url(world)
    client = browser(getattr(world.p, who))
    for url in details:
        assert client.get(url).status_code == 404, url
    events = AuditEvent.objects.count()
    statuses = {}
    for url in writes:
        statuses[url] = client.post(
            url, {"version": 2, "verify-version": 2, "reject-reason": "x"}
        ).status_code
    assert set(statuses.values()) == {404}, statuses
    assert AuditEvent.objects.count() == events
    assert RectificationOrder.objects.get().status == "fixed"
    for url in lists:
        answer = client.get(url)
        assert answer.status_code in (200, 404), url
        if answer.status_code == 200:
            assert (
                "大堂" not in answer.content.decode() and "测评" not in answer.content.decode()
            ), url


def test_the_other_companys_checklists_are_not_listed(world):
    page = browser(world.p.outsider).get("/supervision/checklists/").content.decode()
    assert "保洁品质巡查表" not in page


def test_anonymous_visitors_are_sent_to_sign_in(world):
    details, _writes, lists = _every_url(world)
    client = browser(world.p.stranger)
    client.logout()
    for url in details + lists:
        answer = client.get(url)
        assert answer.status_code == 302 and "/login" in answer["Location"], url


def test_the_menu_shows_supervision_by_role(world):
    manager = browser(world.p.manager_a).get("/supervision/orders/").content.decode()
    assert "/supervision/inspections/" in manager and "/supervision/actions/" in manager
    cleaner = browser(world.cleaner).get("/supervision/orders/").content.decode()
    assert 'href="/supervision/orders/"' in cleaner
    assert 'href="/supervision/inspections/"' not in cleaner


# ----------------------------------------------------------------------------- query counts


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _more_rows(world, n):
    for _ in range(n):
        order = world.fixed()
        services.order_verify(actor=world.p.clerk_a, order=order)
        _action(world, problem_kind="finding", order=order, kpi="")
        services.evaluation_add(
            actor=world.p.manager_a,
            estate=world.p.estate_a,
            evaluator="测评",
            evaluated_on=timezone.localdate(),
            score=90,
        )


@pytest.mark.parametrize(
    "url",
    [
        "/supervision/inspections/",
        "/supervision/orders/",
        "/supervision/actions/",
        "/supervision/evaluations/",
        "/supervision/checklists/",
    ],
)
def test_list_pages_do_not_grow_in_queries_with_rows(world, url):
    client = browser(world.p.manager_a)
    _more_rows(world, 2)
    client.get(url)  # the switcher's estates are read once, then kept (decisions §35)
    few = _queries(client, url)
    _more_rows(world, 6)
    assert _queries(client, url) == few
