"""The route inventory: every operation the API registers is listed here with a request a
persona of estate A may make, and each one is tried anonymously, by a stranger, by the
other company's manager, by the right persona (with a session and with a token) and with a
session but no CSRF token. A new route that is not added here fails the first test."""

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from jiayuan.accounts.services import token_create
from jiayuan.api import api
from jiayuan.comms.services import notify
from jiayuan.core.api_testing import API_ROOT, ApiClient
from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import PASSWORD, Personas
from jiayuan.org.models import Building

LIST, OBJECT, SELF = "list", "object", "self"


@dataclass(frozen=True)
class Route:
    """kind: LIST answers a page of rows; OBJECT addresses rows of estate A or of another
    person, so strangers get 404; SELF acts on the caller's own account."""

    kind: str
    persona: str
    request: Callable[[Personas], tuple[str, dict | None]]
    success: int = 200
    prepare: Callable[[Personas], dict] = field(default=lambda p: {})
    # A multipart upload instead of a JSON body: the form's fields, files made afresh.
    upload: Callable[[], dict] | None = None


def _token_of_manager(p):
    token, _secret = token_create(actor=p.manager_a, name="laptop")
    return {"token": token}


def _notification_for_owner(p):
    notify(recipients=[p.owner_a101], kind="test", title="停水通知", email=False)
    return {}


def _owner_repair(p):
    from jiayuan.servicedesk import services

    request = services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind="repair",
        category="plumbing",
        description="卫生间漏水",
        unit=p.unit_a101,
    )
    return {"request": request}


def _closed_repair(p):
    from jiayuan.servicedesk import services

    request = _owner_repair(p)["request"]
    services.request_dispatch(actor=p.dispatcher_a, request=request, assignee=p.technician_a)
    services.request_arrive(actor=p.technician_a, request=request)
    services.request_complete(actor=p.technician_a, request=request, work_notes="换了密封圈")
    request = services.request_confirm(actor=p.owner_a101, request=request)
    return {"request": request}


def _due_visit(p):
    from jiayuan.servicedesk.models import ReturnVisit

    request = _closed_repair(p)["request"]
    visit, _created = ReturnVisit.objects.get_or_create(
        request=request, defaults={"due_at": request.closed_at}
    )
    return {"request": request, "visit": visit}


def _reply_template(p):
    from jiayuan.servicedesk import services

    services.reply_template_create(
        actor=p.manager_a, company=p.company, kind="inquiry", title="停水", body="明天恢复供水。"
    )
    return {}


def _with_photo(p):
    from jiayuan.servicedesk import services

    request = _owner_repair(p)["request"]
    (photo,) = services.request_add_photos(actor=p.owner_a101, request=request, photos=[_jpeg()])
    return {"photo": photo}


def _jpeg():
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), "teal").save(buffer, format="JPEG")
    return SimpleUploadedFile("leak.jpg", buffer.getvalue(), content_type="image/jpeg")


def _empty_building(p):
    return {"building": Building.objects.create(estate=p.estate_a, name="9号楼")}


NEW_UNIT = {"number": "201", "floor": 2, "gross_area": "90.5"}
NEW_RESIDENT = {"name": "王芳", "mobile": "13900139000", "relation": "tenant"}


def _two_reports(p):
    """Two reports of one lift fault from different households; the second not linked."""
    from jiayuan.servicedesk import services

    def report(owner, unit, text):
        return services.request_create(
            actor=owner,
            estate=p.estate_a,
            kind="repair",
            category="plumbing",
            description=text,
            unit=unit,
        )

    first = report(p.owner_a101, p.unit_a101, "卫生间漏水")
    second = report(p.owner_a102, p.unit_a102, "厨房的下水道堵了")
    return {"parent": first, "child": second}


def _linked_report(p):
    from jiayuan.servicedesk import incidents

    reports = _two_reports(p)
    incidents.incident_link(actor=p.clerk_a, request=reports["child"], parent=reports["parent"])
    reports["child"].refresh_from_db()
    return reports


