"""Who can be sent: technicians' skills, places, shifts and caps; how each estate and
category is dispatched; the grab pool's offers."""

from datetime import datetime

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import ADD, CHANGE, DELETE, VIEW, Access, RestrictedQuerySet
from jiayuan.core.models import QuickChoiceLabels, TimeStampedModel
from jiayuan.core.roles import ALL_STAFF, MANAGERS, Role
from jiayuan.servicedesk.models import Category

# Managers and dispatchers keep the profiles and the modes; every staff member may look.
DISPATCH_KEEPERS = MANAGERS | {Role.DISPATCHER}
KEEPER_RULES = {VIEW: ALL_STAFF, ADD: DISPATCH_KEEPERS, CHANGE: DISPATCH_KEEPERS}
SKILL_LEVELS = ((1, _("Basic")), (2, _("Skilled")), (3, _("Expert")))
DEFAULT_MAX_OPEN = 5
DEFAULT_GRAB_MINUTES = 10


class TechnicianProfile(TimeStampedModel):
    """One technician in one estate: what they can fix and how well, where they work,
    when they are on duty and how many open orders they can hold."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("technician"),
        on_delete=models.CASCADE,
        related_name="technician_profiles",
    )
    estate = models.ForeignKey(
        "org.Estate",
        verbose_name=_("home estate"),
        on_delete=models.CASCADE,
        related_name="technician_profiles",
    )
    team = models.ForeignKey(
        "org.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="technician_profiles",
    )
    # Category code → level (1 basic, 2 skilled, 3 expert).
    skills = models.JSONField(_("skills"), default=dict, blank=True)
    buildings = models.ManyToManyField(
        "org.Building",
        verbose_name=_("buildings covered"),
        blank=True,
        related_name="+",
        help_text=_("Leave empty to cover the whole estate."),
    )
    max_open = models.PositiveSmallIntegerField(
        _("most open orders"),
        default=DEFAULT_MAX_OPEN,
        validators=[MinValueValidator(1), MaxValueValidator(50)],
    )
    is_active = models.BooleanField(_("takes orders"), default=True)
    # When they were last given an order: round-robin gives the next to whoever waited longest.
    last_given_at = models.DateTimeField(_("last order given"), null=True, blank=True)

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={**KEEPER_RULES, DELETE: DISPATCH_KEEPERS},
        estate_path="estate_id",
        company_path="estate__company_id",
        owner_path="user",
        owner_actions=frozenset({VIEW}),
    )

    class Meta:
        verbose_name = _("technician profile")
        verbose_name_plural = _("technician profiles")
        ordering = ["estate", "user__name", "user_id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "estate"], name="technician_once_per_estate"),
        ]

    def __str__(self):
        return self.user.get_short_name() or self.user.get_username()

    def skill_level(self, category: str) -> int:
        return int(self.skills.get(category, 0) or 0)

    @property
    def skill_labels(self) -> list[tuple[str, int]]:
        labels = dict(Category.choices)
        return [(str(labels.get(code, code)), level) for code, level in sorted(self.skills.items())]


class Shift(models.Model):
    """A weekly working window (local time of the estate); one that ends at or before its
    start runs past midnight into the next day."""

    profile = models.ForeignKey(TechnicianProfile, on_delete=models.CASCADE, related_name="shifts")
    weekday = models.PositiveSmallIntegerField(
        _("weekday"), validators=[MinValueValidator(0), MaxValueValidator(6)]
    )
    starts = models.TimeField(_("from"))
    ends = models.TimeField(_("until"))

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={**KEEPER_RULES, DELETE: DISPATCH_KEEPERS},
        estate_path="profile__estate_id",
        company_path="profile__estate__company_id",
        owner_path="profile__user",
        owner_actions=frozenset({VIEW}),
    )

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["profile", "weekday", "starts"]

    def __str__(self):
        return f"{self.weekday} {self.starts:%H:%M}–{self.ends:%H:%M}"

    def covers(self, local: datetime) -> bool:
        moment, day = local.time(), local.weekday()
        if self.starts < self.ends:
            return day == self.weekday and self.starts <= moment < self.ends
        # Past midnight: the evening part on its weekday, the morning part on the next.
        return (day == self.weekday and moment >= self.starts) or (
            day == (self.weekday + 1) % 7 and moment < self.ends
        )


def on_duty(shifts, local: datetime) -> bool:
    return any(shift.covers(local) for shift in shifts)


class Mode(models.TextChoices):
    MANUAL = "manual", _("Manual, with suggestions")
    AUTOMATIC = "automatic", _("Automatic")
    ROUND_ROBIN = "round_robin", _("Round-robin")
    GRAB = "grab", _("Grab pool")


class DispatchRule(TimeStampedModel):
    """How requests of an estate (and one category, or all) are dispatched. The most
    specific rule wins; with none, dispatch is manual with suggestions."""

    estate = models.ForeignKey(
        "org.Estate", verbose_name=_("estate"), on_delete=models.CASCADE, related_name="+"
    )
    category = models.CharField(_("category"), max_length=32, choices=Category.choices, blank=True)
    mode = models.CharField(_("mode"), max_length=12, choices=Mode.choices)
    grab_minutes = models.PositiveSmallIntegerField(
        _("minutes in the grab pool"),
        default=DEFAULT_GRAB_MINUTES,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text=_("If nobody grabs the order in this time it is dispatched automatically."),
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={**KEEPER_RULES, DELETE: DISPATCH_KEEPERS},
        estate_path="estate_id",
        company_path="estate__company_id",
    )

    class Meta:
        verbose_name = _("dispatch mode")
        verbose_name_plural = _("dispatch modes")
        ordering = ["estate", "category"]
        constraints = [
            models.UniqueConstraint(fields=["estate", "category"], name="dispatch_rule_unique"),
        ]

    def __str__(self):
        return f"{self.get_category_display() or _('All categories')} · {self.get_mode_display()}"


class GrabOffer(QuickChoiceLabels, models.Model):
    """抢单: a request shown to the able technicians on duty until one grabs it or time runs
    out (then it is dispatched automatically)."""

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        GRABBED = "grabbed", _("Grabbed")
        EXPIRED = "expired", _("Expired")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    request = models.ForeignKey(
        "servicedesk.ServiceRequest",
        verbose_name=_("request"),
        on_delete=models.CASCADE,
        related_name="grab_offers",
    )
    estate = models.ForeignKey("org.Estate", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    opened_at = models.DateTimeField(_("offered at"))
    expires_at = models.DateTimeField(_("open until"))
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    grabbed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("grabbed by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = RestrictedQuerySet.as_manager()
    access = Access(
        staff={VIEW: ALL_STAFF},
        estate_path="estate_id",
        company_path="estate__company_id",
    )

    class Meta:
        verbose_name = _("grab offer")
        verbose_name_plural = _("grab offers")
        ordering = ["expires_at", "id"]
        constraints = [
            # One open offer per request: offering twice would let two people grab it.
            models.UniqueConstraint(
                fields=["request"], condition=Q(status="open"), name="grab_offer_one_open"
            ),
        ]
        indexes = [
            models.Index(
                fields=["expires_at"], condition=Q(status="open"), name="grab_offer_open_due"
            ),
        ]

    def __str__(self):
        return str(self.request)
