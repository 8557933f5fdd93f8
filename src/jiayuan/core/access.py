"""Tenancy and permissions: the one `restrict(user, action)` mechanism.

Every model that reaches a user declares an `access = Access(...)` rule saying how its rows
lead to an estate, a company, a resident or a personal owner, and which staff roles may do
which action. `Model.objects.restrict(user, action)` turns that rule into a filter, and the
pages, the API and the services all read through it. A row the user may not see is treated
exactly like a row that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.apps import apps
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q
from django.http import Http404
from django.utils.translation import gettext as _

from jiayuan.core.roles import MANAGERS, Role

if TYPE_CHECKING:
    from jiayuan.accounts.models import User

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"

ResidentFilter = Callable[[Any], Q]


@dataclass(frozen=True)
class Access:
    """How a model's rows are scoped.

    estate_path / company_path: lookups from the model to the Estate / Company primary key;
    resident: builds the filter of rows a resident user may see (their units, their records);
    owner_path: lookup to the user who personally owns the row (their notifications, tokens);
    staff: action -> roles allowed, within the estates (or company) of the membership;
    narrowed: role -> a filter (built from the user) that further narrows what that role
        reaches inside its estates, e.g. a technician sees only the work given to them;
    multi_valued: a path crosses a to-many relation, so rows must be de-duplicated.
    """

    staff: dict[str, frozenset[Role]] = field(default_factory=dict)
    estate_path: str | None = None
    company_path: str | None = None
    resident: ResidentFilter | None = None
    resident_actions: frozenset[str] = frozenset({VIEW})
    owner_path: str | None = None
    owner_actions: frozenset[str] = frozenset({VIEW, CHANGE})
    narrowed: dict[str, ResidentFilter] = field(default_factory=dict)
    multi_valued: bool = False


@dataclass(frozen=True)
class Grant:
    company_id: int
    estate_id: int | None  # None: the role covers every estate of the company
    role: str


def grants_of(user: User) -> tuple[Grant, ...]:
    """The user's staff memberships, read once per user object (one request)."""
    cached = getattr(user, "_jiayuan_grants", None)
    if cached is None:
        membership = apps.get_model("org", "Membership")
        rows = membership.objects.filter(user=user, is_active=True).values_list(
            "company_id", "estate_id", "role"
        )
        cached = tuple(Grant(*row) for row in rows)
        user._jiayuan_grants = cached
    return cached


def grants_known_empty(user: User) -> None:
    """Record that the user holds no staff membership (learnt with another query, such as
    the sign-in by token), so the first check does not read them again."""
    user._jiayuan_grants = ()


def forget_grants(user: User) -> None:
    """Call after changing a user's memberships so the next check reads them again."""
    user.__dict__.pop("_jiayuan_grants", None)


def company_or_own_estates(prefix: str = "") -> ResidentFilter:
    """A `narrowed` rule for company records that may name one estate: a company-wide row
    reaches every staff member of the company, an estate's row only the staff of that
    estate and the company-wide roles. Shared so that every app scopes such records alike.
    `prefix` leads from the model to the row that holds `estate` and `company`."""

    def narrow(user) -> Q:
        grants = grants_of(user)
        estates = sorted({g.estate_id for g in grants if g.estate_id is not None})
        companies = sorted({g.company_id for g in grants if g.estate_id is None})
        return (
            Q(**{f"{prefix}estate__isnull": True})
            | Q(**{f"{prefix}estate_id__in": estates})
            | Q(**{f"{prefix}company_id__in": companies})
        )

    return narrow


def _is_active_user(user) -> bool:
    return bool(user is not None and user.is_authenticated and user.is_active)


def visibility_filter(
    model: type[models.Model], user, action: str, *, staff_only: bool = False
) -> Q | None:
    """The Q of rows `user` may `action`; None means every row (superuser). `staff_only`
    leaves out what a resident or a reporter sees as such: the rows of the staff roles."""
    access: Access = model.access
    if user.is_superuser:
        return None
    condition = Q(pk__in=[])
    roles = access.staff.get(action, frozenset())
    grants = [g for g in grants_of(user) if g.role in roles]
    condition |= _within_grants(access, [g for g in grants if g.role not in access.narrowed])
    for role, narrow in access.narrowed.items():
        role_grants = [g for g in grants if g.role == role]
        if role_grants:
            condition |= _within_grants(access, role_grants) & narrow(user)
    if staff_only:
        return condition
    if access.resident is not None and action in access.resident_actions:
        condition |= access.resident(user)
    if access.owner_path and action in access.owner_actions:
        # The primary key, not the object: request.user is a lazy proxy that a plain
        # "pk" path (the User model's own rule) cannot turn into a number.
        condition |= Q(**{access.owner_path: user.pk})
    return condition


def _within_grants(access: Access, grants: list[Grant]) -> Q:
    condition = Q(pk__in=[])
    estate_ids = sorted({g.estate_id for g in grants if g.estate_id is not None})
    company_ids = sorted({g.company_id for g in grants if g.estate_id is None})
    if estate_ids and access.estate_path:
        condition |= Q(**{f"{access.estate_path}__in": estate_ids})
    if company_ids and access.company_path:
        condition |= Q(**{f"{access.company_path}__in": company_ids})
    return condition