def _grab_offer(p):
    import datetime as dt

    from jiayuan.dispatch import services as dispatch

    # On duty at any hour: each day's two halves.
    shifts = [(d, dt.time(0), dt.time(12)) for d in range(7)]
    shifts += [(d, dt.time(12), dt.time(0)) for d in range(7)]
    dispatch.profile_save(
        actor=p.dispatcher_a,
        estate=p.estate_a,
        user=p.technician_a,
        skills={"plumbing": 2},
        shifts=shifts,
    )
    dispatch.rule_save(actor=p.dispatcher_a, estate=p.estate_a, mode="grab")
    request = _owner_repair(p)["request"]
    return {"offer": dispatch.offer(request)}


def _training_session(p):
    import datetime as dt

    from django.utils import timezone

    from jiayuan.training import services as training

    course = training.course_create(
        actor=p.manager_a,
        company=p.company,
        title="安全生产培训",
        topic="safety",
        roles=["technician", "security"],
    )
    starts = timezone.now() - dt.timedelta(days=1)
    session = training.session_create(
        actor=p.manager_a,
        course=course,
        estate=p.estate_a,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        place="三楼会议室",
        trainer_name="李教官",
    )
    return {"course": course, "session": session}


def _training_certificate(p):
    import datetime as dt

    from django.utils import timezone

    from jiayuan.training import services as training

    certificate = training.certificate_create(
        actor=p.manager_a,
        holder=p.technician_a,
        estate=p.estate_a,
        kind="electrician",
        number="T3201",
        issuer="南京市应急管理局",
        issued_on=dt.date(2020, 6, 1),
        expires_on=timezone.localdate() + dt.timedelta(days=20),
    )
    return {"certificate": certificate}


def _training_pdf():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("scan.pdf", b"%PDF-1.4\n%%EOF\n", content_type="application/pdf")


def _quality_campaign(p):
    from datetime import timedelta

    from django.utils import timezone

    from jiayuan.org.models import Unit
    from jiayuan.quality import services as quality

    Unit.objects.filter(pk__in=[p.unit_a101.pk, p.unit_a102.pk]).update(status="occupied")
    template = quality.template_create_default(actor=p.manager_a, company=p.company)
    campaign = quality.campaign_create(
        actor=p.manager_a,
        company=p.company,
        template=template,
        estate=p.estate_a,
        deadline=timezone.now() + timedelta(days=14),
    )
    quality.campaign_launch(actor=p.manager_a, campaign=campaign)
    answers = {
        str(q.pk): 3 if q.kind == "rating" else q.options[0] if q.kind == "single" else ""
        for q in template.questions.all()
    }
    return {"campaign": campaign, "answers": answers}


def _quality_follow_up(p):
    from jiayuan.quality import services as quality
    from jiayuan.quality.models import FollowUp

    prepared = _quality_campaign(p)
    first_rating = next(k for k, v in prepared["answers"].items() if v == 3)
    quality.answer_submit(
        actor=p.owner_a102,
        campaign=prepared["campaign"],
        unit=p.unit_a102,
        answers={**prepared["answers"], first_rating: 1},
    )
    return {**prepared, "follow_up": FollowUp.objects.get()}


def _supervision_order(p):
    """A submitted cleaning inspection whose first item opened an order for security_a."""
    import datetime as dt

    from django.utils import timezone

    from jiayuan.supervision import services
    from jiayuan.supervision.models import ChecklistTemplate

    services.checklist_create_defaults(actor=p.company_admin, company=p.company)
    template = ChecklistTemplate.objects.get(company=p.company, area="cleaning")
    inspection = services.inspection_start(actor=p.manager_a, estate=p.estate_a, template=template)
    first = inspection.items.get(position=1)
    services.inspection_submit(
        actor=p.manager_a,
        inspection=inspection,
        results={first.pk: {"points": 6, "note": "大堂地面有水渍"}},
        owner=p.security_a,
        deadline=timezone.now() + dt.timedelta(days=3),
    )
    return {"inspection": inspection, "order": first.order}


def _supervision_fixed(p):
    from jiayuan.supervision import services

    order = _supervision_order(p)["order"]
    return {"order": services.order_fix(actor=p.security_a, order=order, note="已拖干")}


def _supervision_evaluation(p):
    from django.utils import timezone

    from jiayuan.supervision import services

    services.evaluation_add(
        actor=p.manager_a,
        estate=p.estate_a,
        evaluator="卓越品质测评中心",
        evaluated_on=timezone.localdate(),
        score=88,
    )
    return {}


