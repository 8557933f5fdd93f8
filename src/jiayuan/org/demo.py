"""The demo company: a residential estate of about 1,200 units, a commercial tower, common
areas, residents with Chinese names, staff for every role, teams and a few owner-portal
accounts.

The same seed gives the same names, mobiles and units, so screenshots, bug reports and
the README's logins match from one machine to the next. Structure (estates, buildings,
common areas, staff, teams, portal accounts) goes through org.services like any other
write and is audited; the thousands of units and residents are bulk-inserted, the way an
import would, and recorded as one import event per estate.
"""

import itertools
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from django.db import models, transaction
from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.core.audit import record_event
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.taxonomy import Category
from jiayuan.org import services
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import (
    Building,
    CommonArea,
    Company,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
)

DEMO_COMPANY_NAME = "幸福家园物业"
DEMO_COMPANY_CODE = "xfjy-demo"
# Demo only, documented in the README: every demo account signs in with it.
DEMO_PASSWORD = "jiayuan-demo"  # noqa: S105
DEMO_SEED = 20260101

HOME = "home"  # the residential estate
TOWER = "tower"  # the commercial tower


class DemoError(Exception):
    pass


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class BuildingShape:
    name: str
    entrances: int
    floors: int
    units_per_floor: int


@dataclass(frozen=True)
class DemoPlan:
    residential: tuple[BuildingShape, ...]
    tower_shop_floors: int
    tower_office_floors: int
    shops_per_floor: int
    offices_per_floor: int


# Twelve buildings of 1,210 flats: 18- and 26-storey blocks, two 33-storey towers, a row of
# 15-storey blocks with three entrances, and two blocks of four flats per landing.
FULL_PLAN = DemoPlan(
    residential=(
        BuildingShape("1号楼", 2, 18, 2),
        BuildingShape("2号楼", 2, 18, 2),
        BuildingShape("3号楼", 2, 26, 2),
        BuildingShape("4号楼", 2, 26, 2),
        BuildingShape("5号楼", 3, 15, 2),
        BuildingShape("6号楼", 3, 15, 2),
        BuildingShape("7号楼", 2, 33, 2),
        BuildingShape("8号楼", 2, 33, 2),
        BuildingShape("9号楼", 2, 22, 3),
        BuildingShape("10号楼", 2, 17, 3),
        BuildingShape("11号楼", 2, 15, 4),
        BuildingShape("12号楼", 2, 15, 2),
    ),
    tower_shop_floors=3,
    tower_office_floors=25,
    shops_per_floor=8,
    offices_per_floor=6,
)

# For tests: every kind of record, a fraction of the rows.
SMALL_PLAN = DemoPlan(
    residential=(BuildingShape("1号楼", 2, 15, 2), BuildingShape("2号楼", 3, 16, 3)),
    tower_shop_floors=1,
    tower_office_floors=3,
    shops_per_floor=4,
    offices_per_floor=3,
)


@dataclass(frozen=True)
class StaffMember:
    username: str
    name: str
    mobile: str
    role: Role
    estates: tuple[str, ...]  # empty: company-wide


STAFF = (
    StaffMember("demo_admin", "赵建国", "13900000001", Role.COMPANY_ADMIN, ()),
    StaffMember("demo_manager", "刘海燕", "13900000002", Role.ESTATE_MANAGER, (HOME, TOWER)),
    StaffMember("demo_desk1", "陈静", "13900000003", Role.SERVICE_DESK, (HOME,)),
    StaffMember("demo_desk2", "林晓雯", "13900000004", Role.SERVICE_DESK, (TOWER,)),
    StaffMember("demo_dispatch", "周磊", "13900000005", Role.DISPATCHER, (HOME,)),
    StaffMember("demo_tech1", "王志强", "13900000006", Role.TECHNICIAN, (HOME,)),
    StaffMember("demo_tech2", "李建军", "13900000007", Role.TECHNICIAN, (HOME,)),
    StaffMember("demo_tech3", "张宏伟", "13900000008", Role.TECHNICIAN, (HOME,)),
    StaffMember("demo_tech4", "杨国庆", "13900000009", Role.TECHNICIAN, (HOME, TOWER)),
    StaffMember("demo_security", "孙大勇", "13900000010", Role.SECURITY, (HOME,)),
    StaffMember("demo_cleaner", "吴秀英", "13900000011", Role.CLEANER, (HOME,)),
    StaffMember("demo_finance", "郑丽华", "13900000012", Role.FINANCE, (HOME, TOWER)),
)


