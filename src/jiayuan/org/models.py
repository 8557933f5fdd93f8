from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import ADD, CHANGE, DELETE, VIEW, Access, RestrictedQuerySet
from jiayuan.core.models import TimeStampedModel
from jiayuan.core.phones import mask_mobile, validate_mainland_mobile
from jiayuan.core.roles import ALL_STAFF, MANAGERS, RESIDENT_KEEPERS, Role
from jiayuan.core.taxonomy import Category

code_validator = RegexValidator(
    r"^[A-Za-z0-9_-]{1,32}$", _("Use letters, digits, - and _ only (at most 32).")
)
POSITIVE_AREA = [MinValueValidator(Decimal("0.01"))]


def current_residency(through: str = "") -> Q:
    """A residency that has not ended: moving out today still counts. `through` reaches it
    over a relation (such as "residencies__")."""
    today = timezone.localdate()
    return Q(**{f"{through}moved_out_on__isnull": True}) | Q(
        **{f"{through}moved_out_on__gte": today}
    )


# The same rule in a statement written out in SQL; the parameter is today's date.
CURRENT_RESIDENCY_SQL = "({alias}.moved_out_on IS NULL OR {alias}.moved_out_on >= %s)"


def _current_residencies_of(user):
    """Residencies of this user that have not ended."""
    return Residency.objects.filter(current_residency(), resident__user=user)


def _resident_sees_units(user) -> Q:
    return Q(pk__in=_current_residencies_of(user).values("unit_id"))


def _resident_sees_buildings(user) -> Q:
    return Q(pk__in=_current_residencies_of(user).values("unit__building_id"))


def _resident_sees_estates(user) -> Q:
    return Q(pk__in=_current_residencies_of(user).values("unit__estate_id"))


def _resident_sees_companies(user) -> Q:
    return Q(pk__in=_current_residencies_of(user).values("unit__estate__company_id"))


def _resident_sees_common_areas(user) -> Q:
    return Q(estate_id__in=_current_residencies_of(user).values("unit__estate_id"))


def _resident_sees_self(user) -> Q:
    return Q(user=user)


def _resident_sees_own_residencies(user) -> Q:
    return Q(resident__user=user)


class Company(TimeStampedModel):
    """The tenant: a property-management company with its estates."""

    name = models.CharField(_("name"), max_length=100, unique=True)
    code = models.CharField(_("code"), max_length=32, unique=True, validators=[code_validator])
    service_phone = models.CharField(_("service phone"), max_length=32, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: ALL_STAFF, CHANGE: frozenset({Role.COMPANY_ADMIN})},
        estate_path="estates__id",
        company_path="pk",
        resident=_resident_sees_companies,
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self):
        return self.name


class Estate(TimeStampedModel):
    """项目/小区: a residential estate or a commercial property run by the company."""

    class Kind(models.TextChoices):
        RESIDENTIAL = "residential", _("Residential")
        COMMERCIAL = "commercial", _("Commercial")

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="estates"
    )
    name = models.CharField(_("name"), max_length=100)
    code = models.CharField(_("code"), max_length=32, validators=[code_validator])
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    city = models.CharField(_("city"), max_length=50, blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    total_area = models.DecimalField(
        _("total area (m²)"),
        max_digits=12,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_AREA,
    )
    service_phone = models.CharField(_("service phone"), max_length=32, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={
            VIEW: ALL_STAFF,
            ADD: frozenset({Role.COMPANY_ADMIN}),
            CHANGE: MANAGERS,
            DELETE: frozenset({Role.COMPANY_ADMIN}),
        },
        estate_path="pk",
        company_path="company_id",
        resident=_resident_sees_estates,
    )

    class Meta:
        verbose_name = _("estate")
        verbose_name_plural = _("estates")
        ordering = ["company", "name"]
        constraints = [
            models.UniqueConstraint(fields=["company", "code"], name="estate_code_unique"),
            models.UniqueConstraint(fields=["company", "name"], name="estate_name_unique"),
            models.CheckConstraint(
                condition=Q(total_area__isnull=True) | Q(total_area__gt=0),
                name="estate_area_positive",
            ),
        ]

    def __str__(self):
        return self.name


ESTATE_RECORD_RULES = {
    VIEW: ALL_STAFF,
    ADD: MANAGERS,
    CHANGE: MANAGERS,
    DELETE: MANAGERS,
}


class Building(TimeStampedModel):
    """楼栋."""

    estate = models.ForeignKey(
        Estate, verbose_name=_("estate"), on_delete=models.CASCADE, related_name="buildings"
    )
    name = models.CharField(_("name"), max_length=50)
    floors_above = models.PositiveSmallIntegerField(_("floors above ground"), default=1)
    floors_below = models.PositiveSmallIntegerField(_("floors below ground"), default=0)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=ESTATE_RECORD_RULES,
        estate_path="estate_id",
        company_path="estate__company_id",
        resident=_resident_sees_buildings,
    )

    class Meta:
        verbose_name = _("building")
        verbose_name_plural = _("buildings")
        ordering = ["estate", "name"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "name"], name="building_name_unique"),
        ]

    def __str__(self):
        return self.name


