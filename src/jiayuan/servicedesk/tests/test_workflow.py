"""The workflow table, checked case by case against the services: for every kind, every
state a request can reach, every action and each persona, the service does exactly what
workflow.TRANSITIONS says (and `allowed_transitions` offers exactly that), and a refusal
writes nothing.

Who holds which relation to the request is written out here, not read from
`services.actor_relations`, so the code under test is not its own oracle."""

from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count
from django.http import Http404
from django.test import override_settings

from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import build_personas
from jiayuan.servicedesk import services, workflow
from jiayuan.servicedesk.events import event_of_action
from jiayuan.servicedesk.models import (
    DESK_ROLES,
    Kind,
    ReturnVisit,
    ServiceRequest,
    Status,
)
from jiayuan.servicedesk.services import RequestChanged

pytestmark = pytest.mark.django_db

CATEGORY = {
    Kind.REPAIR: "plumbing",
    Kind.COMPLAINT: "noise_neighbor",
    Kind.INQUIRY: "billing",
    Kind.SUGGESTION: "other",
    Kind.PRAISE: "other",
}

# ----------------------------------------------------------------------------- driving


def report(p, kind: str) -> ServiceRequest:
    """A request of this kind reported by owner_a101 on the portal."""
    return services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind=kind,
        category=CATEGORY[kind],
        description="测试：厨房水龙头漏水",
        unit=p.unit_a101,
    )


# One step of a request's life, done by the person who normally does it.
STEPS = {
    "accept": lambda p, r: services.request_accept(actor=p.clerk_a, request=r),
    "decline": lambda p, r: services.request_decline(actor=p.clerk_a, request=r, reason="重复"),
    "cancel": lambda p, r: services.request_cancel(actor=p.owner_a101, request=r, reason="不用了"),
    "dispatch": lambda p, r: services.request_dispatch(
        actor=p.dispatcher_a, request=r, assignee=p.technician_a
    ),
    "take": lambda p, r: services.request_take(actor=p.technician_a, request=r),
    "arrive": lambda p, r: services.request_arrive(actor=p.technician_a, request=r),
    "complete": lambda p, r: services.request_complete(
        actor=p.technician_a, request=r, work_notes="更换阀芯"
    ),
    "investigate": lambda p, r: services.request_investigate(
        actor=p.clerk_a, request=r, assignee=p.technician_a
    ),
    "reply": lambda p, r: services.request_reply(actor=p.clerk_a, request=r, reply="已处理"),
    "hold": lambda p, r: services.request_hold(actor=p.dispatcher_a, request=r, reason="等配件"),
    "confirm": lambda p, r: services.request_confirm(actor=p.owner_a101, request=r),
}


@dataclass(frozen=True)
class Scenario:
    """A state a request of some kinds can be in, and the steps that lead there."""

    name: str
    status: str
    steps: tuple[str, ...]
    kinds: frozenset[str]
    # technician_a holds the request (it was sent to them).
    with_technician: bool = False
    held_from: str = ""
    # The technician has taken the order: "take" is no longer possible.
    taken: bool = False


REPAIR, COMPLAINT = frozenset({Kind.REPAIR}), frozenset({Kind.COMPLAINT})
SIMPLE = frozenset({Kind.INQUIRY, Kind.SUGGESTION, Kind.PRAISE})
S = Status
SCENARIOS = [
    Scenario("submitted", S.SUBMITTED, (), frozenset(Kind)),
    Scenario("accepted", S.ACCEPTED, ("accept",), frozenset(Kind)),
    Scenario("declined", S.DECLINED, ("decline",), frozenset(Kind)),
    Scenario("cancelled", S.CANCELLED, ("cancel",), frozenset(Kind)),
    Scenario("dispatched", S.DISPATCHED, ("dispatch",), REPAIR, with_technician=True),
    Scenario("taken", S.DISPATCHED, ("dispatch", "take"), REPAIR, with_technician=True, taken=True),
    Scenario("in_progress", S.IN_PROGRESS, ("dispatch", "arrive"), REPAIR, with_technician=True),
    Scenario(
        "completed", S.COMPLETED, ("dispatch", "arrive", "complete"), REPAIR, with_technician=True
    ),
    Scenario(
        "closed",
        S.CLOSED,
        ("dispatch", "arrive", "complete", "confirm"),
        REPAIR,
        with_technician=True,
    ),
    Scenario(
        "on_hold_accepted", S.ON_HOLD, ("accept", "hold"), REPAIR | COMPLAINT, held_from=S.ACCEPTED
    ),
    Scenario(
        "on_hold_dispatched",
        S.ON_HOLD,
        ("dispatch", "hold"),
        REPAIR,
        with_technician=True,
        held_from=S.DISPATCHED,
    ),
    Scenario(
        "on_hold_in_progress",
        S.ON_HOLD,
        ("dispatch", "arrive", "hold"),
        REPAIR,
        with_technician=True,
        held_from=S.IN_PROGRESS,
        taken=True,
    ),
    Scenario("investigating", S.INVESTIGATING, ("investigate",), COMPLAINT, with_technician=True),
    Scenario(
        "on_hold_investigating",
        S.ON_HOLD,
        ("investigate", "hold"),
        COMPLAINT,
        with_technician=True,
        held_from=S.INVESTIGATING,
    ),
    Scenario("replied", S.REPLIED, ("investigate", "reply"), COMPLAINT, with_technician=True),
    Scenario(
        "closed", S.CLOSED, ("investigate", "reply", "confirm"), COMPLAINT, with_technician=True
    ),
    Scenario("replied", S.REPLIED, ("reply",), SIMPLE),
    Scenario("closed", S.CLOSED, ("reply", "confirm"), SIMPLE),
]


