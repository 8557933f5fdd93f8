"""The demo's quality supervision: the default checklists; for each estate about three
months of weekly inspections of every area (scores mostly 85–98, a few findings each) with
their rectification orders in every state, some overdue; two third-party evaluations; and
four improvement actions at different PDCA stages, one closed with its measured effect.

Inspections, their items and orders are bulk-created with dates in the past (a service
stamps the present); evaluations and improvement actions go through the services.
Seeded, so every build is the same."""

import random
from datetime import datetime, time, timedelta
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.core.roles import Role
from jiayuan.core.taxonomy import Category
from jiayuan.dashboard.kpis import Kpi
from jiayuan.org.models import Company, Estate, Membership
from jiayuan.sla.demo import DEMO_ADMIN
from jiayuan.supervision import services
from jiayuan.supervision.models import (
    ActDecision,
    Area,
    ChecklistTemplate,
    Evaluation,
    ImprovementAction,
    Inspection,
    InspectionItem,
    ProblemKind,
    RectificationOrder,
    score_of,
)

WEEKS = 13
SEED = 20260401
AREA_ORDER = list(Area)
# Who puts each area's findings right, by preference; the estate manager otherwise.
AREA_OWNERS = {
    Area.CLEANING: (Role.CLEANER,),
    Area.GREENING: (Role.CLEANER,),
    Area.SECURITY: (Role.SECURITY,),
    Area.ENGINEERING: (Role.TECHNICIAN,),
    Area.SERVICE_DESK: (Role.SERVICE_DESK,),
}
FINDINGS = {
    Area.CLEANING: ("2号楼大堂地面有水渍未清理", "垃圾桶满溢未及时清运", "电梯按键面板有手印"),
    Area.SECURITY: ("东门岗外来车辆未登记", "地下车库消防通道停有车辆", "巡更记录缺两个点位"),
    Area.ENGINEERING: ("5号楼3层楼道灯不亮", "水泵房地面有积水", "配电房警示标识脱落"),
    Area.SERVICE_DESK: ("公告栏有过期停水通知未撤下", "来电超过三声才接听", "投诉回访记录不完整"),
    Area.GREENING: ("中心花园草坪有斑秃", "绿篱有枯枝未修剪", "花坛内有烟头纸屑"),
}
# The smallest document a PDF reader opens: one empty page.
DEMO_REPORT = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


def _staff(estate: Estate, roles) -> User | None:
    membership = (
        Membership.objects.filter(estate=estate, role__in=roles, is_active=True)
        .select_related("user")
        .order_by("user__username")
        .first()
    )
    return membership.user if membership else None


def _at(now: datetime, days_ago: int, hour: int, minute: int = 0) -> datetime:
    day = timezone.localtime(now).date() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(hour, minute)))