def unit_label(building_name: str, entrance: str, number: str) -> str:
    """How people say a unit: 3号楼 2单元 1502 (also for lists that read it as values)."""
    if entrance:
        return f"{building_name} {entrance} {number}"
    return f"{building_name} {number}"


class Unit(TimeStampedModel):
    """房屋: one household's flat, shop or office. `estate` repeats the building's estate so
    that estate-wide lists and counts need no join at millions of units."""

    class Status(models.TextChoices):
        VACANT = "vacant", _("Vacant")
        OCCUPIED = "occupied", _("Occupied")
        RENTED = "rented", _("Rented")
        RENOVATING = "renovating", _("Renovating")

    estate = models.ForeignKey(
        Estate, verbose_name=_("estate"), on_delete=models.CASCADE, related_name="units"
    )
    building = models.ForeignKey(
        Building, verbose_name=_("building"), on_delete=models.PROTECT, related_name="units"
    )
    entrance = models.CharField(_("entrance"), max_length=20, blank=True)
    number = models.CharField(_("unit number"), max_length=20)
    floor = models.SmallIntegerField(_("floor"))
    gross_area = models.DecimalField(
        _("gross area (m²)"), max_digits=9, decimal_places=2, validators=POSITIVE_AREA
    )
    inner_area = models.DecimalField(
        _("inner area (m²)"),
        max_digits=9,
        decimal_places=2,
        null=True,
        blank=True,
        validators=POSITIVE_AREA,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.VACANT
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=ESTATE_RECORD_RULES,
        estate_path="estate_id",
        company_path="estate__company_id",
        resident=_resident_sees_units,
    )

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["building__name", "entrance", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "entrance", "number"], name="unit_number_unique"
            ),
            models.CheckConstraint(condition=Q(gross_area__gt=0), name="unit_gross_positive"),
            models.CheckConstraint(
                condition=Q(inner_area__isnull=True)
                | (Q(inner_area__gt=0) & Q(inner_area__lte=models.F("gross_area"))),
                name="unit_inner_within_gross",
            ),
        ]
        indexes = [models.Index(fields=["estate", "status"])]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        return unit_label(self.building.name, self.entrance, self.number)

    def clean(self):
        if (
            self.inner_area is not None
            and self.gross_area is not None
            and self.inner_area > self.gross_area
        ):
            raise ValidationError(
                {"inner_area": _("The inner area cannot be larger than the gross area.")}
            )
        if self.building_id and self.floor is not None:
            building = self.building
            if self.floor > building.floors_above or self.floor < -building.floors_below:
                raise ValidationError({"floor": _("This floor does not exist in the building.")})
            if self.floor == 0:
                raise ValidationError({"floor": _("There is no floor 0.")})


class CommonArea(TimeStampedModel):
    """公共区域: places everyone shares, where requests and patrols happen."""

    class Kind(models.TextChoices):
        LOBBY = "lobby", _("Lobby")
        GARAGE = "garage", _("Garage level")
        GARDEN = "garden", _("Garden")
        PUMP_ROOM = "pump_room", _("Pump room")
        POWER_ROOM = "power_room", _("Power distribution room")
        ELEVATOR_ROOM = "elevator_room", _("Elevator machine room")
        ROOF = "roof", _("Roof")
        CORRIDOR = "corridor", _("Corridor and stairs")
        PLAZA = "plaza", _("Plaza and roads")
        FIRE_CONTROL = "fire_control", _("Fire control room")
        OTHER = "other", _("Other")

    estate = models.ForeignKey(
        Estate, verbose_name=_("estate"), on_delete=models.CASCADE, related_name="common_areas"
    )
    building = models.ForeignKey(
        Building,
        verbose_name=_("building"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="common_areas",
    )
    name = models.CharField(_("name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=ESTATE_RECORD_RULES,
        estate_path="estate_id",
        company_path="estate__company_id",
        resident=_resident_sees_common_areas,
    )

    class Meta:
        verbose_name = _("common area")
        verbose_name_plural = _("common areas")
        ordering = ["estate", "name"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "name"], name="common_area_name_unique"),
        ]

    def __str__(self):
        return self.name


