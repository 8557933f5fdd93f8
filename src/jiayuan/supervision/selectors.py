"""Reads of quality supervision that the pages and the API share, every one scoped by
restrict(): a row the person may not see is a row that is not there."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q
from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.core.access import VIEW, get_visible
from jiayuan.supervision.models import (
    ChecklistItem,
    ChecklistTemplate,
    Evaluation,
    ImprovementAction,
    Inspection,
    InspectionItem,
    RectificationOrder,
    Stage,
)

OPEN_ORDER_STATES = (RectificationOrder.Status.OPEN, RectificationOrder.Status.FIXED)


def checklists(user, company_id: int):
    return (
        ChecklistTemplate.objects.restrict(user, VIEW)
        .filter(company_id=company_id)
        .prefetch_related(Prefetch("items", queryset=ChecklistItem.objects.order_by("position")))
    )


def checklist(user, pk, action: str = VIEW) -> ChecklistTemplate:
    return get_visible(
        ChecklistTemplate.objects.select_related("company").prefetch_related("items"),
        user,
        action,
        pk=pk,
    )


def inspection_list(user, estate=None, *, area: str = "", status: str = ""):
    queryset = Inspection.objects.restrict(user, VIEW).select_related("inspector", "estate")
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    if area:
        queryset = queryset.filter(area=area)
    if status:
        queryset = queryset.filter(status=status)
    return queryset.annotate(findings=Count("orders")).order_by("-inspected_at", "-id")


def inspection(user, pk) -> Inspection:
    return get_visible(
        Inspection.objects.select_related("estate", "inspector", "template").prefetch_related(
            Prefetch("items", queryset=InspectionItem.objects.select_related("order")),
            Prefetch("orders", queryset=RectificationOrder.objects.select_related("owner")),
        ),
        user,
        VIEW,
        pk=pk,
    )


def inspection_item(user, pk) -> InspectionItem:
    return get_visible(InspectionItem.objects.all(), user, VIEW, pk=pk)


def order_list(
    user,
    estate=None,
    *,
    status: str = "",
    area: str = "",
    overdue: bool = False,
    owner=None,
    now=None,
):
    now = now or timezone.now()
    queryset = RectificationOrder.objects.restrict(user, VIEW).select_related(
        "estate", "owner", "inspection"
    )
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    if status:
        queryset = queryset.filter(status=status)
    if area:
        queryset = queryset.filter(area=area)
    if overdue:
        queryset = queryset.filter(status=RectificationOrder.Status.OPEN, deadline__lt=now)
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return queryset.order_by("status", "deadline", "pk")


def order(user, pk) -> RectificationOrder:
    return get_visible(
        RectificationOrder.objects.select_related(
            "estate", "owner", "fixed_by", "verified_by", "created_by", "inspection"
        ),
        user,
        VIEW,
        pk=pk,
    )


def evaluation_list(user, estate=None):
    queryset = Evaluation.objects.restrict(user, VIEW).select_related("estate")
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    return queryset


def evaluation(user, pk) -> Evaluation:
    return get_visible(Evaluation.objects.all(), user, VIEW, pk=pk)


@dataclass(frozen=True)
class TrendPoint:
    evaluation: Evaluation
    change: Decimal | None  # against the evaluation before it; None for the first
    x: float  # position on the chart, 0–100
    y: float


def evaluation_trend(evaluations) -> list[TrendPoint]:
    """The evaluations oldest first, each with its change from the one before and its
    place on a 0–100 chart (the score axis runs from 60, where real scores live)."""
    rows = sorted(evaluations, key=lambda e: (e.evaluated_on, e.pk))
    points = []
    floor = Decimal("60")
    for index, row in enumerate(rows):
        previous = rows[index - 1].score if index else None
        x = 50.0 if len(rows) == 1 else index * 100 / (len(rows) - 1)
        y = float(max(row.score - floor, 0) * 100 / (100 - floor))
        points.append(TrendPoint(row, None if previous is None else row.score - previous, x, y))
    return points


def action_list(
    user, estate=None, *, status: str = "", overdue: bool = False, owner=None, today=None
):
    today = today or timezone.localdate()
    queryset = ImprovementAction.objects.restrict(user, VIEW).select_related(
        "estate", "owner", "order"
    )
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    if status:
        queryset = queryset.filter(status=status)
    if overdue:
        queryset = queryset.filter(~Q(status=Stage.CLOSED), due_on__lt=today)
    if owner is not None:
        queryset = queryset.filter(owner=owner)
    return queryset


def action(user, pk) -> ImprovementAction:
    return get_visible(
        ImprovementAction.objects.select_related("estate", "owner", "order", "created_by"),
        user,
        VIEW,
        pk=pk,
    )


def owners_in(estate):
    """Who can be made responsible for an order or an action: the estate's active staff
    and the company's admins. Only pages of the estate's inspectors and managers offer
    them, so they are not narrowed to the staff the caller may manage."""
    works_here = Q(memberships__estate=estate) | Q(
        memberships__estate__isnull=True, memberships__company_id=estate.company_id
    )
    return (
        User.objects.filter(works_here, memberships__is_active=True, is_active=True)
        .distinct()
        .order_by("name", "username")
    )