def scenarios_of(kind: str) -> list[Scenario]:
    return [s for s in SCENARIOS if kind in s.kinds]


def drive(p, kind: str, scenario: Scenario) -> ServiceRequest:
    """A fresh request of `kind` brought to the scenario's state through the services."""
    request = report(p, kind)
    for step in scenario.steps:
        request = STEPS[step](p, request)
    request = ServiceRequest.objects.get(pk=request.pk)
    assert request.status == scenario.status, (kind, scenario.name)
    assert (request.assignee == p.technician_a) == scenario.with_technician
    return request


# ----------------------------------------------------------------------------- the world


@dataclass
class World:
    personas: object
    requests: dict  # (kind, scenario name) -> request pk


@pytest.fixture(scope="module")
def world(django_db_setup, django_db_blocker):
    """Every (kind, state) request built once for this module, inside a transaction that
    is rolled back at the end; each test runs in its own savepoint within it, so it starts
    from the built state and leaves it untouched. Building them per test would cost
    minutes over the thousands of cases."""
    with (
        django_db_blocker.unblock(),
        override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]),
        transaction.atomic(),
    ):
        p = build_personas()
        requests = {
            (kind, scenario.name): drive(p, kind, scenario).pk
            for kind in Kind
            for scenario in scenarios_of(kind)
        }
        yield World(p, requests)
        transaction.set_rollback(True)


# ----------------------------------------------------------------------------- the oracle

PERSONAS = [
    "clerk_a",
    "dispatcher_a",
    "technician_a",
    "owner_a101",
    "owner_a102",
    "security_a",
    "clerk_b",
    "outsider",
]
# Staff roles each persona holds in estate_a (clerk_b and outsider work elsewhere).
ROLES_IN_ESTATE_A = {
    "clerk_a": Role.SERVICE_DESK,
    "dispatcher_a": Role.DISPATCHER,
    "technician_a": Role.TECHNICIAN,
    "security_a": Role.SECURITY,
}
# One service per action; "cancel" is one service for the owner's and the desk's cancel.
ACTIONS = sorted({t.action for t in workflow.TRANSITIONS} - {"cancel_by_desk"})


def relations(persona: str, scenario: Scenario) -> set[str]:
    held = set()
    if persona in ROLES_IN_ESTATE_A:
        held.add(ROLES_IN_ESTATE_A[persona])
    if persona == "owner_a101":
        held.add(workflow.REPORTER)  # every request here is theirs
    if persona == "technician_a" and scenario.with_technician:
        held.add(workflow.ASSIGNEE)
    return held


def sees(persona: str, scenario: Scenario, action: str) -> bool:
    if action == "reopen_after_visit":
        # Done through the return visit, which only desk roles see.
        return ROLES_IN_ESTATE_A.get(persona) in DESK_ROLES
    if persona in ("clerk_a", "dispatcher_a", "owner_a101"):
        return True
    # Field staff see only the work given to them.
    return persona == "technician_a" and scenario.with_technician


def effective_action(action: str, persona: str, scenario: Scenario) -> str:
    if action == "cancel" and workflow.REPORTER not in relations(persona, scenario):
        return "cancel_by_desk"
    return action


@dataclass(frozen=True)
class Expected:
    transition: workflow.Transition | None = None
    error: type[Exception] | None = None


def expected(kind: str, scenario: Scenario, action: str, persona: str) -> Expected:
    """What the table says, in the order the services check: visibility, the kind, the
    state, the person; "take" also needs an order nobody has taken yet."""
    if not sees(persona, scenario, action):
        return Expected(error=Http404)
    transition = workflow.transition_for(effective_action(action, persona, scenario), kind)
    if transition is None:
        return Expected(error=ValidationError)
    if scenario.status not in transition.sources:
        return Expected(error=RequestChanged)
    if not transition.actors & relations(persona, scenario):
        return Expected(error=PermissionDenied)
    if action == "take" and scenario.taken:
        return Expected(error=RequestChanged)
    return Expected(transition=transition)