@dataclass(frozen=True)
class TeamPlan:
    estate: str
    name: str
    skills: tuple[Category, ...]
    members: tuple[str, ...]  # usernames; the first leads


TEAMS = (
    TeamPlan(
        HOME,
        "工程维修班",
        (
            Category.PLUMBING,
            Category.ELECTRICAL,
            Category.HVAC,
            Category.DOORS_LOCKS,
            Category.GAS,
            Category.CIVIL,
        ),
        ("demo_tech1", "demo_tech2", "demo_tech3"),
    ),
    TeamPlan(HOME, "电梯班", (Category.ELEVATOR,), ("demo_tech4",)),
    TeamPlan(HOME, "保洁班", (Category.CLEANING, Category.GREENING), ("demo_cleaner",)),
    TeamPlan(
        HOME,
        "秩序维护班",
        (Category.SECURITY, Category.PARKING, Category.NOISE_NEIGHBOR, Category.FIRE_SAFETY),
        ("demo_security",),
    ),
    TeamPlan(
        TOWER,
        "金融中心工程班",
        (
            Category.PLUMBING,
            Category.ELECTRICAL,
            Category.HVAC,
            Category.ELEVATOR,
            Category.FIRE_SAFETY,
        ),
        ("demo_tech4",),
    ),
)

HOME_COMMON_AREAS = (
    ("小区主入口广场", CommonArea.Kind.PLAZA),
    ("中心花园", CommonArea.Kind.GARDEN),
    ("地下车库B1", CommonArea.Kind.GARAGE),
    ("地下车库B2", CommonArea.Kind.GARAGE),
    ("水泵房", CommonArea.Kind.PUMP_ROOM),
    ("1号配电房", CommonArea.Kind.POWER_ROOM),
    ("2号配电房", CommonArea.Kind.POWER_ROOM),
    ("消防控制室", CommonArea.Kind.FIRE_CONTROL),
    ("垃圾分类站", CommonArea.Kind.OTHER),
)
# Every residential building has these; the name is prefixed with the building's.
BUILDING_COMMON_AREAS = (
    ("大堂", CommonArea.Kind.LOBBY),
    ("电梯机房", CommonArea.Kind.ELEVATOR_ROOM),
    ("屋顶", CommonArea.Kind.ROOF),
)
TOWER_COMMON_AREAS = (
    ("一层大堂", CommonArea.Kind.LOBBY),
    ("地下车库B1", CommonArea.Kind.GARAGE),
    ("地下车库B2", CommonArea.Kind.GARAGE),
    ("地下车库B3", CommonArea.Kind.GARAGE),
    ("水泵房", CommonArea.Kind.PUMP_ROOM),
    ("配电房", CommonArea.Kind.POWER_ROOM),
    ("电梯机房", CommonArea.Kind.ELEVATOR_ROOM),
    ("空调机房", CommonArea.Kind.OTHER),
    ("消防控制室", CommonArea.Kind.FIRE_CONTROL),
    ("屋顶", CommonArea.Kind.ROOF),
)

# ----------------------------------------------------------------------------- names

# The commonest surnames, most frequent first; weights fall with rank as in real life.
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
COMPOUND_SURNAMES = ("欧阳", "上官", "司马", "诸葛")
MALE_GIVEN = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林阳建国志文博晨轩睿宏峰成亮东海"
)
FEMALE_GIVEN = "芳娜敏静丽艳娟霞秀英玲婷雪慧琳倩颖洁燕萍红梅佳欣怡雨晴璐蕾莉丹月瑶悦桂兰淑琴"
# Prefixes the mainland carriers actually issue (154 is unused).
_ISSUED_PREFIXES = (*range(130, 140), *range(150, 160), 166, 176, 177, 178, *range(180, 190))
MOBILE_PREFIXES = tuple(str(n) for n in (*_ISSUED_PREFIXES, 191, 198, 199) if n != 154)


