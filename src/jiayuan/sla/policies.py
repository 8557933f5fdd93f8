"""Which SLA policy a request falls under, and who is told when it is breached.

A company starts with the built-in policies and escalation chain below (from the service
promises of the property-service standards and common practice); once it saves its own,
those are used instead. The most specific matching policy wins: more matching fields
first, then estate, urgency, category and kind, in that order, so a fee question answered
as an inquiry follows the fee policy and an emergency repair the emergency one.

Policies and chains are read at most once a minute per process and company: intake reads
them for every new request, and a change applies to new requests within the minute.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from jiayuan.core.memo import Memo
from jiayuan.servicedesk.models import Category, Kind, Urgency
from jiayuan.sla.models import Clock, EscalationStep, SlaPolicy

HOUR = 60
BUSINESS, CALENDAR = Clock.BUSINESS, Clock.CALENDAR


@dataclass(frozen=True)
class _Default:
    name: str  # gettext_noop'd: translated when a policy is built
    kind: str = ""
    category: str = ""
    urgency: str = ""
    # target -> (minutes, clock)
    accept: tuple[int, str] | None = None
    response: tuple[int, str] | None = None
    arrival: tuple[int, str] | None = None
    resolution: tuple[int, str] | None = None


DEFAULT_POLICIES = (
    _Default(
        gettext_noop("Default"),
        accept=(2 * HOUR, BUSINESS),
        response=(24 * HOUR, BUSINESS),
        resolution=(48 * HOUR, BUSINESS),
    ),
    _Default(
        gettext_noop("Emergency repair"),
        kind=Kind.REPAIR,
        urgency=Urgency.EMERGENCY,
        accept=(5, CALENDAR),
        response=(10, CALENDAR),
        arrival=(30, CALENDAR),
        resolution=(24 * HOUR, CALENDAR),
    ),
    _Default(
        gettext_noop("Urgent repair"),
        kind=Kind.REPAIR,
        urgency=Urgency.URGENT,
        accept=(30, CALENDAR),
        response=(1 * HOUR, CALENDAR),
        arrival=(2 * HOUR, CALENDAR),
        resolution=(24 * HOUR, BUSINESS),
    ),
    _Default(
        gettext_noop("Repair"),
        kind=Kind.REPAIR,
        accept=(2 * HOUR, BUSINESS),
        response=(24 * HOUR, BUSINESS),
        resolution=(48 * HOUR, BUSINESS),
    ),
    _Default(
        gettext_noop("Complaint"),
        kind=Kind.COMPLAINT,
        accept=(2 * HOUR, BUSINESS),
        response=(24 * HOUR, BUSINESS),
        resolution=(48 * HOUR, BUSINESS),
    ),
    _Default(
        gettext_noop("Inquiry"),
        kind=Kind.INQUIRY,
        accept=(2 * HOUR, BUSINESS),
        response=(24 * HOUR, BUSINESS),
    ),
    _Default(
        gettext_noop("Fee question"),
        category=Category.BILLING,
        accept=(2 * HOUR, BUSINESS),
        response=(48 * HOUR, BUSINESS),
        resolution=(48 * HOUR, BUSINESS),
    ),
)

# (level, recipient, minutes after the step before)
DEFAULT_CHAIN = (
    (1, EscalationStep.Recipient.TEAM_LEAD, 0),
    (2, EscalationStep.Recipient.ESTATE_MANAGER, 1 * HOUR),
    (3, EscalationStep.Recipient.SERVICE_DIRECTOR, 4 * HOUR),
)

TARGETS = ("accept", "response", "arrival", "resolution")


def default_policies(company_id: int) -> list[SlaPolicy]:
    """The built-in policies as unsaved rows of the company."""
    policies = []
    for default in DEFAULT_POLICIES:
        policy = SlaPolicy(
            company_id=company_id,
            name=_(default.name),
            kind=default.kind,
            category=default.category,
            urgency=default.urgency,
        )
        for target in TARGETS:
            value = getattr(default, target)
            setattr(policy, f"{target}_minutes", value[0] if value else None)
            if value:
                setattr(policy, f"{target}_clock", value[1])
        policies.append(policy)
    return policies


def default_chain(company_id: int) -> list[EscalationStep]:
    return [
        EscalationStep(company_id=company_id, level=level, recipient=who, delay_minutes=delay)
        for level, who, delay in DEFAULT_CHAIN
    ]


# ----------------------------------------------------------------------------- matching

_rules = Memo("sla.policies")  # keys: (what, company id)


def forget_company(company_id: int) -> None:
    """Drop this process's copy after a change, so the one who changed it sees it at once."""
    _rules.forget(lambda key: key[1] == company_id)


def company_policies(company_id: int) -> list[SlaPolicy]:
    def load():
        saved = list(SlaPolicy.objects.filter(company_id=company_id))
        return saved or default_policies(company_id)

    return _rules.get(("policies", company_id), load)


def _specificity(policy: SlaPolicy) -> tuple:
    fields = (
        bool(policy.estate_id),
        bool(policy.urgency),
        bool(policy.category),
        bool(policy.kind),
    )
    return (sum(fields), *fields)


def matches(policy: SlaPolicy, estate_id: int | None, request) -> bool:
    return (
        (not policy.estate_id or policy.estate_id == estate_id)
        and (not policy.kind or policy.kind == request.kind)
        and (not policy.category or policy.category == request.category)
        and (not policy.urgency or policy.urgency == request.urgency)
    )


def policy_for(company_id: int, estate_id: int | None, request) -> SlaPolicy:
    """The most specific of the company's policies that matches the request (its kind,
    category and urgency). A company's own policies always include a default (the services
    refuse to delete it), and the built-in set has one."""
    candidates = [p for p in company_policies(company_id) if matches(p, estate_id, request)]
    return max(candidates or default_policies(company_id)[:1], key=_specificity)


def escalation_chain(company_id: int, estate_id: int | None) -> list[EscalationStep]:
    """The estate's own chain if it has one, else the company's, else the built-in one."""

    def load():
        return list(EscalationStep.objects.filter(company_id=company_id).order_by("level"))

    steps = _rules.get(("chain", company_id), load)
    own = [s for s in steps if s.estate_id == estate_id and estate_id is not None]
    company = [s for s in steps if s.estate_id is None]
    return (
        own
        or company
        or _rules.get(("default chain", company_id), lambda: default_chain(company_id))
    )