def sees_whole_estate(user, model: type[models.Model], action: str, estate) -> bool:
    """Does one of the user's roles reach every row of `model` in this estate?"""
    access: Access = model.access
    roles = access.staff.get(action, frozenset()) - set(access.narrowed)
    return bool(roles_in_estate(user, estate) & roles)


class RestrictedQuerySet(models.QuerySet):
    def restrict(self, user, action: str = VIEW, *, staff_only: bool = False) -> RestrictedQuerySet:
        if not _is_active_user(user):
            return self.none()
        condition = visibility_filter(self.model, user, action, staff_only=staff_only)
        if condition is None:
            return self
        if self.model.access.multi_valued:
            visible = self.model._base_manager.filter(condition).values("pk")
            return self.filter(pk__in=visible)
        return self.filter(condition)

    def restrict_in_estate(self, user, estate, action: str = VIEW) -> RestrictedQuerySet:
        """restrict() narrowed to one estate. Where the user's role sees every row of the
        estate the estate alone is the filter: the same rows, but a condition the database
        answers from the estate's indexes, where restrict()'s OR of every way to see a row
        (a staff role, being the reporter...) makes it read each row to decide."""
        estate_path = self.model.access.estate_path
        if (
            estate_path
            and _is_active_user(user)
            and sees_whole_estate(user, self.model, action, estate)
        ):
            return self.filter(**{estate_path: estate.pk})
        return self.restrict(user, action).filter(**{estate_path: estate.pk})


def roles_in_estate(user, estate) -> set[str]:
    """Roles the user holds in this estate, counting company-wide roles."""
    if not _is_active_user(user):
        return set()
    return {
        g.role
        for g in grants_of(user)
        if g.estate_id == estate.pk or (g.estate_id is None and g.company_id == estate.company_id)
    }


def estate_managers(estate) -> list[User]:
    """The active people who manage the estate: its estate managers and the company-wide
    managers. Whom the apps tell when something there needs a manager's eye."""
    membership = apps.get_model("org", "Membership")
    memberships = membership.objects.filter(is_active=True, user__is_active=True).filter(
        Q(company_id=estate.company_id, estate__isnull=True, role__in=MANAGERS)
        | Q(estate=estate, role=Role.ESTATE_MANAGER)
    )
    return [m.user for m in memberships.select_related("user")]


def can_in_estate(user, model: type[models.Model], action: str, estate) -> bool:
    """May the user do `action` on `model` rows of this estate (used for creating rows)."""
    if not _is_active_user(user):
        return False
    if user.is_superuser:
        return True
    return bool(roles_in_estate(user, estate) & set(model.access.staff.get(action, ())))


def has_role_anywhere(user, roles: Iterable[str]) -> bool:
    if not _is_active_user(user):
        return False
    wanted = set(roles)
    return user.is_superuser or any(g.role in wanted for g in grants_of(user))


def get_visible(queryset_or_model, user, action: str = VIEW, **lookup):
    """The object if the user may `action` it, else Http404 — missing and forbidden alike."""
    queryset = (
        queryset_or_model
        if isinstance(queryset_or_model, models.QuerySet)
        else queryset_or_model._default_manager.all()
    )
    try:
        return queryset.restrict(user, action).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404(_("Not found.")) from exc


def visible_or_none(model, user, pk):
    """For optional filters naming an object (`?estate=`): None when not given, else the
    object, with the 404 of get_visible when the user cannot see it."""
    return None if pk is None else get_visible(model, user, pk=pk)


def ensure_company_role(
    actor, company, roles: Collection[str], *, company_wide: bool = False
) -> None:
    """For company-wide records (settings, templates, checklists, courses): 404 for someone
    outside the company, 403 for someone in it without one of `roles` (in any of its
    estates, or only company-wide when `company_wide`), the same answers restrict() gives
    on their rows. One rule for every app that keeps such records."""
    if actor.is_superuser:
        return
    grants = [g for g in grants_of(actor) if g.company_id == company.pk]
    if not grants:
        raise Http404(_("Not found."))
    if not any(g.role in roles and (g.estate_id is None or not company_wide) for g in grants):
        raise PermissionDenied(_("You are not allowed to do this."))


def ensure_allowed(user, action: str, instance: models.Model) -> None:
    """For writes: 404 if the user cannot even see the object, 403 if they see but may not act."""
    manager = type(instance)._default_manager
    if not manager.restrict(user, VIEW).filter(pk=instance.pk).exists():
        raise Http404(_("Not found."))
    if action != VIEW and not manager.restrict(user, action).filter(pk=instance.pk).exists():
        raise PermissionDenied(_("You are not allowed to do this."))


def ensure_can_in_estate(user, model: type[models.Model], action: str, estate) -> None:
    if not can_in_estate(user, type(estate), VIEW, estate):
        raise Http404(_("Not found."))
    if not can_in_estate(user, model, action, estate):
        raise PermissionDenied(_("You are not allowed to do this."))