class Resident(TimeStampedModel):
    """业主/租户/家庭成员: a person living in or owning units of the company's estates."""

    class Tier(models.TextChoices):
        REGULAR = "regular", _("Regular")
        VIP = "vip", _("VIP")

    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.PROTECT, related_name="residents"
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("portal account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="resident",
    )
    name = models.CharField(_("name"), max_length=64)
    mobile = models.CharField(_("mobile"), max_length=11, validators=[validate_mainland_mobile])
    tier = models.CharField(_("tier"), max_length=10, choices=Tier.choices, default=Tier.REGULAR)
    note = models.CharField(_("note"), max_length=200, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={
            VIEW: ALL_STAFF,
            ADD: RESIDENT_KEEPERS,
            CHANGE: RESIDENT_KEEPERS,
        },
        estate_path="residencies__unit__estate_id",
        company_path="company_id",
        resident=_resident_sees_self,
        multi_valued=True,
    )

    class Meta:
        verbose_name = _("resident")
        verbose_name_plural = _("residents")
        ordering = ["name", "id"]
        constraints = [
            models.UniqueConstraint(fields=["company", "mobile"], name="resident_mobile_unique"),
        ]

    def __str__(self):
        return self.name

    @property
    def masked_mobile(self) -> str:
        return mask_mobile(self.mobile)


class Residency(TimeStampedModel):
    """A resident's link to a unit: as owner, tenant or family member, from move-in to
    move-out."""

    class Relation(models.TextChoices):
        OWNER = "owner", _("Owner")
        TENANT = "tenant", _("Tenant")
        FAMILY = "family", _("Family member")

    resident = models.ForeignKey(
        Resident, verbose_name=_("resident"), on_delete=models.CASCADE, related_name="residencies"
    )
    unit = models.ForeignKey(
        Unit, verbose_name=_("unit"), on_delete=models.CASCADE, related_name="residencies"
    )
    relation = models.CharField(_("relation"), max_length=10, choices=Relation.choices)
    moved_in_on = models.DateField(_("moved in"), null=True, blank=True)
    moved_out_on = models.DateField(_("moved out"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: ALL_STAFF, ADD: RESIDENT_KEEPERS, CHANGE: RESIDENT_KEEPERS},
        estate_path="unit__estate_id",
        company_path="unit__estate__company_id",
        resident=_resident_sees_own_residencies,
    )

    class Meta:
        verbose_name = _("residency")
        verbose_name_plural = _("residencies")
        ordering = ["unit_id", "relation", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["resident", "unit"],
                condition=Q(moved_out_on__isnull=True),
                name="residency_one_current_per_unit",
            ),
            models.CheckConstraint(
                condition=Q(moved_out_on__isnull=True)
                | Q(moved_in_on__isnull=True)
                | Q(moved_out_on__gte=models.F("moved_in_on")),
                name="residency_out_after_in",
            ),
        ]

    def __str__(self):
        return f"{self.resident} · {self.unit} · {self.get_relation_display()}"

    @property
    def is_current(self) -> bool:
        return self.moved_out_on is None or self.moved_out_on >= timezone.localdate()