def offered(kind: str, scenario: Scenario, persona: str) -> set[str]:
    """The buttons the table gives this persona on this request."""
    return {
        t.action
        for t in workflow.transitions_of(kind)
        if scenario.status in t.sources
        and t.actors & relations(persona, scenario)
        and not (t.action == "take" and scenario.taken)
    }


def expected_target(transition: workflow.Transition, scenario: Scenario) -> str:
    if transition.target is not None:
        return transition.target
    if transition.action == "resume":
        return scenario.held_from
    if transition.action == "transfer" and scenario.status == Status.IN_PROGRESS:
        # The service's one exception to "stays where it is": the new technician still
        # has to arrive.
        return Status.DISPATCHED
    return scenario.status


# ----------------------------------------------------------------------------- the calls


def act(p, action: str, actor, request: ServiceRequest):
    """Take `action` as `actor` with valid input, so only the workflow can refuse it."""
    calls = {
        "accept": lambda: services.request_accept(actor=actor, request=request),
        "decline": lambda: services.request_decline(actor=actor, request=request, reason="重复"),
        "cancel": lambda: services.request_cancel(actor=actor, request=request, reason="不用了"),
        "dispatch": lambda: services.request_dispatch(
            actor=actor, request=request, assignee=p.technician_a
        ),
        "take": lambda: services.request_take(actor=actor, request=request),
        "arrive": lambda: services.request_arrive(actor=actor, request=request),
        "complete": lambda: services.request_complete(
            actor=actor, request=request, work_notes="更换阀芯"
        ),
        "investigate": lambda: services.request_investigate(
            actor=actor, request=request, assignee=p.technician_a
        ),
        "reply": lambda: services.request_reply(actor=actor, request=request, reply="已处理"),
        "transfer": lambda: services.request_transfer(
            actor=actor, request=request, reason="换人", team=p.team_a
        ),
        "return": lambda: services.request_return(actor=actor, request=request, reason="缺配件"),
        "hold": lambda: services.request_hold(actor=actor, request=request, reason="等配件"),
        "resume": lambda: services.request_resume(actor=actor, request=request),
        "confirm": lambda: services.request_confirm(actor=actor, request=request),
        "reopen": lambda: services.request_reopen(actor=actor, request=request, reason="没修好"),
        "reopen_after_visit": lambda: services.return_visit_record(
            actor=actor,
            visit=ReturnVisit.objects.get(request=request),
            method=ReturnVisit.Method.PHONE,
            outcome=ReturnVisit.Outcome.UNSATISFIED,
            follow_up="reopen",
        ),
    }
    return calls[action]()


def written(request: ServiceRequest) -> tuple:
    """What a refused action must leave as it was."""
    row = (
        ServiceRequest.objects.annotate(hops=Count("handlings"))
        .values_list("status", "version", "hops")
        .get(pk=request.pk)
    )
    return row, AuditEvent.objects.count()


CASES = [
    pytest.param(kind, scenario, action, persona, id=f"{kind}-{scenario.name}-{action}-{persona}")
    for kind in Kind
    for scenario in scenarios_of(kind)
    for action in ACTIONS
    for persona in PERSONAS
]


@pytest.mark.parametrize(("kind", "scenario", "action", "persona"), CASES)
def test_the_services_follow_the_table(world, kind, scenario, action, persona):
    p = world.personas
    actor = getattr(p, persona)
    request = ServiceRequest.objects.get(pk=world.requests[kind, scenario.name])
    if action == "reopen_after_visit":
        # This action is taken through a return visit; the visit is given, not tested.
        ReturnVisit.objects.get_or_create(request=request, defaults={"due_at": request.created_at})
    want = expected(kind, scenario, action, persona)
    # The owner's and the desk's cancel are one service: check both buttons on its case.
    buttons = {"cancel", "cancel_by_desk"} if action == "cancel" else {action}
    shown = {t.action for t in services.allowed_transitions(actor, request)}
    assert shown & buttons == offered(kind, scenario, persona) & buttons
    before = written(request)
    last_event = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first()

    if want.error is not None:
        with pytest.raises(want.error) as refused:
            act(p, action, actor, request)
        if want.error is ValidationError:
            assert not isinstance(refused.value, RequestChanged)
        assert written(request) == before
        return

    act(p, action, actor, request)
    after = ServiceRequest.objects.get(pk=request.pk)
    assert after.status == expected_target(want.transition, scenario)
    assert after.version > request.version
    codes = AuditEvent.objects.filter(pk__gt=last_event).values_list("code", flat=True)
    assert event_of_action(want.transition.action).value in set(codes)