class PeopleFactory:
    """Realistic names and unique valid mobiles from a seeded generator."""

    def __init__(self, rng: random.Random, taken_mobiles: set[str]):
        self.rng = rng
        self.taken = set(taken_mobiles)
        self._surname_weights = list(
            itertools.accumulate(1 / (rank + 4) for rank in range(len(SURNAMES)))
        )

    def surname(self) -> str:
        if self.rng.random() < 0.005:
            return self.rng.choice(COMPOUND_SURNAMES)
        return self.rng.choices(SURNAMES, cum_weights=self._surname_weights)[0]

    def given_name(self) -> str:
        chars = MALE_GIVEN if self.rng.random() < 0.5 else FEMALE_GIVEN
        length = 1 if self.rng.random() < 0.3 else 2
        return "".join(self.rng.choice(chars) for _ in range(length))

    def name(self, surname: str | None = None) -> str:
        return (surname or self.surname()) + self.given_name()

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.taken:
                self.taken.add(number)
                return number


# ----------------------------------------------------------------------------- result


@dataclass(frozen=True)
class DemoLogin:
    role: str
    name: str
    username: str
    mobile: str


def demo_exists() -> bool:
    return Company.objects.filter(code=DEMO_COMPANY_CODE).exists()


def demo_logins() -> list[DemoLogin]:
    """One sign-in per staff role, then the owner-portal accounts; all use DEMO_PASSWORD."""
    company = Company.objects.filter(code=DEMO_COMPANY_CODE).first()
    if company is None:
        return []
    users = User.objects.in_bulk([member.username for member in STAFF], field_name="username")
    logins, roles_listed = [], set()
    for member in STAFF:
        user = users.get(member.username)
        if user is None or member.role in roles_listed:
            continue
        roles_listed.add(member.role)
        logins.append(DemoLogin(str(member.role.label), user.name, user.username, user.mobile))
    portal = (
        Resident.objects.filter(company=company, user__isnull=False)
        .select_related("user")
        .prefetch_related("residencies")
        .order_by("user__date_joined", "pk")
    )
    for resident in portal:
        residencies = sorted(resident.residencies.all(), key=lambda residency: residency.pk)
        about = [str(residencies[0].get_relation_display())] if residencies else []
        if resident.tier == Resident.Tier.VIP:
            about.append("VIP")
        if len(residencies) > 1:
            about.append(f"{len(residencies)} units")
        logins.append(
            DemoLogin(
                f"Owner portal ({', '.join(about)})",
                resident.name,
                resident.user.username,
                resident.user.mobile,
            )
        )
    return logins


# ----------------------------------------------------------------------------- building