class Membership(TimeStampedModel):
    """A staff member's role in one estate, or across the company when `estate` is empty."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    company = models.ForeignKey(
        Company, verbose_name=_("company"), on_delete=models.CASCADE, related_name="memberships"
    )
    estate = models.ForeignKey(
        Estate,
        verbose_name=_("estate"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=Role.choices)
    is_active = models.BooleanField(_("active"), default=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={
            VIEW: MANAGERS | {Role.SERVICE_DESK, Role.DISPATCHER},
            ADD: MANAGERS,
            CHANGE: MANAGERS,
        },
        estate_path="estate_id",
        company_path="company_id",
        owner_path="user",
        owner_actions=frozenset({VIEW}),
    )

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        ordering = ["estate_id", "role", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "estate", "role"],
                condition=Q(estate__isnull=False),
                name="membership_unique_in_estate",
            ),
            models.UniqueConstraint(
                fields=["user", "company", "role"],
                condition=Q(estate__isnull=True),
                name="membership_unique_company_wide",
            ),
            models.CheckConstraint(
                condition=Q(estate__isnull=False) | Q(role=Role.COMPANY_ADMIN),
                name="membership_company_wide_only_admin",
            ),
        ]
        indexes = [models.Index(fields=["user", "is_active"])]

    def __str__(self):
        where = self.estate or self.company
        return f"{self.user} · {self.get_role_display()} · {where}"


class Team(TimeStampedModel):
    """班组: a group of staff in an estate with the skills (request categories) it covers."""

    estate = models.ForeignKey(
        Estate, verbose_name=_("estate"), on_delete=models.CASCADE, related_name="teams"
    )
    name = models.CharField(_("name"), max_length=50)
    skills = models.JSONField(_("skills"), default=list, blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("team lead"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="led_teams",
    )
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("members"),
        through="TeamMember",
        related_name="teams",
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=ESTATE_RECORD_RULES,
        estate_path="estate_id",
        company_path="estate__company_id",
    )

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        ordering = ["estate", "name"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "name"], name="team_name_unique"),
        ]

    def __str__(self):
        return self.name

    def clean(self):
        valid = set(Category.values)
        if not isinstance(self.skills, list) or any(s not in valid for s in self.skills):
            raise ValidationError({"skills": _("Unknown skill.")})

    @property
    def skill_labels(self) -> list[str]:
        labels = dict(Category.choices)
        return [str(labels.get(code, code)) for code in self.skills]


class TeamMember(models.Model):
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="team_memberships"
    )
    joined_at = models.DateTimeField(default=timezone.now)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff=ESTATE_RECORD_RULES,
        estate_path="team__estate_id",
        company_path="team__estate__company_id",
        owner_path="user",
        owner_actions=frozenset({VIEW}),
    )

    class Meta:
        verbose_name = _("team member")
        verbose_name_plural = _("team members")
        constraints = [
            models.UniqueConstraint(fields=["team", "user"], name="team_member_unique"),
        ]

    def __str__(self):
        return f"{self.team} · {self.user}"


class ImportJob(TimeStampedModel):
    """One uploaded spreadsheet of buildings, units or residents and what became of it: the
    worker validates every row, then writes all of them or none."""

    class Kind(models.TextChoices):
        BUILDINGS = "buildings", _("Buildings")
        UNITS = "units", _("Units")
        RESIDENTS = "residents", _("Residents")
        WORKBOOK = "workbook", _("Workbook with buildings, units and residents")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        VALIDATING = "validating", _("Checking rows")
        COMMITTING = "committing", _("Saving")
        VALIDATED = "validated", _("Checked, nothing saved")
        FAILED = "failed", _("Failed")
        COMMITTED = "committed", _("Imported")

    RUNNING = frozenset({Status.QUEUED, Status.VALIDATING, Status.COMMITTING})

    estate = models.ForeignKey(
        Estate, verbose_name=_("estate"), on_delete=models.CASCADE, related_name="import_jobs"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    file = models.FileField(_("file"), upload_to="imports/%Y/%m/", max_length=255)
    file_name = models.CharField(_("file name"), max_length=200)
    dry_run = models.BooleanField(_("check only"), default=False)
    # The worker has no request: it writes the report in the uploader's language.
    language = models.CharField(_("language"), max_length=16, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    total_rows = models.PositiveIntegerField(_("rows"), default=0)
    processed_rows = models.PositiveIntegerField(_("rows checked"), default=0)
    error_count = models.PositiveIntegerField(_("errors"), default=0)
    errors = models.JSONField(_("error report"), default=list, blank=True)
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    started_at = models.DateTimeField(_("started at"), null=True, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: MANAGERS, ADD: MANAGERS},
        estate_path="estate_id",
        company_path="estate__company_id",
    )

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["estate", "-created_at"])]

    def __str__(self):
        return self.file_name

    @property
    def is_running(self) -> bool:
        return self.status in self.RUNNING

    @property
    def percent_done(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, self.processed_rows * 100 // self.total_rows)