def _supervision_action(p):
    import datetime as dt

    from django.utils import timezone

    from jiayuan.supervision import services

    action = services.action_create(
        actor=p.manager_a,
        estate=p.estate_a,
        title="减少停车投诉",
        problem_kind="complaints",
        complaint_category="parking",
        period_start=timezone.localdate() - dt.timedelta(days=30),
        period_end=timezone.localdate(),
        owner=p.security_a,
        due_on=timezone.localdate() + dt.timedelta(days=14),
        plan="晚高峰增派人员疏导",
    )
    return {"action": action}


ROUTES: dict[tuple[str, str], Route] = {
    ("GET", "/me"): Route(SELF, "owner_a101", lambda p, x: ("/me", None)),
    ("GET", "/me/units"): Route(LIST, "owner_a101", lambda p, x: ("/me/units", None)),
    ("GET", "/me/resident"): Route(OBJECT, "owner_a101", lambda p, x: ("/me/resident", None)),
    ("GET", "/accounts/tokens"): Route(
        LIST, "manager_a", lambda p, x: ("/accounts/tokens", None), prepare=_token_of_manager
    ),
    ("POST", "/accounts/tokens"): Route(
        SELF, "manager_a", lambda p, x: ("/accounts/tokens", {"name": "ci"}), success=201
    ),
    ("POST", "/accounts/tokens/{token_id}/revoke"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/accounts/tokens/{x['token'].pk}/revoke", None),
        prepare=_token_of_manager,
    ),
    ("POST", "/accounts/password"): Route(
        SELF,
        "manager_a",
        lambda p, x: (
            "/accounts/password",
            {"old_password": PASSWORD, "new_password": "Another-secret-2026"},
        ),
        success=204,
    ),
    ("GET", "/org/estates"): Route(LIST, "manager_a", lambda p, x: ("/org/estates", None)),
    ("GET", "/org/estates/{estate_id}"): Route(
        OBJECT, "manager_a", lambda p, x: (f"/org/estates/{p.estate_a.pk}", None)
    ),
    ("GET", "/org/buildings"): Route(LIST, "manager_a", lambda p, x: ("/org/buildings", None)),
    ("GET", "/org/buildings/{building_id}"): Route(
        OBJECT, "technician_a", lambda p, x: (f"/org/buildings/{p.building_a1.pk}", None)
    ),
    ("POST", "/org/estates/{estate_id}/buildings"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/org/estates/{p.estate_a.pk}/buildings", {"name": "8号楼"}),
        success=201,
    ),
    ("PATCH", "/org/buildings/{building_id}"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/org/buildings/{p.building_a1.pk}", {"note": "东门进"}),
    ),
    ("DELETE", "/org/buildings/{building_id}"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/org/buildings/{x['building'].pk}", None),
        success=204,
        prepare=_empty_building,
    ),
    ("GET", "/org/units"): Route(LIST, "clerk_a", lambda p, x: ("/org/units", None)),
    ("GET", "/org/units/{unit_id}"): Route(
        OBJECT, "owner_a101", lambda p, x: (f"/org/units/{p.unit_a101.pk}", None)
    ),
    ("POST", "/org/buildings/{building_id}/units"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/org/buildings/{p.building_a1.pk}/units", NEW_UNIT),
        success=201,
    ),
    ("PATCH", "/org/units/{unit_id}"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/org/units/{p.unit_a101.pk}", {"status": "renovating"}),
    ),
    ("GET", "/org/common-areas"): Route(
        LIST, "security_a", lambda p, x: ("/org/common-areas", None)
    ),
    ("GET", "/org/common-areas/{area_id}"): Route(
        OBJECT, "security_a", lambda p, x: (f"/org/common-areas/{p.lobby_a.pk}", None)
    ),
    ("GET", "/org/residents"): Route(LIST, "clerk_a", lambda p, x: ("/org/residents", None)),
    ("GET", "/org/residents/{resident_id}"): Route(
        OBJECT, "clerk_a", lambda p, x: (f"/org/residents/{p.resident_a101.pk}", None)
    ),
    ("POST", "/org/estates/{estate_id}/residents"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/org/estates/{p.estate_a.pk}/residents",
            {**NEW_RESIDENT, "unit": p.unit_a102.pk},
        ),
        success=201,
    ),
    ("PATCH", "/org/residents/{resident_id}"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (f"/org/residents/{p.resident_a101.pk}", {"tier": "vip"}),
    ),
    ("POST", "/org/residents/{resident_id}/residencies"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/org/residents/{p.resident_a101.pk}/residencies",
            {"unit": p.unit_a102.pk, "relation": "family"},
        ),
        success=201,
    ),
    ("POST", "/org/residencies/{residency_id}/end"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/org/residencies/{p.resident_a101.residencies.get().pk}/end",
            {},
        ),
    ),
    ("GET", "/org/staff"): Route(LIST, "manager_a", lambda p, x: ("/org/staff", None)),
    ("GET", "/org/teams"): Route(LIST, "dispatcher_a", lambda p, x: ("/org/teams", None)),
    ("GET", "/org/teams/{team_id}"): Route(
        OBJECT, "dispatcher_a", lambda p, x: (f"/org/teams/{p.team_a.pk}", None)
    ),
    ("GET", "/notifications"): Route(
        LIST, "owner_a101", lambda p, x: ("/notifications", None), prepare=_notification_for_owner
    ),
    ("GET", "/notifications/unread-count"): Route(
        SELF, "owner_a101", lambda p, x: ("/notifications/unread-count", None)
    ),
    ("POST", "/notifications/read"): Route(
        SELF,
        "owner_a101",
        lambda p, x: ("/notifications/read", {}),
        prepare=_notification_for_owner,
    ),
    ("GET", "/requests"): Route(
        LIST, "clerk_a", lambda p, x: ("/requests", None), prepare=_owner_repair
    ),
    ("POST", "/requests"): Route(
        OBJECT,
        "owner_a101",
        lambda p, x: (
            "/requests",
            {
                "estate": p.estate_a.pk,
                "kind": "repair",
                "category": "plumbing",
                "description": "厨房下水堵了",
                "unit": p.unit_a101.pk,
            },
        ),
        success=201,
    ),
    ("GET", "/requests/{request_id}"): Route(
        OBJECT,
        "owner_a101",
        lambda p, x: (f"/requests/{x['request'].pk}", None),
        prepare=_owner_repair,
    ),
    ("GET", "/requests/{request_id}/timeline"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (f"/requests/{x['request'].pk}/timeline", None),
        prepare=_owner_repair,
    ),
    ("POST", "/requests/{request_id}/actions/{action}"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (f"/requests/{x['request'].pk}/actions/accept", {"version": 1}),
        prepare=_owner_repair,
    ),
    ("POST", "/requests/{request_id}/rating"): Route(
        OBJECT,
        "owner_a101",
        lambda p, x: (
            f"/requests/{x['request'].pk}/rating",
            {"overall": 4, "comment": "师傅很准时"},
        ),
        success=201,
        prepare=_closed_repair,
    ),
    ("POST", "/requests/{request_id}/photos"): Route(
        OBJECT,
        "owner_a101",
        lambda p, x: (f"/requests/{x['request'].pk}/photos", None),
        success=201,
        prepare=_owner_repair,
        upload=lambda: {"photos": [_jpeg()]},
    ),
    ("GET", "/photos/{photo_id}"): Route(
        OBJECT, "owner_a101", lambda p, x: (f"/photos/{x['photo'].pk}", None), prepare=_with_photo
    ),
    ("GET", "/photos/{photo_id}/thumbnail"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (f"/photos/{x['photo'].pk}/thumbnail", None),
        prepare=_with_photo,
    ),
    ("GET", "/return-visits"): Route(
        LIST, "clerk_a", lambda p, x: ("/return-visits", None), prepare=_due_visit
    ),
    ("POST", "/return-visits/{visit_id}"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/return-visits/{x['visit'].pk}",
            {"method": "phone", "outcome": "satisfied"},
        ),
        prepare=_due_visit,
    ),
    ("GET", "/request-categories"): Route(
        OBJECT,
        "owner_a101",
        lambda p, x: (f"/request-categories?estate={p.estate_a.pk}", None),
    ),
    ("GET", "/reply-templates"): Route(
        LIST,
        "clerk_a",
        lambda p, x: ("/reply-templates", None),
        prepare=_reply_template,
    ),
    ("POST", "/requests/{request_id}/reclassify"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/requests/{x['request'].pk}/reclassify",
            {"version": x["request"].version, "category": "electrical"},
        ),
        prepare=_owner_repair,
    ),
    ("POST", "/requests/{request_id}/link"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/requests/{x['child'].pk}/link",
            {"parent": x["parent"].pk, "version": x["child"].version},
        ),
        prepare=_two_reports,
    ),
    ("POST", "/requests/{request_id}/unlink"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/requests/{x['child'].pk}/unlink",
            {"reason": "不是同一个故障", "version": x["child"].version},
        ),
        prepare=_linked_report,
    ),
    ("POST", "/triage/classify"): Route(
        SELF, "owner_a101", lambda p, x: ("/triage/classify", {"text": "电梯里有人被困"})
    ),
    ("GET", "/dispatch/requests/{request_id}/suggestions"): Route(
        OBJECT,
        "dispatcher_a",
        lambda p, x: (f"/dispatch/requests/{x['request'].pk}/suggestions", None),
        prepare=_owner_repair,
    ),
    ("GET", "/dispatch/pool"): Route(SELF, "technician_a", lambda p, x: ("/dispatch/pool", None)),
    ("POST", "/dispatch/pool/{offer_id}/grab"): Route(
        OBJECT,
        "technician_a",
        lambda p, x: (f"/dispatch/pool/{x['offer'].pk}/grab", None),
        prepare=_grab_offer,
    ),
    ("GET", "/quality/campaigns"): Route(
        LIST, "manager_a", lambda p, x: ("/quality/campaigns", None), prepare=_quality_campaign
    ),
    ("GET", "/quality/campaigns/{campaign_id}/results"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/quality/campaigns/{x['campaign'].pk}/results", None),
        prepare=_quality_follow_up,
    ),
    ("GET", "/quality/my/surveys"): Route(
        LIST, "owner_a101", lambda p, x: ("/quality/my/surveys", None), prepare=_quality_campaign
    ),
    ("POST", "/quality/campaigns/{campaign_id}/answers"): Route(
        OBJECT,
        "owner_a101",
        lambda p, x: (
            f"/quality/campaigns/{x['campaign'].pk}/answers",
            {"unit": p.unit_a101.pk, "answers": x["answers"]},
        ),
        success=201,
        prepare=_quality_campaign,
    ),
    ("GET", "/quality/follow-ups"): Route(
        LIST, "clerk_a", lambda p, x: ("/quality/follow-ups", None), prepare=_quality_follow_up
    ),
    ("POST", "/quality/follow-ups/{follow_up_id}/close"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/quality/follow-ups/{x['follow_up'].pk}/close",
            {"outcome": "satisfied", "note": "已回访，业主表示理解"},
        ),
        prepare=_quality_follow_up,
    ),
    # quality routes (end)
    ("GET", "/supervision/inspections"): Route(
        LIST,
        "manager_a",
        lambda p, x: ("/supervision/inspections", None),
        prepare=_supervision_order,
    ),
    ("GET", "/supervision/inspections/{inspection_id}"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (f"/supervision/inspections/{x['inspection'].pk}", None),
        prepare=_supervision_order,
    ),
    ("GET", "/supervision/orders"): Route(
        LIST, "security_a", lambda p, x: ("/supervision/orders", None), prepare=_supervision_order
    ),
    ("GET", "/supervision/orders/{order_id}"): Route(
        OBJECT,
        "security_a",
        lambda p, x: (f"/supervision/orders/{x['order'].pk}", None),
        prepare=_supervision_order,
    ),
    ("POST", "/supervision/orders/{order_id}/fix"): Route(
        OBJECT,
        "security_a",
        lambda p, x: (f"/supervision/orders/{x['order'].pk}/fix", None),
        prepare=_supervision_order,
        upload=lambda: {"version": "1", "note": "已拖干并放置提示牌", "after_photo": _jpeg()},
    ),
    ("POST", "/supervision/orders/{order_id}/verify"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (f"/supervision/orders/{x['order'].pk}/verify", {"version": 2}),
        prepare=_supervision_fixed,
    ),
    ("POST", "/supervision/orders/{order_id}/reject"): Route(
        OBJECT,
        "clerk_a",
        lambda p, x: (
            f"/supervision/orders/{x['order'].pk}/reject",
            {"version": 2, "reason": "地面仍有水渍"},
        ),
        prepare=_supervision_fixed,
    ),
    ("GET", "/supervision/evaluations"): Route(
        LIST,
        "manager_a",
        lambda p, x: ("/supervision/evaluations", None),
        prepare=_supervision_evaluation,
    ),
    ("GET", "/supervision/actions"): Route(
        LIST, "manager_a", lambda p, x: ("/supervision/actions", None), prepare=_supervision_action
    ),
    ("POST", "/supervision/actions"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (
            "/supervision/actions",
            {
                "estate": p.estate_a.pk,
                "title": "优化夜间巡逻路线",
                "problem_kind": "other",
                "problem_text": "巡逻未覆盖车库东侧",
                "owner": p.security_a.pk,
                "due_on": "2099-12-31",
                "plan": "增加两个巡更点",
            },
        ),
        success=201,
    ),
    ("POST", "/supervision/actions/{action_id}/advance"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (
            f"/supervision/actions/{x['action'].pk}/advance",
            {"version": 1, "plan": "晚高峰增派两人疏导"},
        ),
        prepare=_supervision_action,
    ),
    # supervision routes (end)
    ("GET", "/training/courses"): Route(
        LIST, "manager_a", lambda p, x: ("/training/courses", None), prepare=_training_session
    ),
    ("GET", "/training/sessions"): Route(
        LIST, "technician_a", lambda p, x: ("/training/sessions", None), prepare=_training_session
    ),
    ("GET", "/training/sessions/{session_id}"): Route(
        OBJECT,
        "technician_a",
        lambda p, x: (f"/training/sessions/{x['session'].pk}", None),
        prepare=_training_session,
    ),
    ("POST", "/training/sessions/{session_id}/attendance"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (
            f"/training/sessions/{x['session'].pk}/attendance",
            {"attendees": [{"user": p.technician_a.pk, "status": "present", "score": 80}]},
        ),
        prepare=_training_session,
    ),
    ("GET", "/training/certificates"): Route(
        LIST,
        "technician_a",
        lambda p, x: ("/training/certificates", None),
        prepare=_training_certificate,
    ),
    ("GET", "/training/certificates/expiring"): Route(
        LIST,
        "manager_a",
        lambda p, x: ("/training/certificates/expiring", None),
        prepare=_training_certificate,
    ),
    ("POST", "/training/certificates"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (
            "/training/certificates",
            {
                "holder": p.technician_a.pk,
                "estate": p.estate_a.pk,
                "kind": "elevator",
                "number": "TS-2024-001",
                "issuer": "市场监督管理局",
                "issued_on": "2024-01-01",
                "expires_on": "2028-01-01",
            },
        ),
        success=201,
    ),
    ("PATCH", "/training/certificates/{certificate_id}"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (
            f"/training/certificates/{x['certificate'].pk}",
            {"issuer": "南京市应急管理局", "expires_on": "2029-06-30"},
        ),
        prepare=_training_certificate,
    ),
    ("POST", "/training/certificates/{certificate_id}/scan"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/training/certificates/{x['certificate'].pk}/scan", None),
        prepare=_training_certificate,
        upload=lambda: {"scan": _training_pdf()},
    ),
    ("GET", "/training/me"): Route(SELF, "technician_a", lambda p, x: ("/training/me", None)),
    # training routes (end)
    ("GET", "/dashboard/companies/{company_id}"): Route(
        OBJECT, "manager_a", lambda p, x: (f"/dashboard/companies/{p.company.pk}", None)
    ),
    ("GET", "/dashboard/estates/{estate_id}"): Route(
        OBJECT, "manager_a", lambda p, x: (f"/dashboard/estates/{p.estate_a.pk}", None)
    ),
    ("GET", "/dashboard/teams/{team_id}"): Route(
        OBJECT, "manager_a", lambda p, x: (f"/dashboard/teams/{p.team_a.pk}", None)
    ),
    ("GET", "/dashboard/estates/{estate_id}/people/{user_id}"): Route(
        OBJECT,
        "manager_a",
        lambda p, x: (f"/dashboard/estates/{p.estate_a.pk}/people/{p.technician_a.pk}", None),
    ),
    # dashboard routes (end)
}
ROUTE_IDS = [f"{method} {path}" for method, path in ROUTES]


