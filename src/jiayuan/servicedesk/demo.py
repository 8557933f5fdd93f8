"""The demo company's service desk: a few hundred requests of the last two months in every
state of every kind, so a newcomer signing in as the desk, the dispatcher, a technician or
an owner finds a living desk.

Every request is made and moved through `servicedesk.services` as people would, in the
order people would; the same seed gives the same requests. The services stamp "now", so
each request is then re-timed: the instants its steps wrote (its own times, its handler
trail, rating, return visit, audit events and notifications) are moved onto a plausible
history — accepted minutes after the call, the technician there within hours, the owner's
confirmation a day later — and it gets the number of the day it was made on. The desk's
queue, timelines and the later KPIs then read like a real desk's.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from django.db.models import Q
from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.comms.models import Notification
from jiayuan.core.models import AuditEvent
from jiayuan.org.models import Company, Estate, Residency, Team
from jiayuan.servicedesk import incidents, services
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import (
    NUMBER_PREFIX,
    Channel,
    Handling,
    Kind,
    Rating,
    ReplyTemplate,
    RequestCounter,
    ReturnVisit,
    ServiceRequest,
    Urgency,
)

DEMO_SEED = 20261125
FULL_REQUESTS = 320
SMALL_REQUESTS = 48
HISTORY_DAYS = 60
REPAIR_CATEGORIES = (
    "plumbing",
    "plumbing",
    "electrical",
    "electrical",
    "elevator",
    "doors_locks",
    "hvac",
    "gas",
    "fire_safety",
    "civil",
)
COMPLAINT_CATEGORIES = ("noise_neighbor", "cleaning", "parking", "security", "billing", "greening")
# Where in the common parts each category's faults are.
PLACES_OF = {
    "elevator": ("elevator_room", "lobby"),
    "fire_safety": ("lobby", "fire_control", "garage"),
    "cleaning": ("plaza", "lobby", "other"),
    "greening": ("garden",),
    "parking": ("garage",),
    "security": ("garage", "plaza"),
}
REQUEST_TIMES = (
    "created_at",
    "updated_at",
    "accepted_at",
    "dispatched_at",
    "arrived_at",
    "completed_at",
    "replied_at",
    "closed_at",
)
HANDLING_TIMES = ("assigned_at", "accepted_at", "arrived_at", "ended_at")

# What owners report, per category, in their own words.
TEXTS = {
    "plumbing": [
        "厨房水龙头一直滴水，关紧了也不行",
        "卫生间地漏返臭味，下水特别慢",
        "楼上渗水到我家卫生间吊顶，已经发黄了",
        "马桶水箱一直在响，水停不下来",
    ],
    "electrical": [
        "客厅有一排插座没电了，空开没跳",
        "楼道声控灯坏了，晚上回家黑漆漆的",
        "家里总闸经常跳，开空调就跳",
    ],
    "elevator": [
        "2号电梯按了没反应，门一直不关",
        "电梯运行时有异响，抖得厉害",
        "电梯按钮17楼的灯不亮",
    ],
    "doors_locks": [
        "单元门禁刷卡刷不开，只能等人开门",
        "入户门锁芯坏了，钥匙拧不动",
        "消防通道门关不上，闭门器坏了",
    ],
    "hvac": ["新风系统出风口有噪音", "地暖不热，分水器摸着是凉的"],
    "gas": ["厨房有点燃气味，已经关了总阀，麻烦马上来看看"],
    "fire_safety": ["楼道灭火器过期了", "消防栓箱门坏了关不上"],
    "civil": ["外墙瓷砖有松动，怕掉下来砸到人", "阳台墙面开裂渗水"],
    "cleaning": ["垃圾站周边很脏，味道很大", "楼道里有人堆放杂物好几天了"],
    "greening": ["中心花园的树枝快碰到三楼窗户了", "草坪好久没修剪了"],
    "security": ["晚上有陌生人在小区里推门", "地库入口的道闸坏了，谁都能进"],
    "parking": ["我的车位被别的车占了，车牌苏A***", "地库B2的照明太暗，停车看不清"],
    "noise_neighbor": [
        "楼上每天晚上十一点以后还在敲敲打打",
        "隔壁装修周末早上七点就开始电钻",
        "楼下KTV噪音太大影响休息",
    ],
    "billing": ["物业费账单上的公摊电费是怎么算的", "想问一下车位管理费能不能按季度交"],
    "other": ["快递柜坏了取不出快递", "小区里流浪猫越来越多"],
}
SUGGESTIONS = [
    "建议在中心花园多放几张长椅",
    "建议晚上十点后关闭喷泉，声音有点吵",
    "建议增加电动车充电桩",
]
PRAISES = ["王师傅修水管又快又干净，点赞", "客服小陈很耐心，帮我查清楚了账单"]
INQUIRIES = {
    "billing": "物业费可以在物业App里交吗？",
    "other": "小区游泳池夏天什么时候开放？",
    "parking": "访客车辆停车怎么收费？",
}
WORK_NOTES = {
    "plumbing": "更换阀芯和密封圈，试水无渗漏",
    "electrical": "更换损坏插座，检查线路正常",
    "elevator": "调整门机，清理地坎，试运行正常",
    "doors_locks": "更换读卡模块，测试刷卡正常",
}
REPLIES = {
    Kind.COMPLAINT: "经核实已与相关住户沟通，对方承诺晚上十点后不再施工，我们会持续跟进。",
    Kind.INQUIRY: "您好，可以在业主App的“缴费”里在线缴纳，支持微信和支付宝。",
    Kind.SUGGESTION: "感谢您的建议，已提交项目部讨论，下月起实施。",
    Kind.PRAISE: "感谢您的肯定，我们已转达给同事，会继续努力！",
}
REPLY_TEMPLATES = (
    (Kind.INQUIRY, "缴费方式", "您好，物业费可在业主App在线缴纳，也可到服务中心现场缴纳。"),
    (Kind.INQUIRY, "停水通知", "您好，因管网检修，明日9:00–15:00停水，请提前储水。"),
    (Kind.COMPLAINT, "噪音投诉回复", "您好，我们已联系相关住户并告知装修时间规定，将持续跟进。"),
    (Kind.COMPLAINT, "致歉", "非常抱歉给您带来不便，我们已安排专人处理，处理结果会及时告知您。"),
    (Kind.SUGGESTION, "建议采纳", "感谢您的宝贵建议，我们已记录并将在项目例会上讨论。"),
)

# Which state each request is left in, by kind, with weights; older requests are mostly
# finished, the last few days' mostly open.
FINISHED = {
    Kind.REPAIR: {"closed": 70, "closed_reopened": 4, "cancelled": 4, "declined": 2},
    Kind.COMPLAINT: {"closed": 8, "closed_reopened": 2},
    Kind.INQUIRY: {"closed": 10, "declined": 1},
    Kind.SUGGESTION: {"closed": 10},
    Kind.PRAISE: {"closed": 10},
}
OPEN = {
    Kind.REPAIR: {
        "submitted": 4,
        "accepted": 3,
        "dispatched": 5,
        "taken": 3,
        "in_progress": 4,
        "on_hold": 2,
        "completed": 4,
        "reopened": 1,
    },
    Kind.COMPLAINT: {"submitted": 2, "investigating": 3, "replied": 2, "on_hold": 1},
    Kind.INQUIRY: {"submitted": 3, "accepted": 1, "replied": 2},
    Kind.SUGGESTION: {"submitted": 1, "replied": 1},
    Kind.PRAISE: {"submitted": 1, "replied": 1},
}
KIND_WEIGHTS = {
    Kind.REPAIR: 66,
    Kind.COMPLAINT: 12,
    Kind.INQUIRY: 14,
    Kind.SUGGESTION: 4,
    Kind.PRAISE: 4,
}
# Minutes after the previous step that each kind of step usually takes.
GAPS = {
    "accept": (3, 40),
    "dispatch": (5, 60),
    "take": (2, 20),
    "arrive": (20, 180),
    "complete": (20, 150),
    "hold": (10, 60),
    "investigate": (10, 120),
    "reply": (60, 600),
    "confirm": (60, 1800),
    "rate": (1, 90),
    "reopen": (60, 1200),
    "cancel": (5, 120),
    "decline": (5, 60),
    "auto": (2880, 2900),
    "visit": (1440, 4320),
}


@dataclass
class _Story:
    """One request as it happens: the instant each step really ran and when it should
    appear to have run."""

    request: ServiceRequest
    created: datetime
    marks: list[datetime] = field(default_factory=list)
    planned: list[datetime] = field(default_factory=list)


class _Desk:
    def __init__(self, company: Company, seed: int, progress: Callable[[str], None]):
        self.company = company
        self.rng = random.Random(seed)
        self.progress = progress
        self.now = timezone.now()
        estates = {e.kind: e for e in Estate.objects.filter(company=company).order_by("pk")}
        self.home = estates[Estate.Kind.RESIDENTIAL]
        self.tower = estates.get(Estate.Kind.COMMERCIAL, self.home)
        users = User.objects.in_bulk(
            [
                "demo_admin",
                "demo_manager",
                "demo_desk1",
                "demo_desk2",
                "demo_dispatch",
                "demo_tech1",
                "demo_tech2",
                "demo_tech3",
                "demo_tech4",
            ],
            field_name="username",
        )
        self.admin, self.manager = users["demo_admin"], users["demo_manager"]
        self.desk = {self.home.pk: users["demo_desk1"], self.tower.pk: users["demo_desk2"]}
        self.dispatcher = users["demo_dispatch"]
        self.techs = {
            self.home.pk: [users["demo_tech1"], users["demo_tech2"], users["demo_tech3"]],
            self.tower.pk: [users["demo_tech4"]],
        }
        self.teams = {
            estate.pk: list(Team.objects.filter(estate=estate).order_by("pk"))
            for estate in (self.home, self.tower)
        }
        homes = (
            Residency.objects.filter(unit__estate__company=company, moved_out_on__isnull=True)
            .select_related("resident__user", "unit")
            .order_by("pk")
        )
        self.homes = {estate.pk: [] for estate in (self.home, self.tower)}
        self.portal = []
        for home in homes:
            self.homes[home.unit.estate_id].append(home)
            if home.resident.user_id and home.unit.estate_id == self.home.pk:
                self.portal.append(home)
        self.areas = {
            estate.pk: list(estate.common_areas.order_by("pk"))
            for estate in (self.home, self.tower)
        }
        rules = services.desk_settings(company)
        self.stars, self.visit_hours = rules.auto_rating, rules.return_visit_within_hours

    # ------------------------------------------------------------------ the plan

    def build(self, count: int) -> int:
        for kind, title, body in REPLY_TEMPLATES:
            services.reply_template_create(
                actor=self.manager, company=self.company, kind=kind, title=title, body=body
            )
        stories = []
        # Made up at "now" and moved into the past afterwards: their times would make
        # unrelated reports look like one fault.
        with incidents.matching_off():
            for n in range(count):
                stories.append(self._one(n))
                if (n + 1) % 50 == 0:
                    self.progress(f"Service desk: {n + 1} / {count} requests")
            self._visits(stories)
        made = self._incidents()
        self._renumber()
        return len(stories) + made

    def _incidents(self) -> int:
        """A lift stops: the second household's report joins the first one's repair by
        itself. Two calls about a lobby light are alike enough for the desk to decide."""
        by_building: dict[int, list] = {}
        for home in self.portal:
            by_building.setdefault(home.unit.building_id, []).append(home)
        homes = next((found for found in by_building.values() if len(found) >= 2), None)
        lobby = next((a for a in self.areas[self.home.pk] if a.kind == "lobby"), None)
        if homes is None or lobby is None:
            return 0
        first, second = homes[0], homes[1]
        building = first.unit.building.name
        created = self.now - timedelta(hours=3)
        story = _Story(request=None, created=created, planned=[created])
        story.marks.append(timezone.now())
        story.request = services.request_create(
            actor=first.resident.user,
            estate=self.home,
            kind=Kind.REPAIR,
            category="elevator",
            description=f"{building}电梯停在6楼不动了，按了没反应",
            unit=first.unit,
        )
        self._act(story, "accept", services.request_accept)
        self._act(
            story,
            "dispatch",
            services.request_dispatch,
            actor=self.dispatcher,
            assignee=self.techs[self.home.pk][0],
        )
        self._step(
            story,
            "take",
            lambda: services.request_create(
                actor=second.resident.user,
                estate=self.home,
                kind=Kind.REPAIR,
                category="elevator",
                description=f"{building}电梯坏了，停在6楼不动",
                unit=second.unit,
            ),
        )
        self._retime(story)
        created = self.now - timedelta(hours=2)
        story = _Story(request=None, created=created, planned=[created])
        story.marks.append(timezone.now())
        desk = self.desk[self.home.pk]
        caller = self.homes[self.home.pk][0].resident
        story.request = services.request_create(
            actor=desk,
            estate=self.home,
            kind=Kind.REPAIR,
            category="electrical",
            description="大堂的灯一闪一闪",
            common_area=lobby,
            reporter=caller,
        )
        self._step(
            story,
            "accept",
            lambda: services.request_create(
                actor=desk,
                estate=self.home,
                kind=Kind.REPAIR,
                category="electrical",
                description="大堂顶灯不亮了",
                common_area=lobby,
                reporter=caller,
            ),
        )
        self._retime(story)
        return 4

    def _weighted(self, weights: dict) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _one(self, n: int) -> _Story:
        kind = self._weighted(KIND_WEIGHTS)
        age_days = self.rng.random() ** 1.6 * HISTORY_DAYS  # more of the recent days
        recent = age_days < 4
        state = self._weighted(OPEN[kind] if recent and self.rng.random() < 0.8 else FINISHED[kind])
        estate = self.home if self.rng.random() < 0.8 else self.tower
        created = self.now - timedelta(days=age_days, minutes=self.rng.randrange(60))
        story = self._create(n, kind, estate, created)
        self._advance(story, kind, state)
        self._retime(story)
        return story

    # ------------------------------------------------------------------ steps

    def _step(self, story: _Story, gap: str, action: Callable[[], object]):
        low, high = GAPS[gap]
        story.planned.append(story.planned[-1] + timedelta(minutes=self.rng.uniform(low, high)))
        story.marks.append(timezone.now())
        result = action()
        story.request.refresh_from_db()
        return result

    def _create(self, n: int, kind: str, estate: Estate, created: datetime) -> _Story:
        rng = self.rng
        category = {
            Kind.REPAIR: lambda: rng.choice(REPAIR_CATEGORIES),
            Kind.COMPLAINT: lambda: rng.choice(COMPLAINT_CATEGORIES),
            Kind.INQUIRY: lambda: rng.choice(list(INQUIRIES)),
        }.get(kind, lambda: "other")()
        text = {
            Kind.INQUIRY: INQUIRIES.get(category),
            Kind.SUGGESTION: rng.choice(SUGGESTIONS),
            Kind.PRAISE: rng.choice(PRAISES),
        }.get(kind) or rng.choice(TEXTS[category])
        urgency = Urgency.NORMAL
        if kind == Kind.REPAIR:
            if category == "gas":
                urgency = Urgency.EMERGENCY
            elif rng.random() < 0.15:
                urgency = Urgency.URGENT
        # Some faults are in the common parts: the kind of place that has them.
        places = [a for a in self.areas[estate.pk] if a.kind in PLACES_OF.get(category, ())]
        area = rng.choice(places) if places else None
        common = {
            "estate": estate,
            "kind": kind,
            "category": category,
            "urgency": urgency,
            "description": text,
        }
        if kind == Kind.PRAISE:
            common["praised_staff"] = rng.choice(self.techs[estate.pk])
        # A third of the home estate's requests come from the owners on the portal; the
        # rest are calls and visits the desk records.
        by_portal = estate == self.home and self.portal and (n % 3 == 0)
        story = _Story(request=None, created=created, planned=[created])
        story.marks.append(timezone.now())
        if by_portal:
            home = self.portal[n // 3 % len(self.portal)]
            story.request = services.request_create(
                actor=home.resident.user,
                unit=None if area else home.unit,
                common_area=area,
                **common,
            )
        else:
            home = rng.choice(self.homes[estate.pk])
            story.request = services.request_create(
                actor=self.desk[estate.pk],
                channel=rng.choice([Channel.PHONE, Channel.PHONE, Channel.WALK_IN, Channel.WECHAT]),
                unit=None if area else home.unit,
                common_area=area,
                reporter=home.resident,
                **common,
            )
        return story

    def _advance(self, story: _Story, kind: str, state: str) -> None:
        if state == "submitted":
            return
        if state == "cancelled":
            self._cancel(story)
            return
        if state == "declined":
            self._act(story, "decline", services.request_decline, reason="不属于物业服务范围")
            return
        if kind == Kind.REPAIR:
            self._repair(story, state)
        elif kind == Kind.COMPLAINT:
            self._complaint(story, state)
        else:
            self._simple(story, state)

    def _act(self, story: _Story, gap: str, service, actor=None, **values):
        request = story.request
        actor = actor or self.desk[request.estate_id]
        return self._step(
            story,
            gap,
            lambda: service(
                actor=actor, request=request, expected_version=request.version, **values
            ),
        )

    def _cancel(self, story: _Story) -> None:
        request = story.request
        if request.reporter_user_id:
            owner = User.objects.get(pk=request.reporter_user_id)
            self._act(story, "cancel", services.request_cancel, actor=owner, reason="已自行解决")
        else:
            self._act(story, "cancel", services.request_cancel, reason="业主来电撤回")

    def _repair(self, story: _Story, state: str) -> None:
        request, rng = story.request, self.rng
        estate = request.estate_id
        self._act(story, "accept", services.request_accept)
        if state == "accepted":
            return
        tech = rng.choice(self.techs[estate])
        to_team = rng.random() < 0.2 and self.teams[estate]
        handler = {"team": self.teams[estate][0]} if to_team else {"assignee": tech}
        self._act(
            story, "dispatch", services.request_dispatch, actor=self._dispatcher(estate), **handler
        )
        if state == "dispatched":
            return
        taker = self._team_member(estate, tech) if to_team else tech
        self._act(story, "take", services.request_take, actor=taker)
        if state == "taken":
            return
        self._act(story, "arrive", services.request_arrive, actor=taker)
        if state == "in_progress":
            return
        if state == "on_hold":
            self._act(
                story, "hold", services.request_hold, actor=taker, reason="等待配件到货，预计两天"
            )
            return
        self._complete(story, taker)
        if state == "completed":
            return
        owner = self._owner_of(story)
        if state in ("reopened", "closed_reopened"):
            self._act(
                story,
                "reopen",
                services.request_reopen,
                actor=owner or self.desk[estate],
                reason="还是漏水，没有修好",
            )
            if state == "reopened":
                return
            self._act(story, "arrive", services.request_arrive, actor=taker)
            self._complete(story, taker)
        self._close(story, owner)

    def _team_member(self, estate: int, fallback: User) -> User:
        team = self.teams[estate][0]
        members = list(team.members.order_by("pk"))
        return members[0] if members else fallback

    def _dispatcher(self, estate: int) -> User:
        return self.dispatcher if estate == self.home.pk else self.desk[estate]

    def _complete(self, story: _Story, taker: User) -> None:
        request, rng = story.request, self.rng
        paid = request.unit_id is not None and rng.random() < 0.3
        values = {"work_notes": WORK_NOTES.get(request.category, "已处理完毕，现场恢复正常")}
        if paid:
            values |= {
                "is_paid": True,
                "labour_fee": Decimal(rng.choice([30, 50, 80])),
                "materials": [
                    {
                        "item": rng.choice(["阀芯", "密封圈", "插座面板", "锁芯"]),
                        "unit_price": str(rng.choice([12, 25, 45, 68])),
                        "quantity": str(rng.choice([1, 1, 2])),
                    }
                ],
            }
        self._act(story, "complete", services.request_complete, actor=taker, **values)

    def _owner_of(self, story: _Story) -> User | None:
        if story.request.reporter_user_id:
            return User.objects.get(pk=story.request.reporter_user_id)
        return None

    def _close(self, story: _Story, owner: User | None) -> None:
        """The owner confirms and rates (most do); whatever is left unconfirmed or unrated
        the desk's rule closes and rates after the waiting time. Praise is never rated."""
        rng = self.rng
        if owner is not None and rng.random() < 0.85:
            self._act(story, "confirm", services.request_confirm, actor=owner)
            if story.request.kind != Kind.PRAISE and rng.random() < 0.9:
                overall = rng.choices([5, 4, 3, 2, 1], weights=[60, 25, 8, 4, 3])[0]
                self._step(
                    story,
                    "rate",
                    lambda: services.request_rate(
                        actor=owner,
                        request=story.request,
                        overall=overall,
                        comment=rng.choice(["", "", "师傅很专业", "来得有点慢", "态度很好"]),
                        tags=rng.sample(["准时", "态度好", "干净整洁", "讲解清楚"], k=1),
                    ),
                )
                return
            if story.request.kind == Kind.PRAISE:
                return
        elif owner is None and rng.random() < 0.5:
            self._act(story, "confirm", services.request_confirm)
        # Nobody answered in time: the desk's rule closes and rates it.
        self._step(
            story,
            "auto",
            lambda: services._auto_close_one(
                story.request.pk, timezone.now() + timedelta(days=1), self.stars
            ),
        )

    def _complaint(self, story: _Story, state: str) -> None:
        estate = story.request.estate_id
        if state == "on_hold":
            self._act(story, "investigate", services.request_investigate)
            self._act(story, "hold", services.request_hold, reason="等待业委会协调")
            return
        self._act(story, "accept", services.request_accept)
        self._act(
            story,
            "investigate",
            services.request_investigate,
            actor=self.desk[estate],
            assignee=self.manager if self.rng.random() < 0.3 else None,
        )
        if state == "investigating":
            return
        handler = User.objects.get(pk=story.request.assignee_id)
        self._act(
            story, "reply", services.request_reply, actor=handler, reply=REPLIES[Kind.COMPLAINT]
        )
        if state == "replied":
            return
        owner = self._owner_of(story)
        if state == "closed_reopened":
            self._act(
                story,
                "reopen",
                services.request_reopen,
                actor=owner or self.desk[estate],
                reason="晚上还是很吵，问题没有解决",
            )
            self._act(
                story,
                "reply",
                services.request_reply,
                actor=handler,
                reply="已再次上门沟通并签订承诺书，如再发生请随时联系我们。",
            )
        self._close(story, owner)

    def _simple(self, story: _Story, state: str) -> None:
        if state == "accepted" or self.rng.random() < 0.5:
            self._act(story, "accept", services.request_accept)
        if state == "accepted":
            return
        self._act(story, "reply", services.request_reply, reply=REPLIES[story.request.kind])
        if state == "replied":
            return
        self._close(story, self._owner_of(story))

    # ------------------------------------------------------------------ after the steps

    def _visits(self, stories: list[_Story]) -> None:
        """The desk has made the older return visits; the recent ones are still due."""
        for story in stories:
            visit = ReturnVisit.objects.filter(request=story.request).first()
            if visit is None or visit.due_at > self.now - timedelta(days=1):
                continue
            if self.rng.random() < 0.2:
                continue  # overdue: the desk is behind, as desks are
            rating = Rating.objects.filter(request=story.request).first()
            unhappy = rating is not None and rating.overall <= 2
            done = visit.due_at - timedelta(hours=self.rng.uniform(1, 20))
            start = timezone.now()
            services.return_visit_record(
                actor=self.desk[story.request.estate_id],
                visit=visit,
                method=self.rng.choice(["phone", "phone", "message", "visit"]),
                outcome="unsatisfied" if unhappy else "satisfied",
                note="业主仍不满意，已转投诉跟进" if unhappy else "业主表示已解决，感谢",
                follow_up="complaint" if unhappy else "",
            )
            self._retime_window(start, timezone.now(), done, [story.request.pk])

    def _retime(self, story: _Story) -> None:
        """Move every instant the story's steps wrote onto its planned history; the last
        step never lands in the future."""
        latest = self.now - timedelta(minutes=self.rng.uniform(2, 90))
        overshoot = story.planned[-1] - latest
        if overshoot > timedelta(0):
            story.planned = [t - overshoot for t in story.planned]
        ends = [*story.marks[1:], timezone.now()]
        for start, end, planned in zip(story.marks, ends, story.planned, strict=True):
            self._retime_window(start, end, planned, [story.request.pk])
        # A return visit is due a set time after the closing, wherever that moved.
        request = ServiceRequest.objects.get(pk=story.request.pk)
        if request.closed_at is not None:
            ReturnVisit.objects.filter(request=request).update(
                due_at=request.closed_at + timedelta(hours=self.visit_hours)
            )

    def _retime_window(self, start, end, planned, request_ids) -> None:
        """Everything written between `start` and `end` (this process builds one request at
        a time, so it all belongs to the requests named, or to a request made meanwhile,
        like a follow-up complaint) is moved to begin at `planned`."""
        shift = planned - start

        def moved(value):
            return value + shift if value is not None and start <= value <= end else value

        touched = ServiceRequest.objects.filter(
            Q(pk__in=request_ids) | Q(company=self.company, created_at__range=(start, end))
        )
        for request in touched:
            ServiceRequest.objects.filter(pk=request.pk).update(
                **{name: moved(getattr(request, name)) for name in REQUEST_TIMES}
            )
            for hop in Handling.objects.filter(request=request):
                Handling.objects.filter(pk=hop.pk).update(
                    **{name: moved(getattr(hop, name)) for name in HANDLING_TIMES}
                )
            Rating.objects.filter(request=request, rated_at__range=(start, end)).update(
                rated_at=planned
            )
            ReturnVisit.objects.filter(request=request, done_at__range=(start, end)).update(
                done_at=planned
            )
        for event in AuditEvent.objects.filter(at__range=(start, end)):
            AuditEvent.objects.filter(pk=event.pk).update(at=event.at + shift)
        for note in Notification.objects.filter(created_at__range=(start, end)):
            at = note.created_at + shift
            # What happened days ago has been read.
            read = at + timedelta(hours=2) if at < self.now - timedelta(days=2) else None
            Notification.objects.filter(pk=note.pk).update(created_at=at, read_at=read)

    def _renumber(self) -> None:
        """Numbers carry the day a request was made: renumber in the order of the history
        and leave each day's counter where that day ended."""
        requests = list(
            ServiceRequest.objects.filter(company=self.company).order_by("created_at", "pk")
        )
        # Out of the way first: the final numbers may be ones the building used.
        for request in requests:
            ServiceRequest.objects.filter(pk=request.pk).update(number=f"DEMO{request.pk}")
        last: dict[tuple[str, object], int] = {}
        renamed = {}
        for request in requests:
            prefix = NUMBER_PREFIX[request.kind]
            day = timezone.localdate(request.created_at)
            last[prefix, day] = last.get((prefix, day), 0) + 1
            number = f"{prefix}{day:%Y%m%d}-{last[prefix, day]:04d}"
            ServiceRequest.objects.filter(pk=request.pk).update(number=number)
            renamed[request.number] = number
            AuditEvent.objects.filter(
                code=DeskEvent.CREATED, target_id=str(request.pk), company=self.company
            ).update(target_label=number)
            for event in AuditEvent.objects.filter(
                code=DeskEvent.CREATED, target_id=str(request.pk), company=self.company
            ):
                if isinstance(event.after, dict):
                    AuditEvent.objects.filter(pk=event.pk).update(
                        after={**event.after, "number": number}
                    )
        # A follow-up complaint quotes the number of the request it follows.
        for follow_up in ServiceRequest.objects.filter(
            company=self.company, related_to__isnull=False
        ):
            old = next((o for o, n in renamed.items() if o in follow_up.description), None)
            if old is not None:
                ServiceRequest.objects.filter(pk=follow_up.pk).update(
                    description=follow_up.description.replace(old, renamed[old])
                )
        RequestCounter.objects.filter(company=self.company).delete()
        RequestCounter.objects.bulk_create(
            RequestCounter(company=self.company, prefix=prefix, day=day, last=count)
            for (prefix, day), count in last.items()
        )


def build_service_demo(
    company: Company,
    *,
    small: bool = False,
    seed: int = DEMO_SEED,
    progress: Callable[[str], None] = lambda line: None,
) -> int:
    """Fill the demo company's desk; returns how many requests it made."""
    count = SMALL_REQUESTS if small else FULL_REQUESTS
    made = _Desk(company, seed, progress).build(count)
    progress(f"Service desk: {made} requests")
    return made


def delete_service_demo(company: Company) -> None:
    """What the desk holds of the company, before the company itself goes."""
    requests = ServiceRequest.objects.filter(company=company)
    # Follow-up complaints point at the requests they follow; unlink before deleting.
    requests.update(parent=None, related_to=None)
    requests.delete()
    ReplyTemplate.objects.filter(company=company).delete()
    RequestCounter.objects.filter(company=company).delete()
