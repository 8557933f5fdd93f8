"""The demo's training: a handful of courses, sessions over the last six months in every
estate with attendance and exam scores (a few fail), one session still to come, and
certificates for every technician and security guard: one expired, two running out within
60 days (one of them already warned), the rest valid. Seeded, so every build is the same
relative to the day it is built."""

import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.core.roles import Role
from jiayuan.org.models import Company, Membership
from jiayuan.sla.demo import DEMO_ADMIN
from jiayuan.training import services
from jiayuan.training.models import (
    Attendance,
    Certificate,
    CertificateWarning,
    Course,
    Session,
    TrainingSettings,
)

SEED = 20260501
DESK, TECH, GUARD, CLEAN = Role.SERVICE_DESK, Role.TECHNICIAN, Role.SECURITY, Role.CLEANER


@dataclass(frozen=True)
class CoursePlan:
    title: str
    topic: str
    roles: tuple
    recurrence: str
    pass_mark: int
    description: str
    # Sessions held this many days ago in every estate.
    held_days_ago: tuple[int, ...]
    mandatory: bool = True


COURSES = (
    CoursePlan(
        "物业服务礼仪与沟通",
        "etiquette",
        (DESK, GUARD, CLEAN),
        "quarterly",
        60,
        "仪容仪表、接待用语、电话礼仪与业主沟通技巧。",
        (150, 45),
    ),
    CoursePlan(
        "安全生产与用电安全",
        "safety",
        (TECH, GUARD),
        "quarterly",
        70,
        "安全生产责任制、带电作业规程、个人防护用品的使用。",
        (160, 30),
    ),
    CoursePlan(
        "消防演练与灭火器使用",
        "fire_drill",
        (TECH, GUARD, CLEAN, DESK),
        "half_yearly",
        0,
        "疏散引导、灭火器与消火栓实操，不设考试，到场即合格。",
        (100,),
    ),
    CoursePlan(
        "客户投诉处理规范",
        "complaints",
        (DESK, Role.DISPATCHER),
        "quarterly",
        60,
        "首问负责制、投诉分级、48小时处理时限与回访要求。",
        (120, 20),
    ),
    CoursePlan(
        "电梯困人应急处置",
        "emergency",
        (TECH, GUARD),
        "yearly",
        80,
        "困人安抚、盘车救援流程、与维保单位的联动。",
        (75,),
    ),
    CoursePlan(
        "二次供水设备巡检标准",
        "equipment",
        (TECH,),
        "once",
        60,
        "水箱、水泵房日常巡检项目与记录要求（选修）。",
        (90,),
        mandatory=False,
    ),
)
TRAINERS = ("市消防支队 王教官", "公司品质部 陈老师", "电梯维保单位 张工")
PLACES = ("物业中心三楼会议室", "地下车库消防演练区", "客服中心培训室")


@dataclass(frozen=True)
class CertificatePlan:
    username: str
    kind: str
    number: str
    issuer: str
    # Days from today to the expiry date; None never expires.
    expires_in: int | None
    years_valid: int = 6


CERTIFICATES = (
    CertificatePlan("demo_tech1", "electrician", "T320102198503121234", "南京市应急管理局", 900),
    CertificatePlan("demo_tech2", "electrician", "T320104199001154321", "南京市应急管理局", 1400),
    CertificatePlan("demo_tech2", "height", "T320104199001154321-G", "南京市应急管理局", -10),
    CertificatePlan("demo_tech3", "refrigeration", "T320106198811203456", "南京市应急管理局", 45),
    CertificatePlan("demo_tech4", "elevator", "TS3132019000187", "江苏省市场监督管理局", 25, 4),
    CertificatePlan("demo_tech4", "electrician", "T320111198207087890", "南京市应急管理局", 600),
    CertificatePlan("demo_security", "security_guard", "苏宁保0123456", "南京市公安局", None),
    CertificatePlan("demo_security", "fire", "3206002019000321", "江苏省人力资源和社会保障厅", 700),
)
# Already warned by the daily job (its 30-day warning went out).
WARNED = "TS3132019000187"


