"""The services: scores, snapshots, findings that open orders, the order workflow with its
second pair of eyes, overdue notices, evaluation files and PDCA actions."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404
from django.utils import timezone

from jiayuan.comms.models import Notification
from jiayuan.core.access import forget_grants
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import make_staff
from jiayuan.org.models import Membership
from jiayuan.supervision import services, workflow
from jiayuan.supervision.checklists import DEFAULT_CHECKLISTS
from jiayuan.supervision.models import (
    Area,
    ChecklistTemplate,
    Evaluation,
    ImprovementAction,
    Inspection,
    InspectionItem,
    ProblemKind,
    RectificationOrder,
    Stage,
    score_of,
)
from jiayuan.supervision.tests.conftest import MORNING, jpeg, pdf

HOSTILE = "<script>alert(1)</script>"


def events(code: str) -> int:
    return AuditEvent.objects.filter(code=code).count()


# ----------------------------------------------------------------------------- checklists


def test_the_defaults_cover_five_areas_with_eight_to_twelve_items_each(world):
    assert set(DEFAULT_CHECKLISTS) == set(Area)
    assert all(8 <= len(items) <= 12 for _title, items in DEFAULT_CHECKLISTS.values())
    templates = ChecklistTemplate.objects.filter(company=world.p.company)
    assert templates.count() == 5
    assert events("supervision.checklist_defaults") == 1
    # A second time creates nothing and records nothing.
    assert (
        services.checklist_create_defaults(actor=world.p.manager_a, company=world.p.company) == []
    )
    assert templates.count() == 5 and events("supervision.checklist_defaults") == 1


@pytest.mark.parametrize("who", ["clerk_a", "technician_a"])
def test_only_managers_keep_checklists(world, who):
    with pytest.raises(PermissionDenied):
        services.checklist_save(
            actor=getattr(world.p, who),
            company=world.p.company,
            area=Area.CLEANING,
            title="新表",
            items=[("地面", 10, False)],
        )


def test_the_other_company_cannot_even_see_the_company(world):
    with pytest.raises(Http404):
        services.checklist_create_defaults(actor=world.p.outsider, company=world.p.company)
    with pytest.raises(Http404):
        services.checklist_save(
            actor=world.p.outsider,
            company=world.p.company,
            area=Area.CLEANING,
            title="x",
            items=[("x", 1, False)],
            template=world.cleaning,
        )


@pytest.mark.parametrize(
    "items, message",
    [
        ([], "A checklist needs at least one item."),
        ([("地面", 0, False)], "Enter a number from 1 to 100."),
        ([("地面", 101, False)], "Enter a number from 1 to 100."),
        ([("", 5, False)], "This field is required."),
        ([("地面", "十", False)], "Enter a whole number."),
    ],
)
def test_bad_checklist_items_are_refused_and_nothing_changes(world, items, message):
    before = list(world.cleaning.items.values_list("description", "points"))
    with pytest.raises(ValidationError) as refused:
        services.checklist_save(
            actor=world.p.manager_a,
            company=world.p.company,
            area=Area.CLEANING,
            title="保洁品质巡查表",
            items=items,
            template=world.cleaning,
        )
    assert refused.value.message_dict["items"] == [message]
    assert list(world.cleaning.items.values_list("description", "points")) == before


# ----------------------------------------------------------------------------- inspections


def test_score_is_points_over_maximum_times_one_hundred_to_one_decimal():
    assert score_of(93, 100) == Decimal("93.0")
    assert score_of(83, 90) == Decimal("92.2")  # 92.222…
    assert score_of(2, 3) == Decimal("66.7")  # 66.666… rounds half up
    assert score_of(0, 0) == Decimal("0")


def test_an_inspection_scores_by_hand(world):
    inspection = world.inspection()
    items = {i.position: i for i in inspection.items.all()}
    assert inspection.max_points == 100 and inspection.score == Decimal("100.0")
    services.inspection_record(
        actor=world.p.manager_a,
        inspection=inspection,
        results={
            items[1].pk: {"points": 7, "note": "水渍"},
            items[4].pk: {"points": 5, "note": "垃圾满溢"},
            items[9].pk: {"points": 0, "note": "清洁剂未上锁"},
        },
    )
    inspection.refresh_from_db()
    # 100 − 3 − 5 − 10 = 82 of 100.
    assert (inspection.points, inspection.score) == (82, Decimal("82.0"))


def test_an_inspection_keeps_the_items_it_started_with(world):
    inspection = world.inspection()
    services.checklist_save(
        actor=world.p.manager_a,
        company=world.p.company,
        template=world.cleaning,
        area=Area.CLEANING,
        title="保洁品质巡查表（新版）",
        items=[("只剩一项", 5, True)],
    )
    inspection.refresh_from_db()
    items = list(inspection.items.order_by("position"))
    default_items = DEFAULT_CHECKLISTS[Area.CLEANING][1]
    assert [i.description for i in items] == [d for d, _p, _c in default_items]
    assert inspection.max_points == 100 and inspection.template_title == "保洁品质巡查表"
    # A new inspection takes the new version.
    fresh = world.inspection()
    assert [(i.description, i.max_points) for i in fresh.items.all()] == [("只剩一项", 5)]


def test_points_above_the_maximum_are_refused_and_nothing_is_written(world):
    inspection = world.inspection()
    first, second = inspection.items.all()[:2]
    with pytest.raises(ValidationError) as refused:
        services.inspection_record(
            actor=world.p.manager_a,
            inspection=inspection,
            results={
                second.pk: {"points": 5, "note": "ok"},
                first.pk: {"points": 11, "note": "too many"},
            },
        )
    assert refused.value.message_dict == {"item_1": ["Enter a number from 0 to 10."]}
    assert (
        list(InspectionItem.objects.filter(inspection=inspection).values_list("points", flat=True))
        == [10] * 10
    )
    assert events("supervision.inspection_recorded") == 0


def test_a_photo_that_is_not_an_image_is_refused_on_its_item(world):
    inspection = world.inspection()
    first = inspection.items.first()
    fake = SimpleUploadedFile("x.jpg", b"MZ\x90\x00 not an image", content_type="image/jpeg")
    with pytest.raises(ValidationError) as refused:
        services.inspection_record(
            actor=world.p.manager_a,
            inspection=inspection,
            results={first.pk: {"points": 5, "note": "水渍"}},
            photos={first.pk: fake},
        )
    assert "is not an image that can be read" in refused.value.message_dict["item_1"][0]
    first.refresh_from_db()
    assert first.points == 10 and not first.photo


def test_an_oversized_photo_is_refused(world, settings):
    settings.REQUEST_PHOTO_MAX_BYTES = 100
    inspection = world.inspection()
    first = inspection.items.first()
    with pytest.raises(ValidationError) as refused:
        services.inspection_record(
            actor=world.p.manager_a, inspection=inspection, results={}, photos={first.pk: jpeg()}
        )
    assert "is larger than" in refused.value.message_dict["item_1"][0]


def test_submitting_needs_a_finding_for_every_item_below_full_marks(world):
    inspection = world.inspection()
    first, second = inspection.items.all()[:2]
    with pytest.raises(ValidationError) as refused:
        services.inspection_submit(
            actor=world.p.manager_a,
            inspection=inspection,
            results={first.pk: {"points": 8, "note": ""}, second.pk: {"points": 9, "note": "ok"}},
            owner=world.cleaner,
            deadline=world.deadline(),
        )
    assert refused.value.message_dict == {
        "item_1": ["Write the finding for an item below full marks."]
    }
    inspection.refresh_from_db()
    assert inspection.is_draft and not RectificationOrder.objects.exists()
    # Nothing of the refused submission was kept either.
    assert set(inspection.items.values_list("points", flat=True)) == {10}


def test_submitting_opens_one_order_per_finding_for_the_owner(world):
    inspection = world.inspection()
    items = list(inspection.items.all())
    services.inspection_submit(
        actor=world.p.manager_a,
        inspection=inspection,
        results={
            items[0].pk: {"points": 6, "note": HOSTILE},
            items[2].pk: {"points": 8, "note": "消防通道堆放纸箱"},
        },
        photos={items[0].pk: jpeg()},
        owner=world.cleaner,
        deadline=world.deadline(),
    )
    inspection.refresh_from_db()
    assert inspection.status == Inspection.Status.SUBMITTED and inspection.score == Decimal("94.0")
    orders = RectificationOrder.objects.filter(inspection=inspection).order_by("pk")
    assert [o.inspection_item_id for o in orders] == [items[0].pk, items[2].pk]
    assert all(o.owner == world.cleaner and o.status == "open" for o in orders)
    # Hostile text is kept as text; the page escapes it.
    assert orders[0].finding.endswith(HOSTILE)
    # The finding's photo is the order's "before" photo.
    assert orders[0].before_photo.name == InspectionItem.objects.get(pk=items[0].pk).photo.name
    assert not orders[1].before_photo
    assert events("supervision.order_opened") == 2
    assert Notification.objects.filter(recipient=world.cleaner).count() == 1
    # A submitted inspection cannot be submitted (nor changed) again.
    with pytest.raises(services.OrderChanged):
        services.inspection_submit(actor=world.p.manager_a, inspection=inspection)
    assert orders.count() == 2


@pytest.mark.parametrize(
    "owner, deadline, field",
    [
        (None, "later", "owner"),
        ("outsider", "later", "owner"),
        ("cleaner", "past", "deadline"),
        ("cleaner", None, "deadline"),
    ],
)
def test_findings_need_an_owner_of_the_estate_and_a_future_deadline(world, owner, deadline, field):
    inspection = world.inspection()
    first = inspection.items.first()
    people = {"cleaner": world.cleaner, "outsider": world.p.outsider, None: None}
    when = {"later": world.deadline(), "past": timezone.now() - timedelta(hours=1), None: None}
    with pytest.raises(ValidationError) as refused:
        services.inspection_submit(
            actor=world.p.manager_a,
            inspection=inspection,
            results={first.pk: {"points": 5, "note": "水渍"}},
            owner=people[owner],
            deadline=when[deadline],
        )
    assert set(refused.value.message_dict) == {field}
    assert not RectificationOrder.objects.exists()


def test_a_clean_sheet_submits_without_owner_or_orders(world):
    inspection = world.inspection()
    services.inspection_submit(actor=world.p.manager_a, inspection=inspection)
    inspection.refresh_from_db()
    assert inspection.status == "submitted" and inspection.score == 100
    assert not RectificationOrder.objects.exists()


@pytest.mark.parametrize("who", ["technician_a", "security_a", "dispatcher_a", "owner_a101"])
def test_only_inspectors_start_inspections(world, who):
    with pytest.raises((PermissionDenied, Http404)):
        world.inspection(actor=getattr(world.p, who))
    assert not Inspection.objects.exists()


def test_only_the_inspector_or_a_manager_changes_a_draft(world):
    inspection = world.inspection(actor=world.p.clerk_a)
    other_clerk = make_staff("clerk_a2", "另一个客服", world.p.estate_a, Role.SERVICE_DESK)
    with pytest.raises(PermissionDenied):
        services.inspection_record(actor=other_clerk, inspection=inspection, results={})
    services.inspection_record(actor=world.p.manager_a, inspection=inspection, results={})
    with pytest.raises(Http404):
        services.inspection_record(actor=world.p.outsider, inspection=inspection, results={})


def test_an_inspection_dated_in_the_future_is_refused(world):
    with pytest.raises(ValidationError) as refused:
        services.inspection_start(
            actor=world.p.manager_a,
            estate=world.p.estate_a,
            template=world.cleaning,
            inspected_at=timezone.now() + timedelta(days=1),
        )
    assert "inspected_at" in refused.value.message_dict


def test_a_checklist_of_another_company_cannot_be_used(world):
    services.checklist_create_defaults(actor=world.p.outsider, company=world.p.other_company)
    theirs = ChecklistTemplate.objects.filter(company=world.p.other_company).first()
    with pytest.raises(ValidationError):
        world.inspection(template=theirs)


# ----------------------------------------------------------------------------- orders


def test_the_owner_cannot_verify_their_own_fix(world):
    order = world.fixed()
    # Even when the owner also works at the service centre (an inspector's role).
    Membership.objects.create(
        user=world.cleaner, company=world.p.company, estate=world.p.estate_a, role=Role.SERVICE_DESK
    )
    forget_grants(world.cleaner)
    with pytest.raises(PermissionDenied) as refused:
        services.order_verify(actor=world.cleaner, order=order)
    assert str(refused.value) == "The owner of an order cannot verify their own fix."
    order.refresh_from_db()
    assert order.status == "fixed"


def test_whoever_marked_it_fixed_cannot_verify_it(world):
    order = world.finding()
    services.order_fix(actor=world.p.manager_a, order=order, note="经理代为整改")
    with pytest.raises(PermissionDenied) as refused:
        services.order_verify(actor=world.p.manager_a, order=order)
    assert str(refused.value) == "Whoever marked the order fixed cannot verify it."
    with pytest.raises(PermissionDenied):
        services.order_reject(actor=world.p.manager_a, order=order, reason="x")
    verified = services.order_verify(actor=world.p.clerk_a, order=order)
    assert verified.status == "verified" and verified.verified_by == world.p.clerk_a
    assert events("supervision.order_verified") == 1


def test_a_rejection_goes_back_to_the_owner_with_the_reason(world):
    order = world.fixed()
    rejected = services.order_reject(actor=world.p.clerk_a, order=order, reason="仍有水渍")
    assert (rejected.status, rejected.rejections, rejected.rejection_reason) == (
        "open",
        1,
        "仍有水渍",
    )
    assert Notification.objects.filter(recipient=world.cleaner, title__contains="仍有水渍").exists()
    again = world.fixed(rejected)
    assert again.status == "fixed"


def test_a_rejection_needs_a_reason(world):
    order = world.fixed()
    with pytest.raises(ValidationError) as refused:
        services.order_reject(actor=world.p.clerk_a, order=order, reason="  ")
    assert set(refused.value.message_dict) == {"reason"}
    order.refresh_from_db()
    assert order.status == "fixed" and events("supervision.order_rejected") == 0


def test_a_finding_with_a_photo_needs_a_photo_of_the_result(world):
    order = world.finding(photo=jpeg())
    with pytest.raises(ValidationError) as refused:
        services.order_fix(actor=world.cleaner, order=order, note="已清理")
    assert set(refused.value.message_dict) == {"after_photo"}
    fixed = services.order_fix(actor=world.cleaner, order=order, note="已清理", after_photo=jpeg())
    assert fixed.after_photo and fixed.after_thumbnail


# Who may take each step, by role: (action, persona, allowed).
TRANSITIONS = [
    ("fix", "cleaner", True),  # the owner
    ("fix", "manager_a", True),
    ("fix", "clerk_a", False),
    ("fix", "technician_a", False),  # field staff who do not own it do not even see it
    ("fix", "security_a", False),
    ("verify", "clerk_a", True),
    ("verify", "manager_a", True),
    ("verify", "company_admin", True),
    ("verify", "dispatcher_a", False),
    ("verify", "technician_a", False),
    ("reject", "clerk_a", True),
    ("reject", "security_a", False),
    ("verify", "outsider", False),
]


@pytest.mark.parametrize("action, who, allowed", TRANSITIONS)
def test_the_workflow_by_role(world, action, who, allowed):
    order = world.finding() if action == "fix" else world.fixed()
    person = world.cleaner if who == "cleaner" else getattr(world.p, who)
    step = {
        "fix": lambda: services.order_fix(actor=person, order=order, note="已处理"),
        "verify": lambda: services.order_verify(actor=person, order=order),
        "reject": lambda: services.order_reject(actor=person, order=order, reason="不合格"),
    }[action]
    offered = {t.action for t in workflow.allowed_order_actions(person, order)}
    if allowed:
        step()
        assert action in offered
    else:
        with pytest.raises((PermissionDenied, Http404)):
            step()
        assert action not in offered
        assert RectificationOrder.objects.get(pk=order.pk).status == order.status


@pytest.mark.parametrize("action", ["verify", "reject"])
def test_an_open_order_cannot_be_verified_or_rejected(world, action):
    order = world.finding()
    with pytest.raises(services.OrderChanged):
        if action == "verify":
            services.order_verify(actor=world.p.clerk_a, order=order)
        else:
            services.order_reject(actor=world.p.clerk_a, order=order, reason="x")


def test_a_verified_order_is_final(world):
    order = services.order_verify(actor=world.p.clerk_a, order=world.fixed())
    for step in (
        lambda: services.order_fix(actor=world.cleaner, order=order, note="再修"),
        lambda: services.order_reject(actor=world.p.manager_a, order=order, reason="x"),
        lambda: services.order_verify(actor=world.p.manager_a, order=order),
    ):
        with pytest.raises(services.OrderChanged):
            step()


def test_a_stale_version_is_refused(world):
    order = world.fixed()
    with pytest.raises(services.OrderChanged) as refused:
        services.order_verify(actor=world.p.clerk_a, order=order, version=order.version - 1)
    assert refused.value.messages == ["Someone else changed this order meanwhile; reload it."]


def test_the_second_of_two_verifications_is_refused_cleanly(world):
    order = world.fixed()
    version = order.version
    services.order_verify(actor=world.p.clerk_a, order=order, version=version)
    with pytest.raises(services.OrderChanged):
        services.order_verify(actor=world.p.manager_a, order=order, version=version)
    with pytest.raises(services.OrderChanged):
        services.order_verify(actor=world.p.manager_a, order=order)
    order.refresh_from_db()
    assert order.verified_by == world.p.clerk_a and events("supervision.order_verified") == 1


def test_overdue_orders_are_notified_once(world, morning):
    order = world.finding()
    fixed_one = world.fixed()
    assert services.orders_notify_overdue() == 0
    morning.shift(timedelta(days=3, hours=1))
    assert services.orders_notify_overdue() == 1
    told = Notification.objects.filter(kind="supervision.overdue")
    assert {n.recipient for n in told} == {world.cleaner, world.p.manager_a}
    assert events("supervision.order_overdue") == 1
    morning.shift(timedelta(hours=2))
    assert services.orders_notify_overdue() == 0
    assert told.count() == 2
    order.refresh_from_db()
    assert order.overdue_notified_at is not None
    fixed_one.refresh_from_db()
    assert fixed_one.overdue_notified_at is None  # fixed in time: never overdue


def test_the_overdue_job_runs_the_service(world, morning):
    from jiayuan.supervision.tasks import supervision_overdue_orders

    world.finding()
    morning.shift(timedelta(days=4))
    assert supervision_overdue_orders.call() == 1


def test_managers_open_orders_by_hand_and_others_cannot(world):
    order = services.order_open(
        actor=world.p.manager_a,
        estate=world.p.estate_a,
        area=Area.GREENING,
        finding="中心花园有枯枝",
        owner=world.cleaner,
        deadline=world.deadline(),
        before_photo=jpeg(),
    )
    assert order.before_photo and order.inspection is None
    with pytest.raises(PermissionDenied):
        services.order_open(
            actor=world.p.clerk_a,
            estate=world.p.estate_a,
            area=Area.GREENING,
            finding="x",
            owner=world.cleaner,
            deadline=world.deadline(),
        )


# ----------------------------------------------------------------------------- evaluations


def _evaluation(world, **changes):
    values = {
        "actor": world.p.manager_a,
        "estate": world.p.estate_a,
        "evaluator": "卓越品质测评中心",
        "evaluated_on": timezone.localdate(),
        "score": Decimal("88.5"),
        "scope": "环境与秩序",
        "report": pdf(),
    }
    return services.evaluation_add(**{**values, **changes})


def test_an_evaluation_keeps_a_pdf_or_an_image_report(world):
    with_pdf = _evaluation(world)
    assert with_pdf.report_kind == Evaluation.ReportKind.PDF
    assert with_pdf.report.read().startswith(b"%PDF-")
    with_image = _evaluation(world, report=jpeg("scan.pdf"))  # the name lies; the content is judged
    assert with_image.report_kind == Evaluation.ReportKind.IMAGE


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"report": SimpleUploadedFile("r.pdf", b"<html><script>x</script>")}, "report"),
        ({"score": Decimal("100.5")}, "score"),
        ({"score": "abc"}, "score"),
        ({"evaluator": ""}, "evaluator"),
        ({"evaluator": "x" * 101}, "evaluator"),
        ({"evaluated_on": timezone.localdate() + timedelta(days=400)}, "evaluated_on"),
    ],
)
def test_bad_evaluations_are_refused_and_nothing_is_written(world, changes, field):
    with pytest.raises(ValidationError) as refused:
        _evaluation(world, **changes)
    assert field in refused.value.message_dict
    assert not Evaluation.objects.exists()


def test_an_oversized_report_is_refused(world, monkeypatch):
    monkeypatch.setattr(services, "REPORT_MAX_BYTES", 10)
    with pytest.raises(ValidationError) as refused:
        _evaluation(world)
    assert refused.value.message_dict["report"][0].startswith("The report is larger than")


def test_only_managers_add_evaluations(world):
    with pytest.raises(PermissionDenied):
        _evaluation(world, actor=world.p.clerk_a)
    with pytest.raises(Http404):
        _evaluation(world, actor=world.p.outsider)


# ----------------------------------------------------------------------------- improvements


def _action(world, **changes):
    values = {
        "actor": world.p.manager_a,
        "estate": world.p.estate_a,
        "title": "减少噪音投诉",
        "problem_kind": ProblemKind.COMPLAINTS,
        "complaint_category": "noise_neighbor",
        "period_start": timezone.localdate() - timedelta(days=30),
        "period_end": timezone.localdate(),
        "owner": world.p.security_a,
        "due_on": timezone.localdate() + timedelta(days=14),
        "plan": "晚十点后加强巡查",
    }
    return services.action_create(**{**values, **changes})


def test_an_action_goes_round_the_pdca_loop(world):
    action = _action(world)
    owner = world.p.security_a
    action = services.action_advance(actor=owner, action=action)
    assert action.status == Stage.DO
    with pytest.raises(ValidationError) as refused:
        services.action_advance(actor=owner, action=action, done="")
    assert set(refused.value.message_dict) == {"done", "done_on"}
    today = timezone.localdate()
    action = services.action_advance(actor=owner, action=action, done="增派夜巡", done_on=today)
    action = services.action_advance(
        actor=world.p.manager_a,
        action=action,
        baseline_value="12",
        after_value=Decimal("4"),
        measured_on=today,
        check_comment="投诉从12起降到4起",
    )
    assert (action.status, action.baseline_value, action.after_value) == (
        Stage.ACT,
        Decimal("12.00"),
        Decimal("4.00"),
    )
    action = services.action_advance(
        actor=world.p.manager_a, action=action, act_decision="standardise", act_note="写入岗位手册"
    )
    assert action.status == Stage.CLOSED and action.closed_at
    assert events("supervision.action_advanced") == 4
    with pytest.raises(services.OrderChanged):
        services.action_advance(actor=world.p.manager_a, action=action)


def test_only_the_owner_or_a_manager_moves_an_action_on(world):
    action = _action(world)
    for person in (world.p.clerk_a, world.p.technician_a):
        with pytest.raises((PermissionDenied, Http404)):
            services.action_advance(actor=person, action=action)
    with pytest.raises(Http404):
        services.action_advance(actor=world.p.outsider, action=action)
    assert ImprovementAction.objects.get(pk=action.pk).status == Stage.PLAN


@pytest.mark.parametrize(
    "changes, field",
    [
        ({"problem_kind": "kpi", "kpi": "made_up"}, "kpi"),
        ({"problem_kind": "kpi", "kpi": ""}, "kpi"),
        ({"complaint_category": "nothing"}, "complaint_category"),
        ({"period_end": MORNING.date() - timedelta(days=60)}, "period_end"),
        ({"problem_kind": "finding", "order": None}, "order"),
        ({"problem_kind": "other", "problem_text": ""}, "problem_text"),
        ({"problem_kind": "nonsense"}, "problem_kind"),
        ({"owner": None}, "owner"),
        ({"plan": "x" * 2001}, "plan"),
        ({"title": ""}, "title"),
    ],
)
def test_bad_actions_are_refused_and_nothing_is_written(world, changes, field):
    with pytest.raises(ValidationError) as refused:
        _action(world, **changes)
    assert field in refused.value.message_dict
    assert not ImprovementAction.objects.exists()


def test_an_action_on_a_kpi_or_a_finding(world):
    on_kpi = _action(world, problem_kind="kpi", kpi="csi", complaint_category="")
    assert on_kpi.kpi == "csi" and on_kpi.complaint_category == "" and on_kpi.period_start is None
    order = world.finding()
    on_finding = _action(world, problem_kind="finding", order=order)
    assert on_finding.order == order and on_finding.problem_label == str(order)


def test_an_action_is_overdue_past_its_due_date_until_closed(world, morning):
    action = _action(world)
    assert not action.is_overdue()
    morning.shift(timedelta(days=15))
    assert action.is_overdue()