def registered_operations() -> set[tuple[str, str]]:
    paths = api.get_openapi_schema()["paths"]
    return {
        (method.upper(), path.removeprefix(API_ROOT))
        for path, operations in paths.items()
        for method in operations
    }


def call(client: ApiClient, method: str, route: Route, personas: Personas, prepared: dict):
    path, body = route.request(personas, prepared)
    if route.upload is not None and method == "POST":
        return client.post_files(path, route.upload())
    return client.request(method, path, body)


@pytest.fixture(params=list(ROUTES), ids=ROUTE_IDS)
def route(request, personas):
    method, _path = request.param
    spec = ROUTES[request.param]
    return method, spec, spec.prepare(personas)


def test_every_registered_route_is_in_the_inventory():
    assert registered_operations() == set(ROUTES)


@pytest.mark.django_db
def test_anonymous_is_refused(route, personas):
    method, spec, prepared = route
    events = AuditEvent.objects.count()
    response = call(ApiClient(), method, spec, personas, prepared)
    assert response.status_code == 401
    assert response.json()["detail"] == "Sign in or send a valid API token."
    assert AuditEvent.objects.count() == events


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["stranger", "outsider"])
def test_people_outside_estate_a_see_nothing_of_it(route, personas, who):
    method, spec, prepared = route
    rightful = call(ApiClient(getattr(personas, spec.persona)), "GET", spec, personas, prepared)
    events = AuditEvent.objects.count()
    response = call(ApiClient(getattr(personas, who)), method, spec, personas, prepared)
    if spec.kind == OBJECT:
        assert response.status_code == 404
        assert response.json() == {"detail": "Not found.", "errors": []}
        assert AuditEvent.objects.count() == events
    elif spec.kind == LIST:
        assert response.status_code == 200
        theirs = {item["id"] for item in response.json()["items"]}
        assert theirs.isdisjoint(item["id"] for item in rightful.json()["items"])
        if who == "stranger":
            assert response.json() == {"items": [], "count": 0}
    else:
        assert response.status_code == spec.success


