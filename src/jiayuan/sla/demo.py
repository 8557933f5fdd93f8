"""The demo company's business calendars (the company's office hours with the official
holidays, and the 24×7 calendar of emergencies, made by its administrator), and its
requests' SLA clocks counted over the demo's history, with a few requests close to their
deadlines so a newcomer watches a warning and an escalation arrive."""

from datetime import timedelta

from django.db.models import F
from django.utils import timezone

from jiayuan.accounts.models import User
from jiayuan.core.models import AuditEvent
from jiayuan.org.models import Company
from jiayuan.servicedesk.models import Kind, ServiceRequest, Urgency
from jiayuan.sla import deadlines, policies, services
from jiayuan.sla.models import BusinessCalendar, RequestTarget

DEMO_ADMIN = "demo_admin"
# Alerts older than this are history the demo starts with, not news for today.
SETTLED_BEFORE = timedelta(hours=6)
# Emergencies reported as the demo is made: (category, what the caller said).
CLOSE_CALLS = (
    ("elevator", "2号楼电梯困人，里面有一位老人，请马上派人"),
    ("plumbing", "地下车库消防水管爆裂，水漫到车位了"),
)


def build_sla_demo(company: Company) -> None:
    admin = User.objects.get(username=DEMO_ADMIN)
    services.calendar_create(actor=admin, company=company)
    services.calendar_create(actor=admin, company=company, kind=BusinessCalendar.Kind.ALWAYS_OPEN)


def count_demo_clocks(company: Company) -> None:
    """After the desk's history is written: count every request's clocks from its events,
    settle what was overdue long ago as already escalated, and make a few fresh repairs
    about to miss their arrival."""
    now = timezone.now()
    requests = ServiceRequest.objects.filter(company=company).order_by("pk")
    for request in requests:
        events = AuditEvent.objects.filter(
            target_type__model="servicerequest", target_id=str(request.pk)
        ).order_by("at", "pk")
        changes = [
            (event.at, event.before["status"], event.after["status"])
            for event in events
            if (event.before or {}).get("status")
            and (event.after or {}).get("status")
            and event.before["status"] != event.after["status"]
        ]
        deadlines.replay(request, changes)
    chain = len(policies.escalation_chain(company.pk, None))
    RequestTarget.objects.filter(
        request__company=company,
        state=RequestTarget.State.RUNNING,
        due_at__lt=now - SETTLED_BEFORE,
    ).update(
        warned_at=F("warn_at"),
        breached_at=F("due_at"),
        escalation_level=chain,
        escalated_at=F("due_at"),
        next_check_at=None,
    )
    deadlines.check_due(now=now)
    _make_close_calls(company)


def _make_close_calls(company: Company) -> None:
    """Two emergencies reported just now: one waits to be accepted (warned within 4
    minutes, escalated at 5), one waits for its technician (arrival due in 30 minutes)."""
    from jiayuan.org.models import CommonArea, Estate, Membership
    from jiayuan.servicedesk import services as desk

    estate = Estate.objects.filter(company=company, kind=Estate.Kind.RESIDENTIAL).first()
    clerk = Membership.objects.filter(estate=estate, role="service_desk").first().user
    dispatcher = Membership.objects.filter(estate=estate, role="dispatcher").first().user
    technician = Membership.objects.filter(estate=estate, role="technician").first().user
    areas = CommonArea.objects.filter(estate=estate).order_by("pk")
    for n, (category, words) in enumerate(CLOSE_CALLS):
        request = desk.request_create(
            actor=clerk,
            estate=estate,
            kind=Kind.REPAIR,
            category=category,
            urgency=Urgency.EMERGENCY,
            description=words,
            channel="staff",
            common_area=areas[n % len(areas)],
        )
        if n == 1:
            desk.request_dispatch(actor=dispatcher, request=request, assignee=technician)


def delete_sla_demo(company: Company) -> None:
    BusinessCalendar.objects.filter(company=company).delete()
