"""The two life cycles of supervision in one table each: a rectification order (open → fixed
→ verified, or rejected back to open) and an improvement action (plan → do → check → act →
closed). Services check every change against them; pages and the API ask them which
actions to offer."""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import roles_in_estate
from jiayuan.core.roles import MANAGERS
from jiayuan.supervision.models import INSPECTORS, RectificationOrder, Stage

# Besides staff roles in the estate, one person matters by their relation to the row.
OWNER = "owner"


@dataclass(frozen=True)
class Transition:
    action: str
    label: str
    source: str
    target: str
    actors: frozenset[str]
    # Verifying and rejecting are a second pair of eyes: never the owner, never whoever
    # marked the order fixed.
    four_eyes: bool = False


Order = RectificationOrder.Status
ORDER_TRANSITIONS: tuple[Transition, ...] = (
    Transition("fix", _("Mark fixed"), Order.OPEN, Order.FIXED, frozenset({OWNER} | MANAGERS)),
    Transition(
        "verify", _("Verify"), Order.FIXED, Order.VERIFIED, frozenset(INSPECTORS), four_eyes=True
    ),
    Transition(
        "reject", _("Reject"), Order.FIXED, Order.OPEN, frozenset(INSPECTORS), four_eyes=True
    ),
)

# The owner or a manager completes each stage and moves to the next.
PDCA_ACTORS = frozenset({OWNER} | MANAGERS)
ACTION_TRANSITIONS: tuple[Transition, ...] = (
    Transition("advance", _("Start doing"), Stage.PLAN, Stage.DO, PDCA_ACTORS),
    Transition("advance", _("Record what was done"), Stage.DO, Stage.CHECK, PDCA_ACTORS),
    Transition("advance", _("Record the effect"), Stage.CHECK, Stage.ACT, PDCA_ACTORS),
    Transition("advance", _("Decide and close"), Stage.ACT, Stage.CLOSED, PDCA_ACTORS),
)


def relations(user, row) -> set[str]:
    """The person's staff roles in the row's estate, and `owner` if the row is theirs."""
    if not (user and user.is_authenticated and user.is_active):
        return set()
    found = set(roles_in_estate(user, row.estate))
    if getattr(row, "owner_id", None) == user.pk:
        found.add(OWNER)
    if user.is_superuser:
        found |= set(MANAGERS)
    return found


def may_take(user, row, transition: Transition) -> bool:
    if not relations(user, row) & transition.actors:
        return False
    second_pair = {getattr(row, "owner_id", None), getattr(row, "fixed_by_id", None)}
    return not (transition.four_eyes and user.pk in second_pair)


def order_transition(action: str, status: str) -> Transition | None:
    return next((t for t in ORDER_TRANSITIONS if t.action == action and t.source == status), None)


def action_transition(status: str) -> Transition | None:
    return next((t for t in ACTION_TRANSITIONS if t.source == status), None)


def allowed_order_actions(user, order: RectificationOrder) -> list[Transition]:
    return [t for t in ORDER_TRANSITIONS if t.source == order.status and may_take(user, order, t)]


def may_advance(user, action) -> Transition | None:
    transition = action_transition(action.status)
    return transition if transition and may_take(user, action, transition) else None