@pytest.mark.django_db
@pytest.mark.parametrize("auth", ["session", "token"])
def test_the_right_persona_succeeds(route, personas, auth):
    method, spec, prepared = route
    user = getattr(personas, spec.persona)
    if auth == "token":
        _token, secret = token_create(actor=user, name="route test")
        client = ApiClient(token=secret)
    else:
        client = ApiClient(user)
    response = call(client, method, spec, personas, prepared)
    assert response.status_code == spec.success, response.content
    if spec.kind == LIST:
        assert response.json()["count"] >= 1


WRITES = [key for key in ROUTES if key[0] != "GET"]


@pytest.mark.django_db
@pytest.mark.parametrize("key", WRITES, ids=[f"{method} {path}" for method, path in WRITES])
def test_a_session_write_without_csrf_token_is_refused(key, personas):
    method, spec = key[0], ROUTES[key]
    prepared = spec.prepare(personas)
    client = ApiClient(getattr(personas, spec.persona), enforce_csrf_checks=True)
    events = AuditEvent.objects.count()
    response = call(client, method, spec, personas, prepared)
    assert response.status_code == 403
    assert response.json()["detail"].startswith("CSRF check failed")
    assert AuditEvent.objects.count() == events


HOSTILE = "<script>alert(1)</script>"


