"""SLA policies, the escalation chain and the on-time report: the services' rules and
the pages, for managers only."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from jiayuan.core.models import AuditEvent
from jiayuan.servicedesk import services as desk
from jiayuan.servicedesk.models import Category, Kind, ServiceRequest, Urgency
from jiayuan.sla import policies, services
from jiayuan.sla.events import SlaEvent
from jiayuan.sla.models import EscalationStep, SlaPolicy, Target

pytestmark = pytest.mark.django_db


def test_adopting_saves_the_built_in_policies_once(personas):
    p = personas
    rows = services.sla_policies_adopt_defaults(actor=p.company_admin, company=p.company)
    assert len(rows) == len(policies.DEFAULT_POLICIES)
    services.sla_policies_adopt_defaults(actor=p.company_admin, company=p.company)
    assert SlaPolicy.objects.filter(company=p.company).count() == len(rows)
    assert AuditEvent.objects.filter(code=SlaEvent.POLICY_SAVED).count() == 1


def test_a_new_policy_keeps_the_built_in_ones_and_applies_at_once(personas):
    p = personas
    services.sla_policy_save(
        actor=p.manager_a,
        company=p.company,
        estate=p.estate_a,
        name="阳光花园电梯",
        kind=Kind.REPAIR,
        category=Category.ELEVATOR,
        accept_minutes=3,
        accept_clock="calendar",
    )
    assert SlaPolicy.objects.filter(company=p.company).count() == len(policies.DEFAULT_POLICIES) + 1
    request = ServiceRequest(kind=Kind.REPAIR, category=Category.ELEVATOR, urgency=Urgency.NORMAL)
    assert policies.policy_for(p.company.pk, p.estate_a.pk, request).accept_minutes == 3
    assert policies.policy_for(p.company.pk, p.estate_b.pk, request).name != "阳光花园电梯"


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"name": "", "accept_minutes": 5}, "name"),
        ({"name": "x" * 101, "accept_minutes": 5}, "name"),
        ({"name": "没有时限"}, "accept_minutes"),
        ({"name": "太长", "accept_minutes": 10**9}, "accept_minutes"),
        ({"name": "负数", "response_minutes": -5, "accept_minutes": 5}, "response_minutes"),
        ({"name": "坏类别", "category": "rockets", "accept_minutes": 5}, "category"),
        ({"name": "坏计时", "accept_minutes": 5, "accept_clock": "moon"}, "accept_clock"),
        (
            {"name": "<script>alert(1)</script>", "urgency": "x", "accept_minutes": 5},
            "urgency",
        ),
    ],
)
def test_bad_policies_are_refused_with_nothing_written(personas, fields, field):
    p = personas
    with pytest.raises(ValidationError) as refused:
        services.sla_policy_save(actor=p.company_admin, company=p.company, **fields)
    assert field in refused.value.message_dict
    assert not SlaPolicy.objects.exists()


def test_a_second_policy_for_the_same_requests_is_refused(personas):
    p = personas
    fields = {"name": "A", "kind": Kind.COMPLAINT, "estate": p.estate_b, "accept_minutes": 30}
    services.sla_policy_save(actor=p.company_admin, company=p.company, **fields)
    with pytest.raises(ValidationError) as refused:
        services.sla_policy_save(actor=p.company_admin, company=p.company, **fields)
    assert "kind" in refused.value.message_dict


def test_the_default_policy_stays(personas):
    p = personas
    services.sla_policies_adopt_defaults(actor=p.company_admin, company=p.company)
    default = next(x for x in SlaPolicy.objects.filter(company=p.company) if x.is_default)
    with pytest.raises(ValidationError):
        services.sla_policy_delete(actor=p.company_admin, policy=default)
    with pytest.raises(ValidationError):
        services.sla_policy_save(
            actor=p.company_admin, company=p.company, policy=default, kind=Kind.REPAIR
        )


def test_who_may_set_the_rules(personas):
    p = personas
    fields = {"name": "B", "kind": Kind.INQUIRY, "accept_minutes": 30}
    with pytest.raises(PermissionDenied):  # an estate manager, for the whole company
        services.sla_policy_save(actor=p.manager_a, company=p.company, **fields)
    with pytest.raises(PermissionDenied):
        services.sla_policy_save(actor=p.clerk_a, company=p.company, estate=p.estate_a, **fields)
    with pytest.raises(Http404):
        services.sla_policy_save(actor=p.outsider, company=p.company, **fields)
    with pytest.raises(Http404):
        services.escalation_chain_set(actor=p.outsider, company=p.company, steps=[])
    assert not SlaPolicy.objects.exists()


def test_the_estate_chain_replaces_the_company_chain(personas):
    p = personas
    services.escalation_chain_set(
        actor=p.manager_a,
        company=p.company,
        estate=p.estate_a,
        steps=[("estate_manager", 0), ("service_director", 30)],
    )
    chain = policies.escalation_chain(p.company.pk, p.estate_a.pk)
    assert [(s.recipient, s.delay_minutes) for s in chain] == [
        ("estate_manager", 0),
        ("service_director", 30),
    ]
    assert policies.escalation_chain(p.company.pk, p.estate_b.pk)[0].recipient == "team_lead"
    with pytest.raises(ValidationError):
        services.escalation_chain_set(
            actor=p.manager_a, company=p.company, estate=p.estate_a, steps=[("nobody", 0)]
        )
    assert EscalationStep.objects.filter(estate=p.estate_a).count() == 2


def test_pages_for_managers_only(personas):
    p = personas
    for url in (
        reverse("sla:policy_list"),
        reverse("sla:policy_create"),
        reverse("sla:escalation_edit"),
        reverse("sla:report"),
    ):
        assert p.client_for(p.company_admin).get(url).status_code == 200, url
        assert p.client_for(p.clerk_a).get(url).status_code == 404, url
        assert p.client_for(p.owner_a101).get(url).status_code == 404, url


def test_the_policy_form_creates_and_the_list_shows_it(personas):
    p = personas
    client = p.client_for(p.company_admin)
    response = client.post(
        reverse("sla:policy_create"),
        {
            "name": "电梯困人",
            "estate": "",
            "kind": Kind.REPAIR,
            "category": Category.ELEVATOR,
            "urgency": Urgency.EMERGENCY,
            "warn_percent": 70,
            "accept_minutes": 3,
            "accept_clock": "calendar",
            "response_clock": "business",
            "arrival_minutes": 15,
            "arrival_clock": "calendar",
            "resolution_clock": "business",
        },
    )
    assert response.status_code == 302
    page = client.get(reverse("sla:policy_list")).content.decode()
    assert "电梯困人" in page
    policy = SlaPolicy.objects.get(name="电梯困人")
    assert (
        p.client_for(p.outsider).get(reverse("sla:policy_edit", args=[policy.pk])).status_code
        == 404
    )


def test_the_report_counts_on_time_per_estate(personas, time_machine):
    p = personas
    time_machine.move_to(dt.datetime(2026, 11, 23, 9, 0, tzinfo=dt.UTC))
    quick = desk.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=Kind.INQUIRY,
        category="other",
        description="停车卡怎么办",
        channel="walk_in",
        contact_phone="13800138001",
    )
    desk.request_accept(actor=p.clerk_a, request=quick)
    time_machine.move_to(dt.datetime(2026, 11, 26, 9, 0, tzinfo=dt.UTC))
    slow = desk.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=Kind.INQUIRY,
        category="other",
        description="快递柜坏了",
        channel="walk_in",
        contact_phone="13800138001",
    )
    time_machine.move_to(dt.datetime(2026, 11, 27, 9, 0, tzinfo=dt.UTC))
    desk.request_accept(actor=p.clerk_a, request=slow)
    client = p.client_for(p.company_admin)
    page = client.get(reverse("sla:report"), {"start": "2026-11-01", "end": "2026-11-30"})
    rows = page.context["rows"]
    accept = [row.cells[list(Target.values).index(Target.ACCEPT)][1] for row in rows]
    assert [(c.met, c.on_time) for c in accept] == [(2, 1)]
    assert p.client_for(p.outsider).get(reverse("sla:report")).context["rows"] == []