class _Builder:
    def __init__(self, plan: DemoPlan, seed: int, progress: Callable[[str], None]):
        self.plan = plan
        self.rng = random.Random(seed)
        self.progress = progress
        self.today = timezone.localdate()

    def build(self) -> Company:
        self._refuse_clashes()
        taken = set(User.objects.exclude(mobile=None).values_list("mobile", flat=True))
        self.people = PeopleFactory(self.rng, taken | {member.mobile for member in STAFF})
        self.company, self.admin = self._company()
        self.estates = self._estates()
        self.staff = self._staff()
        home_buildings = self._home_buildings()
        tower_building = self._tower_building()
        self._common_areas(home_buildings, tower_building)
        self._teams()
        home_units = self._home_units(home_buildings)
        tower_units = self._tower_units(tower_building)
        owners = self._home_residents(home_units)
        self._tower_residents(tower_units)
        self._portal_accounts(owners)
        return self.company

    def _refuse_clashes(self) -> None:
        usernames = [member.username for member in STAFF]
        mobiles = [member.mobile for member in STAFF]
        clashes = User.objects.filter(
            models.Q(username__in=usernames) | models.Q(mobile__in=mobiles)
        ).values_list("username", flat=True)
        if clashes:
            raise DemoError(
                "These accounts already exist, so the demo staff cannot be created: "
                + ", ".join(sorted(clashes))
            )
        if Company.objects.filter(name=DEMO_COMPANY_NAME).exists():
            raise DemoError(f"A company named {DEMO_COMPANY_NAME} already exists.")

    def _company(self) -> tuple[Company, User]:
        admin_spec = STAFF[0]
        company, admin = services.company_bootstrap(
            name=DEMO_COMPANY_NAME,
            code=DEMO_COMPANY_CODE,
            admin_username=admin_spec.username,
            admin_password=DEMO_PASSWORD,
            admin_name=admin_spec.name,
        )
        User.objects.filter(pk=admin.pk).update(mobile=admin_spec.mobile)
        Company.objects.filter(pk=company.pk).update(service_phone="400-820-6688")
        self.progress(f"Company {company.name} with its admin {admin.name}")
        return company, admin

    def _estates(self) -> dict[str, Estate]:
        home = services.estate_create(
            actor=self.admin,
            company=self.company,
            name="阳光花园",
            code="YGHY",
            kind=Estate.Kind.RESIDENTIAL,
            city="上海",
            address="上海市浦东新区阳光路888号",
            service_phone="021-5888-6600",
        )
        tower = services.estate_create(
            actor=self.admin,
            company=self.company,
            name="金融中心A座",
            code="JRZX-A",
            kind=Estate.Kind.COMMERCIAL,
            city="上海",
            address="上海市浦东新区世纪大道1288号",
            service_phone="021-5888-6611",
        )
        self.progress("Estates 阳光花园 (residential) and 金融中心A座 (commercial)")
        return {HOME: home, TOWER: tower}

    def _staff(self) -> dict[str, User]:
        staff = {STAFF[0].username: self.admin}
        for member in STAFF[1:]:
            first, *others = member.estates
            membership = services.staff_add(
                actor=self.admin,
                estate=self.estates[first],
                username=member.username,
                name=member.name,
                role=member.role,
                password=DEMO_PASSWORD,
                mobile=member.mobile,
            )
            for estate_key in others:
                services.membership_grant(
                    actor=self.admin,
                    user=membership.user,
                    estate=self.estates[estate_key],
                    role=member.role,
                )
            staff[member.username] = membership.user
        self.progress(f"Staff: {len(staff)} accounts, one or more for every role")
        return staff

    def _home_buildings(self) -> list[tuple[Building, BuildingShape]]:
        buildings = []
        for shape in self.plan.residential:
            building = services.building_create(
                actor=self.admin,
                estate=self.estates[HOME],
                name=shape.name,
                floors_above=shape.floors,
                floors_below=2,
                note=f"{shape.entrances}个单元，每层{shape.units_per_floor}户",
            )
            buildings.append((building, shape))
        return buildings

    def _tower_building(self) -> Building:
        plan = self.plan
        return services.building_create(
            actor=self.admin,
            estate=self.estates[TOWER],
            name="A座",
            floors_above=plan.tower_shop_floors + plan.tower_office_floors,
            floors_below=3,
            note=f"1–{plan.tower_shop_floors}层商铺，以上为写字楼",
        )

    def _common_areas(self, home_buildings, tower_building: Building) -> None:
        created = 0
        for name, kind in HOME_COMMON_AREAS:
            services.common_area_create(
                actor=self.admin, estate=self.estates[HOME], name=name, kind=kind
            )
            created += 1
        for building, _shape in home_buildings:
            for suffix, kind in BUILDING_COMMON_AREAS:
                services.common_area_create(
                    actor=self.admin,
                    estate=self.estates[HOME],
                    name=f"{building.name}{suffix}",
                    kind=kind,
                    building=building,
                )
                created += 1
        for name, kind in TOWER_COMMON_AREAS:
            services.common_area_create(
                actor=self.admin,
                estate=self.estates[TOWER],
                name=name,
                kind=kind,
                building=tower_building,
            )
            created += 1
        self.progress(f"Buildings and {created} common areas")

    def _teams(self) -> None:
        for plan in TEAMS:
            members = [self.staff[username] for username in plan.members]
            team = services.team_create(
                actor=self.admin,
                estate=self.estates[plan.estate],
                name=plan.name,
                skills=[str(skill) for skill in plan.skills],
                lead=members[0],
            )
            for user in members:
                services.team_member_add(actor=self.admin, team=team, user=user)
        self.progress(f"Teams: {', '.join(plan.name for plan in TEAMS)}")

    # ------------------------------------------------------------------ units

    def _area_pair(self, low: int, high: int, inner_low: float, inner_high: float):
        gross = Decimal(self.rng.randint(low * 100, high * 100)) / 100
        inner = (gross * Decimal(str(self.rng.uniform(inner_low, inner_high)))).quantize(
            Decimal("0.01")
        )
        return gross, inner

    def _status(self, weights: dict[str, int]) -> str:
        return self.rng.choices(list(weights), weights=list(weights.values()))[0]

    def _home_units(self, buildings) -> list[Unit]:
        estate = self.estates[HOME]
        statuses = {
            Unit.Status.OCCUPIED: 68,
            Unit.Status.RENTED: 17,
            Unit.Status.VACANT: 10,
            Unit.Status.RENOVATING: 5,
        }
        units = []
        for building, shape in buildings:
            # Flats in one stack share a floor plan, so areas repeat floor after floor.
            layouts = [
                [self._area_pair(60, 180, 0.78, 0.85) for _ in range(shape.units_per_floor)]
                for _ in range(shape.entrances)
            ]
            for entrance in range(shape.entrances):
                for floor in range(1, shape.floors + 1):
                    for position in range(shape.units_per_floor):
                        gross, inner = layouts[entrance][position]
                        units.append(
                            Unit(
                                estate=estate,
                                building=building,
                                entrance=f"{entrance + 1}单元",
                                number=f"{floor}{position + 1:02d}",
                                floor=floor,
                                gross_area=gross,
                                inner_area=inner,
                                status=self._status(statuses),
                            )
                        )
        units = Unit.objects.bulk_create(units)
        total = sum((unit.gross_area for unit in units), Decimal(0))
        services.estate_update(actor=self.admin, estate=estate, total_area=total)
        self.progress(f"阳光花园: {len(buildings)} buildings, {len(units):,} units")
        return units

    def _tower_units(self, building: Building) -> list[Unit]:
        estate, plan = self.estates[TOWER], self.plan
        statuses = {
            Unit.Status.RENTED: 70,
            Unit.Status.OCCUPIED: 10,
            Unit.Status.VACANT: 15,
            Unit.Status.RENOVATING: 5,
        }
        units = []
        for floor in range(1, plan.tower_shop_floors + plan.tower_office_floors + 1):
            shops = floor <= plan.tower_shop_floors
            for position in range(plan.shops_per_floor if shops else plan.offices_per_floor):
                gross, inner = (
                    self._area_pair(40, 180, 0.75, 0.85)
                    if shops
                    else self._area_pair(120, 480, 0.70, 0.80)
                )
                units.append(
                    Unit(
                        estate=estate,
                        building=building,
                        number=f"{floor}{position + 1:02d}",
                        floor=floor,
                        gross_area=gross,
                        inner_area=inner,
                        status=self._status(statuses),
                    )
                )
        units = Unit.objects.bulk_create(units)
        total = sum((unit.gross_area for unit in units), Decimal(0))
        services.estate_update(actor=self.admin, estate=estate, total_area=total)
        self.progress(f"金融中心A座: {len(units)} shops and offices")
        return units

    # ------------------------------------------------------------------ residents

    def _moved_in(self, max_years: int) -> date:
        return self.today - timedelta(days=self.rng.randint(30, 365 * max_years))

    def _resident(self, tier_vip_chance: float, surname: str | None = None) -> Resident:
        tier = Resident.Tier.VIP if self.rng.random() < tier_vip_chance else Resident.Tier.REGULAR
        return Resident(
            company=self.company,
            name=self.people.name(surname),
            mobile=self.people.mobile(),
            tier=tier,
        )

    def _home_residents(self, units: list[Unit]) -> list[tuple[Resident, Unit]]:
        """Owners for every sold flat (a few own two), family in occupied flats, tenants in
        rented ones. Returns (owner, unit) pairs in creation order."""
        links: list[tuple[Resident, Unit, str, date]] = []
        owners: list[tuple[Resident, Unit]] = []
        for unit in units:
            if unit.status == Unit.Status.VACANT and self.rng.random() < 0.3:
                continue  # still held by the developer
            if owners and self.rng.random() < 0.02:
                owner = self.rng.choice(owners)[0]
            else:
                owner = self._resident(tier_vip_chance=0.2)
            moved_in = self._moved_in(12)
            links.append((owner, unit, Residency.Relation.OWNER, moved_in))
            owners.append((owner, unit))
            if unit.status == Unit.Status.OCCUPIED:
                household = self.rng.choices([0, 1, 2, 3], weights=[25, 35, 30, 10])[0]
                for member in range(household):
                    # The first is usually the spouse; children share the owner's surname.
                    surname = None if member == 0 else owner.name[0]
                    links.append(
                        (
                            self._resident(0.0, surname),
                            unit,
                            Residency.Relation.FAMILY,
                            moved_in,
                        )
                    )
            elif unit.status == Unit.Status.RENTED:
                tenant_moved_in = self._moved_in(3)
                tenant = self._resident(tier_vip_chance=0.05)
                links.append((tenant, unit, Residency.Relation.TENANT, tenant_moved_in))
                if self.rng.random() < 0.4:
                    links.append(
                        (self._resident(0.0), unit, Residency.Relation.FAMILY, tenant_moved_in)
                    )
        self._save_links(links, "阳光花园")
        return owners

    def _tower_residents(self, units: list[Unit]) -> None:
        """A handful of investors own most of the tower; each let unit has a tenant's
        contact person."""
        investors = [self._resident(tier_vip_chance=0.5) for _ in range(max(2, len(units) // 15))]
        links = []
        for unit in units:
            owner = self.rng.choice(investors)
            links.append((owner, unit, Residency.Relation.OWNER, self._moved_in(10)))
            if unit.status == Unit.Status.RENTED:
                links.append(
                    (self._resident(0.1), unit, Residency.Relation.TENANT, self._moved_in(4))
                )
        self._save_links(links, "金融中心A座")

    def _save_links(self, links, estate_name: str) -> None:
        residents = list({id(link[0]): link[0] for link in links}.values())
        unit_count = len({link[1].pk for link in links})
        Resident.objects.bulk_create(residents)
        residencies = Residency.objects.bulk_create(
            [
                Residency(resident=resident, unit=unit, relation=relation, moved_in_on=moved_in)
                for resident, unit, relation, moved_in in links
            ]
        )
        estate = links[0][1].estate
        record_event(
            actor=self.admin,
            code=OrgEvent.IMPORT_COMMITTED,
            estate=estate,
            after={
                "source": "demo",
                "units": unit_count,
                "residents": len(residents),
                "residencies": len(residencies),
            },
        )
        self.progress(
            f"{estate_name}: {len(residents):,} residents living in or owning {unit_count:,} units"
        )

    # ------------------------------------------------------------------ portal

    def _portal_accounts(self, owners: list[tuple[Resident, Unit]]) -> None:
        """An owner, a VIP owner, an owner of two flats and a tenant get the portal."""
        chosen: list[Resident] = []

        def pick(candidates):
            for resident in candidates:
                if resident not in chosen:
                    chosen.append(resident)
                    return

        pick(owner for owner, unit in owners if unit.status == Unit.Status.OCCUPIED)
        pick(owner for owner, _unit in owners if owner.tier == Resident.Tier.VIP)
        flats_owned: dict[int, int] = {}
        for owner, _unit in owners:
            flats_owned[owner.pk] = flats_owned.get(owner.pk, 0) + 1
        pick(owner for owner, _unit in owners if flats_owned[owner.pk] > 1)
        pick(
            Resident.objects.filter(
                company=self.company,
                residencies__relation=Residency.Relation.TENANT,
                residencies__unit__estate=self.estates[HOME],
            ).order_by("pk")[:1]
        )
        for resident in chosen:
            services.resident_open_portal(
                actor=self.admin, resident=resident, password=DEMO_PASSWORD
            )
        self.progress(f"Owner portal: {len(chosen)} accounts")


def build_demo(
    *,
    plan: DemoPlan = FULL_PLAN,
    seed: int = DEMO_SEED,
    progress: Callable[[str], None] = lambda line: None,
) -> Company:
    """Build the demo company, all or nothing. Refuses if it already exists."""
    if demo_exists():
        raise DemoError("The demo company already exists.")
    with transaction.atomic():
        return _Builder(plan, seed, progress).build()


def delete_demo() -> bool:
    """Remove the demo company with everything and everyone in it. False if there is none."""
    company = Company.objects.filter(code=DEMO_COMPANY_CODE).first()
    if company is None:
        return False
    with transaction.atomic():
        user_ids = set(
            Membership.objects.filter(company=company).values_list("user_id", flat=True)
        ) | set(
            Resident.objects.filter(company=company, user__isnull=False).values_list(
                "user_id", flat=True
            )
        )
        # Children before parents where the schema protects the parent.
        Residency.objects.filter(unit__estate__company=company).delete()
        Resident.objects.filter(company=company).delete()
        TeamMember.objects.filter(team__estate__company=company).delete()
        Team.objects.filter(estate__company=company).delete()
        CommonArea.objects.filter(estate__company=company).delete()
        Unit.objects.filter(estate__company=company).delete()
        Building.objects.filter(estate__company=company).delete()
        Membership.objects.filter(company=company).delete()
        AuditEvent.objects.filter(company=company).delete()
        Estate.objects.filter(company=company).delete()
        User.objects.filter(pk__in=user_ids).delete()
        company.delete()
    return True