class _Placeholder:
    """Stands in for personas and prepared rows while reading a route's sample body."""

    pk = 1

    def __getattr__(self, name):
        return self

    def __getitem__(self, name):
        return self

    def get(self):
        return self


SAMPLE_BODIES = {key: ROUTES[key].request(_Placeholder(), _Placeholder())[1] for key in WRITES}
WITH_BODY = [key for key, body in SAMPLE_BODIES.items() if body is not None]


def write_cases(transform):
    """(route, field) for each value of each write route's sample body that `transform` picks."""
    return [
        (key, name)
        for key in WITH_BODY
        for name, value in SAMPLE_BODIES[key].items()
        if transform(value)
    ]


STRING_FIELDS = write_cases(lambda value: isinstance(value, str))
ALL_FIELDS = write_cases(lambda value: True)
NUMBER_FIELDS = write_cases(lambda value: isinstance(value, int))


def _case_id(case):
    (method, path), name = case
    return f"{method} {path} {name}"


@pytest.mark.django_db
@pytest.mark.parametrize("key", WITH_BODY, ids=[f"{method} {path}" for method, path in WITH_BODY])
@pytest.mark.parametrize("raw", ["{not json", "[1, 2", '{"a": 1} trailing'])
def test_malformed_json_is_422_on_every_write(key, personas, raw):
    method, spec = key[0], ROUTES[key]
    path, _body = spec.request(personas, spec.prepare(personas))
    events = AuditEvent.objects.count()
    client = ApiClient(getattr(personas, spec.persona))
    response = client.request(method, path, raw=raw)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "__all__"
    assert AuditEvent.objects.count() == events