def _at(day: date, hour: int):
    return timezone.make_aware(datetime.combine(day, time(hour)))


def _score(rng: random.Random, pass_mark: int) -> int:
    # Most pass comfortably; about one in eight falls short.
    if rng.random() < 0.12:
        return rng.randint(max(pass_mark - 25, 0), max(pass_mark - 1, 0))
    return rng.randint(min(pass_mark + 5, 100), 100)


def build_training_demo(company: Company) -> None:
    rng = random.Random(SEED)
    admin = User.objects.get(username=DEMO_ADMIN)
    today = timezone.localdate()
    courses = [
        services.course_create(
            actor=admin,
            company=company,
            title=plan.title,
            topic=plan.topic,
            description=plan.description,
            roles=list(plan.roles),
            recurrence=plan.recurrence,
            pass_mark=plan.pass_mark,
            is_mandatory=plan.mandatory,
        )
        for plan in COURSES
    ]
    for estate_index, estate in enumerate(company.estates.order_by("pk")):
        for index, (plan, course) in enumerate(zip(COURSES, courses, strict=True)):
            for days_ago in plan.held_days_ago:
                starts = _at(today - timedelta(days=days_ago + estate_index * 3), 14)
                session = services.session_create(
                    actor=admin,
                    course=course,
                    estate=estate,
                    starts_at=starts,
                    ends_at=starts + timedelta(hours=2),
                    place=PLACES[index % len(PLACES)],
                    trainer_name=TRAINERS[index % len(TRAINERS)],
                    capacity=40,
                )
                rows = []
                for seat in session.attendees.order_by("user_id"):
                    roll = rng.random()
                    status = "present" if roll < 0.85 else "absent" if roll < 0.95 else "excused"
                    score = _score(rng, plan.pass_mark) if status == "present" else None
                    rows.append(
                        {
                            "user": seat.user_id,
                            "status": status,
                            "score": score if plan.pass_mark else None,
                        }
                    )
                services.attendance_record(actor=admin, session=session, rows=rows)
        coming = _at(today + timedelta(days=7 + estate_index), 9)
        services.session_create(
            actor=admin,
            course=courses[1],
            estate=estate,
            starts_at=coming,
            ends_at=coming + timedelta(hours=3),
            place=PLACES[0],
            trainer_name=TRAINERS[1],
        )
    _certificates(company, admin, today)


def _certificates(company: Company, admin, today: date) -> None:
    homes = {
        m.user.username: (m.user, m.estate)
        for m in Membership.objects.filter(
            company=company, role__in=[TECH, GUARD], estate__isnull=False
        )
        .select_related("user", "estate")
        .order_by("-estate_id")  # the first estate wins for people in two
    }
    plans = sorted(CERTIFICATES, key=lambda plan: plan.number != WARNED)
    for plan in plans:
        if plan.username not in homes:
            continue
        holder, estate = homes[plan.username]
        expires = today + timedelta(days=plan.expires_in) if plan.expires_in is not None else None
        issued = (expires or today) - timedelta(days=365 * plan.years_valid)
        services.certificate_create(
            actor=admin,
            holder=holder,
            estate=estate,
            kind=plan.kind,
            number=plan.number,
            issuer=plan.issuer,
            issued_on=min(issued, today - timedelta(days=30)),
            expires_on=expires,
        )
        if plan.number == WARNED:
            services.warn_expiring(today, company=company)


def delete_training_demo(company: Company) -> None:
    CertificateWarning.objects.filter(certificate__company=company).delete()
    Certificate.objects.filter(company=company).delete()
    Attendance.objects.filter(session__company=company).delete()
    Session.objects.filter(company=company).delete()
    Course.objects.filter(company=company).delete()
    TrainingSettings.objects.filter(company=company).delete()