class _EstateDemo:
    def __init__(self, estate: Estate, admin: User, templates, now: datetime):
        self.estate, self.admin, self.now = estate, admin, now
        self.templates = templates
        self.random = random.Random(f"{SEED}-{estate.code}")
        self.manager = _staff(estate, (Role.ESTATE_MANAGER,)) or admin
        self.inspector = _staff(estate, (Role.SERVICE_DESK,)) or self.manager
        self.owners = {
            area: _staff(estate, roles) or self.manager for area, roles in AREA_OWNERS.items()
        }

    def inspections(self) -> list[RectificationOrder]:
        planned = []
        for week in range(WEEKS):
            for index, area in enumerate(AREA_ORDER):
                inspected_at = _at(self.now, week * 7 + index, 9 + index, 30)
                if inspected_at < self.now:
                    planned.append((area, inspected_at, self._results(area)))
        inspections = Inspection.objects.bulk_create(
            Inspection(
                estate=self.estate,
                area=area,
                template=self.templates[area],
                template_title=self.templates[area].title,
                inspector=self.inspector,
                inspected_at=inspected_at,
                status=Inspection.Status.SUBMITTED,
                submitted_at=inspected_at + timedelta(minutes=40),
                points=sum(points for _item, points, _note in results),
                max_points=sum(item.points for item, _points, _note in results),
                score=score_of(
                    sum(points for _item, points, _note in results),
                    sum(item.points for item, _points, _note in results),
                ),
            )
            for area, inspected_at, results in planned
        )
        items = InspectionItem.objects.bulk_create(
            InspectionItem(
                inspection=inspection,
                position=item.position,
                description=item.description,
                max_points=item.points,
                critical=item.critical,
                points=points,
                note=note,
            )
            for inspection, (_area, _at_, results) in zip(inspections, planned, strict=True)
            for item, points, note in results
        )
        by_inspection = {i.pk: i for i in inspections}
        return RectificationOrder.objects.bulk_create(
            self._order(by_inspection[item.inspection_id], item)
            for item in items
            if item.points < item.max_points
        )

    def _results(self, area: str) -> list[tuple]:
        """(checklist item, points, note): one to three findings of a few points each, now
        and then a clean sheet."""
        items = list(self.templates[area].items.all())
        found = self.random.choices((0, 1, 2, 3), weights=(10, 45, 35, 10))[0]
        flawed = set(self.random.sample(range(len(items)), found))
        notes = FINDINGS[area]
        return [
            (
                item,
                item.points - self.random.randint(2, 6) if n in flawed else item.points,
                self.random.choice(notes) if n in flawed else "",
            )
            for n, item in enumerate(items)
        ]

    def _order(self, inspection: Inspection, item: InspectionItem) -> RectificationOrder:
        owner = self.owners[inspection.area]
        deadline = (inspection.inspected_at + timedelta(days=3)).replace(hour=18, minute=0)
        order = RectificationOrder(
            estate=self.estate,
            area=inspection.area,
            inspection=inspection,
            inspection_item=item,
            finding=f"{item.description}：{item.note}",
            owner=owner,
            deadline=deadline,
            created_by=self.inspector,
            created_at=inspection.submitted_at,
        )
        age = (self.now - inspection.inspected_at).days
        roll = self.random.random()
        if age > 14 or (age > 6 and roll < 0.4):
            self._fixed(order, inspection, rejected=roll < 0.08)
            self._verified(order)
        elif age > 6 and roll < 0.75:
            self._fixed(order, inspection)
        elif age > 2 and roll < 0.5:
            self._fixed(order, inspection, rejected=True)
            order.status = RectificationOrder.Status.OPEN
        if order.is_overdue(self.now):
            order.overdue_notified_at = order.deadline + timedelta(minutes=15)
        return order

    def _fixed(self, order, inspection, *, rejected: bool = False) -> None:
        order.status = RectificationOrder.Status.FIXED
        order.fix_note = "已按要求整改完毕，现场复查无问题。"
        order.fixed_by = order.owner
        order.fixed_at = min(inspection.inspected_at + timedelta(days=1, hours=3), self.now)
        if rejected:
            order.rejections = 1
            order.rejection_reason = "复查时仍有问题，请彻底整改。"

    def _verified(self, order) -> None:
        verifier = next(
            u for u in (self.inspector, self.manager, self.admin) if u.pk != order.owner_id
        )
        order.status = RectificationOrder.Status.VERIFIED
        order.verified_by = verifier
        order.verified_at = min(order.fixed_at + timedelta(hours=20), self.now)

    def evaluations(self) -> None:
        base = Decimal("86.5") if self.estate.kind == Estate.Kind.RESIDENTIAL else Decimal("88.0")
        rounds = (
            (78, "城市物业服务满意度调查中心", base, "年中第三方暗访测评：环境、秩序、工程、客服"),
            (16, "卓越品质第三方测评机构", base + Decimal("2.5"), "季度测评，含业主入户访谈"),
        )
        for number, (days_ago, evaluator, score, scope) in enumerate(rounds):
            services.evaluation_add(
                actor=self.admin,
                estate=self.estate,
                evaluator=evaluator,
                evaluated_on=timezone.localdate() - timedelta(days=days_ago),
                score=score,
                scope=scope,
                report=SimpleUploadedFile(f"report-{number}.pdf", DEMO_REPORT) if number else None,
            )

    def improvements(self, orders: list[RectificationOrder]) -> None:
        today = timezone.localdate()
        create = services.action_create
        closed = create(
            actor=self.admin,
            estate=self.estate,
            title="提高报修按时解决率",
            problem_kind=ProblemKind.KPI,
            kpi=Kpi.RESOLUTION_ON_TIME,
            owner=self.manager,
            due_on=today - timedelta(days=10),
            plan="常用配件前置到楼栋备件柜；超时前两小时提醒维修班长。",
        )
        services.action_advance(actor=self.admin, action=closed)
        services.action_advance(
            actor=self.admin,
            action=closed,
            done="三个备件柜已设置，提醒规则已启用。",
            done_on=today - timedelta(days=40),
        )
        services.action_advance(
            actor=self.admin,
            action=closed,
            baseline_value=Decimal("82.50"),
            after_value=Decimal("91.20"),
            measured_on=today - timedelta(days=12),
            check_comment="按时解决率提高8.7个百分点，达到目标。",
        )
        services.action_advance(
            actor=self.admin,
            action=closed,
            act_decision=ActDecision.STANDARDISE,
            act_note="纳入工程部作业标准，备件柜每周盘点。",
        )
        complaints = create(
            actor=self.admin,
            estate=self.estate,
            title="减少停车投诉",
            problem_kind=ProblemKind.COMPLAINTS,
            complaint_category=Category.PARKING,
            period_start=today - timedelta(days=60),
            period_end=today - timedelta(days=30),
            owner=self.owners[Area.SECURITY],
            due_on=today + timedelta(days=14),
            plan="晚高峰增派一名秩序维护员疏导；占用消防通道的车辆当场劝离。",
        )
        services.action_advance(actor=self.admin, action=complaints)
        services.action_advance(
            actor=self.admin,
            action=complaints,
            done="18:00–20:00增派人员两周，张贴停车指引。",
            done_on=today - timedelta(days=3),
        )
        open_orders = [o for o in orders if o.status == RectificationOrder.Status.OPEN]
        finding = create(
            actor=self.admin,
            estate=self.estate,
            title="杜绝同类问题重复出现",
            problem_kind=ProblemKind.FINDING,
            order=open_orders[0] if open_orders else orders[0],
            owner=self.manager,
            due_on=today - timedelta(days=2),
            plan="分析近三个月同类整改单的原因，修订岗位作业指导书并培训。",
        )
        services.action_advance(actor=self.admin, action=finding)
        create(
            actor=self.admin,
            estate=self.estate,
            title="优化夜间巡逻路线",
            problem_kind=ProblemKind.OTHER,
            problem_text="夜间巡逻路线未覆盖地下车库B2层东侧。",
            owner=self.owners[Area.SECURITY],
            due_on=today + timedelta(days=21),
            plan="重新规划巡更点位，增加B2东侧两个打卡点。",
        )


def build_supervision_demo(company: Company) -> None:
    admin = User.objects.get(username=DEMO_ADMIN)
    services.checklist_create_defaults(actor=admin, company=company)
    templates = {
        t.area: t
        for t in ChecklistTemplate.objects.filter(company=company).prefetch_related("items")
    }
    now = timezone.now()
    for estate in company.estates.order_by("pk"):
        demo = _EstateDemo(estate, admin, templates, now)
        orders = demo.inspections()
        demo.evaluations()
        demo.improvements(orders)


def delete_supervision_demo(company: Company) -> None:
    ImprovementAction.objects.filter(estate__company=company).delete()
    Evaluation.objects.filter(estate__company=company).delete()
    RectificationOrder.objects.filter(estate__company=company).delete()
    Inspection.objects.filter(estate__company=company).delete()
    ChecklistTemplate.objects.filter(company=company).delete()
