"""The demo's supervision: checklists, three months of inspections with orders in every
state (some overdue), evaluations and improvement actions at every PDCA stage."""

import time

import pytest

from jiayuan.org.demo import SMALL_PLAN, build_demo
from jiayuan.supervision.demo import build_supervision_demo, delete_supervision_demo
from jiayuan.supervision.models import (
    ChecklistTemplate,
    Evaluation,
    ImprovementAction,
    Inspection,
    RectificationOrder,
    Stage,
)


@pytest.mark.django_db
def test_the_demo_builds_quickly_with_every_state_and_deletes(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    company = build_demo(plan=SMALL_PLAN)
    started = time.monotonic()
    build_supervision_demo(company)
    assert time.monotonic() - started < 10

    assert ChecklistTemplate.objects.filter(company=company).count() == 5
    for estate in company.estates.all():
        inspections = Inspection.objects.filter(estate=estate)
        assert 60 <= inspections.count() <= 65
        scores = [i.score for i in inspections]
        assert sum(85 <= s <= 98 for s in scores) > len(scores) * 0.6
        assert all(i.points * 100 / i.max_points - float(i.score) < 0.06 for i in inspections)
        orders = RectificationOrder.objects.filter(estate=estate)
        assert {o.status for o in orders} == {"open", "fixed", "verified"}
        assert any(o.is_overdue() for o in orders)
        assert any(o.rejections for o in orders)
        verified = orders.filter(status="verified")
        assert all(o.verified_by_id not in {o.owner_id, o.fixed_by_id} for o in verified)
        assert Evaluation.objects.filter(estate=estate).count() == 2
        actions = ImprovementAction.objects.filter(estate=estate)
        assert {a.status for a in actions} == {Stage.PLAN, Stage.DO, Stage.CHECK, Stage.CLOSED}
        closed = actions.get(status=Stage.CLOSED)
        assert closed.baseline_value < closed.after_value and closed.measured_on

    delete_supervision_demo(company)
    assert not Inspection.objects.exists() and not ChecklistTemplate.objects.exists()
    assert not ImprovementAction.objects.exists() and not Evaluation.objects.exists()