def _send_with(personas, key, name, value):
    """The route's sample body with one value replaced: the answer, and how many audit
    events the request itself wrote."""
    method, spec = key[0], ROUTES[key]
    prepared = spec.prepare(personas)
    path, body = spec.request(personas, prepared)
    client = ApiClient(getattr(personas, spec.persona))
    events = AuditEvent.objects.count()
    response = client.request(method, path, {**body, name: value})
    return spec, response, AuditEvent.objects.count() - events


@pytest.mark.django_db
@pytest.mark.parametrize("case", STRING_FIELDS, ids=[_case_id(c) for c in STRING_FIELDS])
def test_a_10000_character_value_is_422_on_its_field(case, personas):
    key, name = case
    _spec, response, written = _send_with(personas, key, name, "长" * 10_000)
    assert response.status_code == 422, response.content
    assert name in {error["field"] for error in response.json()["errors"]}
    assert written == 0


@pytest.mark.django_db
@pytest.mark.parametrize("case", ALL_FIELDS, ids=[_case_id(c) for c in ALL_FIELDS])
@pytest.mark.parametrize("wrong", [[1], {"a": 1}, True], ids=["list", "object", "bool"])
def test_a_value_of_the_wrong_type_is_422_on_its_field(case, personas, wrong):
    key, name = case
    _spec, response, written = _send_with(personas, key, name, wrong)
    assert response.status_code == 422, response.content
    assert any(error["field"].split(".")[0] == name for error in response.json()["errors"])
    assert written == 0


