"""The API: the same rules as the pages, in JSON — the second pair of eyes, stale versions
answered 409, bad input 422 on its field, lists that do not grow in queries."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.models import AuditEvent
from jiayuan.supervision import services
from jiayuan.supervision.models import ImprovementAction, RectificationOrder
from jiayuan.supervision.tests.conftest import jpeg, pdf


def test_an_inspection_with_its_snapshot_items(world):
    order = world.finding()
    body = ApiClient(world.p.clerk_a).get(f"/supervision/inspections/{order.inspection_id}").json()
    assert body["score"] == 97.0 and body["status"] == "submitted"
    first = body["items"][0]
    assert (first["points"], first["max_points"], first["order_id"]) == (7, 10, order.pk)
    assert body["items"][1]["order_id"] is None
    listed = ApiClient(world.p.manager_a).get("/supervision/inspections", area="cleaning").json()
    assert listed["count"] == 1
    assert (
        ApiClient(world.p.manager_a)
        .get("/supervision/inspections", area="greening")
        .json()["count"]
        == 0
    )


def test_fix_then_verify_over_the_api_with_the_second_pair_of_eyes(world):
    order = world.finding(photo=jpeg())
    owner = ApiClient(world.cleaner)
    missing = owner.post_files(
        f"/supervision/orders/{order.pk}/fix", {"version": "1", "note": "已清理"}
    )
    assert missing.status_code == 422 and "after_photo" in field_errors(missing)
    fixed = owner.post_files(
        f"/supervision/orders/{order.pk}/fix",
        {"version": "1", "note": "已清理", "after_photo": jpeg()},
    )
    assert fixed.status_code == 200 and fixed.json()["status"] == "fixed"
    assert fixed.json()["has_after_photo"] and fixed.json()["actions"] == []
    refused = owner.post(f"/supervision/orders/{order.pk}/verify", {"version": 2})
    assert refused.status_code == 403
    assert refused.json()["detail"] == "The owner of an order cannot verify their own fix."
    clerk = ApiClient(world.p.clerk_a)
    assert clerk.get(f"/supervision/orders/{order.pk}").json()["actions"] == ["verify", "reject"]
    stale = clerk.post(f"/supervision/orders/{order.pk}/verify", {"version": 1})
    assert stale.status_code == 409
    verified = clerk.post(f"/supervision/orders/{order.pk}/verify", {"version": 2})
    assert verified.status_code == 200 and verified.json()["status"] == "verified"
    again = ApiClient(world.p.manager_a).post(
        f"/supervision/orders/{order.pk}/verify", {"version": 3}
    )
    assert again.status_code == 409


def test_a_fix_photo_that_is_a_pdf_is_refused(world):
    order = world.finding(photo=jpeg())
    answer = ApiClient(world.cleaner).post_files(
        f"/supervision/orders/{order.pk}/fix",
        {"version": "1", "note": "已清理", "after_photo": pdf()},
    )
    assert answer.status_code == 422 and "after_photo" in field_errors(answer)
    assert RectificationOrder.objects.get(pk=order.pk).status == "open"


def test_reject_needs_a_reason(world):
    order = world.fixed()
    answer = ApiClient(world.p.clerk_a).post(
        f"/supervision/orders/{order.pk}/reject", {"version": 2, "reason": "   "}
    )
    assert answer.status_code == 422 and field_errors(answer) == {
        "reason": "This field is required."
    }


def test_the_order_list_filters(world, morning):
    world.finding()
    morning.shift(timedelta(days=4))
    world.finding()
    client = ApiClient(world.p.manager_a)
    assert client.get("/supervision/orders").json()["count"] == 2
    assert client.get("/supervision/orders", overdue="true").json()["count"] == 1
    assert client.get("/supervision/orders", mine="true").json()["count"] == 0
    assert ApiClient(world.cleaner).get("/supervision/orders", mine="true").json()["count"] == 2
    assert client.get("/supervision/orders", estate=world.p.estate_c.pk).status_code == 404


def test_an_action_is_created_and_advanced_over_the_api(world):
    client = ApiClient(world.p.manager_a)
    order = world.finding()
    created = client.post(
        "/supervision/actions",
        {
            "estate": world.p.estate_a.pk,
            "title": "杜绝大堂水渍",
            "problem_kind": "finding",
            "order": order.pk,
            "owner": world.cleaner.pk,
            "due_on": "2026-06-20",
            "plan": "雨天每小时巡拖一次",
        },
    )
    assert created.status_code == 201, created.content
    action = created.json()
    assert action["order_id"] == order.pk and action["status"] == "plan"
    url = f"/supervision/actions/{action['id']}/advance"
    owner = ApiClient(world.cleaner)
    assert owner.post(url, {"version": 1}).json()["status"] == "do"
    missing = owner.post(url, {"version": 2, "done": "已执行"})
    assert missing.status_code == 422 and set(field_errors(missing)) == {"done_on"}
    done = owner.post(url, {"version": 2, "done": "已执行", "done_on": "2026-05-31"})
    assert done.json()["status"] == "check"
    checked = client.post(
        url,
        {
            "version": 3,
            "baseline_value": "6",
            "after_value": 1.5,
            "measured_on": "2026-06-01",
            "check_comment": "水渍发现次数下降",
        },
    )
    assert checked.json()["status"] == "act" and checked.json()["after_value"] == "1.50"
    bad_decision = client.post(url, {"version": 4, "act_decision": "forget", "act_note": "x"})
    assert bad_decision.status_code == 422 and set(field_errors(bad_decision)) == {"act_decision"}
    closed = client.post(
        url, {"version": 4, "act_decision": "next_cycle", "act_note": "下季度再查"}
    )
    assert closed.json()["status"] == "closed" and closed.json()["closed_at"]
    assert client.post(url, {"version": 5}).status_code == 409


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"owner": 999_999}, "owner"),
        ({"order": 999_999, "problem_kind": "finding"}, "order"),
        ({"kpi": "made_up", "problem_kind": "kpi"}, "kpi"),
        ({"due_on": "31/12/2026"}, "due_on"),
        ({"unknown": 1}, "unknown"),
    ],
)
def test_bad_actions_are_422_on_their_field(world, changes, field):
    body = {
        "estate": world.p.estate_a.pk,
        "title": "x",
        "problem_kind": "other",
        "problem_text": "x",
        "owner": world.cleaner.pk,
        "due_on": "2026-06-20",
        "plan": "x",
        **changes,
    }
    events = AuditEvent.objects.count()
    answer = ApiClient(world.p.manager_a).post("/supervision/actions", body)
    assert answer.status_code == 422 and field in field_errors(answer)
    assert AuditEvent.objects.count() == events and not ImprovementAction.objects.exists()


def test_an_order_of_another_company_cannot_be_named(world):
    services.checklist_create_defaults(actor=world.p.outsider, company=world.p.other_company)
    answer = ApiClient(world.p.outsider).post(
        "/supervision/actions",
        {
            "estate": world.p.estate_c.pk,
            "title": "x",
            "problem_kind": "finding",
            "order": world.finding().pk,
            "owner": world.p.outsider.pk,
            "due_on": "2026-06-20",
            "plan": "x",
        },
    )
    assert answer.status_code == 422 and field_errors(answer) == {"order": "Not found."}


@pytest.mark.parametrize(
    "url",
    [
        "/supervision/inspections",
        "/supervision/orders",
        "/supervision/actions",
        "/supervision/evaluations",
    ],
)
def test_list_endpoints_do_not_grow_in_queries(world, url):
    client = ApiClient(world.p.manager_a)

    def more(n):
        for _ in range(n):
            order = world.fixed()
            services.action_create(
                actor=world.p.manager_a,
                estate=world.p.estate_a,
                title="行动",
                problem_kind="finding",
                order=order,
                owner=world.cleaner,
                due_on=timezone.localdate(),
                plan="计划",
            )
            services.evaluation_add(
                actor=world.p.manager_a,
                estate=world.p.estate_a,
                evaluator="测评",
                evaluated_on=timezone.localdate(),
                score=90,
            )

    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        return len(captured)

    more(2)
    few = queries()
    more(5)
    assert queries() == few