@pytest.mark.django_db
@pytest.mark.parametrize("case", NUMBER_FIELDS, ids=[_case_id(c) for c in NUMBER_FIELDS])
def test_a_number_sent_as_text_is_422_on_its_field(case, personas):
    key, name = case
    _spec, response, _written = _send_with(personas, key, name, "7")
    assert response.status_code == 422, response.content
    assert {error["field"] for error in response.json()["errors"]} == {name}


@pytest.mark.django_db
@pytest.mark.parametrize("case", STRING_FIELDS, ids=[_case_id(c) for c in STRING_FIELDS])
def test_hostile_text_is_either_kept_as_text_or_refused_on_its_field(case, personas):
    key, name = case
    spec, response, written = _send_with(personas, key, name, HOSTILE)
    if response.status_code == 422:
        assert name in {error["field"] for error in response.json()["errors"]}
        assert written == 0
    else:
        assert response.status_code == spec.success
        if response.content:
            assert response["Content-Type"].startswith("application/json")
            assert response.json().get(name, HOSTILE) == HOSTILE


def test_openapi_schema_renders(client):
    response = client.get(f"{API_ROOT}/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["info"]["title"] == "Jiayuan API"
    assert {"TokenAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])


@pytest.mark.django_db
def test_docs_page_renders(client):
    response = client.get(f"{API_ROOT}/docs")
    assert response.status_code == 200
    assert b"openapi.json" in response.content
    # Swagger UI comes from our own static files: public CDNs are often out of reach.
    assert b"/static/ninja/swagger-ui-bundle.js" in response.content
