"""Duplicate reports of one fault become one incident: linked at intake when sure,
suggested to the desk when not; the incident's progress reaches every reporter; unlinking
is recorded."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.urls import reverse

from jiayuan.comms.models import Notification
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import at_once, build_personas, make_owner, make_staff, make_unit
from jiayuan.org.models import CommonArea
from jiayuan.servicedesk import incidents, selectors, services, timeline
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import DuplicateSuggestion, Kind, ServiceRequest, Status
from jiayuan.servicedesk.services import RequestChanged
from jiayuan.sla.models import RequestTarget

pytestmark = pytest.mark.django_db
MORNING = dt.datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.fixture(autouse=True)
def _matching_on(settings):
    settings.SERVICEDESK_MATCH_DUPLICATES = True


def report(owner, unit, text, category="elevator", **extra):
    return services.request_create(
        actor=owner,
        estate=unit.estate,
        kind=extra.pop("kind", Kind.REPAIR),
        category=category,
        description=text,
        unit=unit,
        **extra,
    )


def record(p, text, category, *, area=None, unit=None, **extra):
    return services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=extra.pop("kind", Kind.REPAIR),
        category=category,
        description=text,
        common_area=area,
        unit=unit,
        contact_phone="13900139000",
        **extra,
    )


def fresh(request) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


def codes(request) -> list[str]:
    return list(
        AuditEvent.objects.filter(target_id=str(request.pk))
        .order_by("at", "id")
        .values_list("code", flat=True)
    )


@pytest.fixture
def lift(personas):
    """The lift of building 1 stops; the owner of 101 reports it first."""
    with time_machine.travel(MORNING, tick=False):
        first = report(personas.owner_a101, personas.unit_a101, "1号楼电梯停在5楼不动了")
    return first


# ----------------------------------------------------------------------------- matching


def test_the_same_lift_fault_from_another_flat_joins_the_first(personas, lift):
    p = personas
    with time_machine.travel(MORNING + dt.timedelta(minutes=20), tick=False):
        second = report(p.owner_a102, p.unit_a102, "1号楼电梯坏了，停在5楼不动")
    second = fresh(second)
    assert second.parent_id == lift.pk
    assert second.status == Status.ON_HOLD and second.held_from == Status.SUBMITTED
    assert incidents.is_held(second)
    linked = AuditEvent.objects.get(code=DeskEvent.INCIDENT_LINKED, target_id=str(second.pk))
    assert linked.actor is None and linked.after["automatic"] is True
    assert linked.after["incident"] == lift.number
    assert codes(lift)[-1] == DeskEvent.INCIDENT_JOINED
    # Its clocks wait with it: nothing of it can breach while the incident holds the work.
    assert second.due_at is None
    assert not RequestTarget.objects.filter(request=second, state="running").exists()
    assert Notification.objects.filter(recipient=p.owner_a102, link__contains=str(second.pk))


def test_a_leak_in_two_different_flats_is_two_faults(personas):
    p = personas
    with time_machine.travel(MORNING, tick=False):
        first = report(p.owner_a101, p.unit_a101, "卫生间天花板漏水", category="plumbing")
        second = report(p.owner_a102, p.unit_a102, "卫生间天花板漏水", category="plumbing")
    assert fresh(second).parent_id is None
    assert fresh(second).status == Status.SUBMITTED
    assert not DuplicateSuggestion.objects.exists()
    assert incidents.candidates(fresh(second)) == []
    assert first.pk != second.pk


def test_a_different_fault_on_the_same_floor_is_not_linked(personas):
    p = personas
    with time_machine.travel(MORNING, tick=False):
        record(p, "1楼大堂走廊灯不亮", "electrical", area=p.lobby_a)
        hydrant = record(p, "1楼大堂消防栓漏水", "fire_safety", area=p.lobby_a)
    assert fresh(hydrant).parent_id is None
    assert not DuplicateSuggestion.objects.exists()


def test_a_fault_reported_two_days_later_is_a_new_fault(personas, lift):
    p = personas
    with time_machine.travel(MORNING + dt.timedelta(days=2), tick=False):
        later = report(p.owner_a102, p.unit_a102, "1号楼电梯停在5楼不动了")
    assert fresh(later).parent_id is None


def test_an_emergency_is_never_linked_to_a_calmer_report_without_a_person(personas, lift):
    p = personas
    with time_machine.travel(MORNING + dt.timedelta(minutes=5), tick=False):
        trapped = report(p.owner_a102, p.unit_a102, "1号楼电梯停在5楼不动了", urgency="emergency")
    assert fresh(trapped).parent_id is None
    assert DuplicateSuggestion.objects.filter(request=trapped, candidate=lift).exists()


def test_likeness_scores_the_cases():
    same = incidents.text_likeness("1号楼电梯停在5楼不动了", "1号楼电梯坏了，停在5楼不动")
    other = incidents.text_likeness("大堂灯不亮", "大堂插座没电")
    assert same > 0.6 > other
    assert incidents.text_likeness("", "电梯") == 0.0


# ----------------------------------------------------------------------------- suggestions


@pytest.fixture
def unsure(personas):
    """Two reports in the lobby, same category, worded differently: a suggestion."""
    p = personas
    with time_machine.travel(MORNING, tick=False):
        first = record(p, "大堂的灯一闪一闪", "electrical", area=p.lobby_a)
        second = record(p, "大堂顶灯不亮了", "electrical", area=p.lobby_a)
    return first, second


def test_an_unsure_match_is_suggested_and_the_desk_links_it(personas, unsure):
    p = personas
    first, second = unsure
    assert fresh(second).parent_id is None
    suggestion = DuplicateSuggestion.objects.get(request=second, candidate=first)
    assert incidents.SUGGEST <= suggestion.score < incidents.AUTO_LINK
    view = incidents.incident_view(p.clerk_a, fresh(first))
    assert [s.pk for s in view.suggestions] == [suggestion.pk]

    incidents.suggestion_accept(actor=p.clerk_a, suggestion=suggestion)

    assert fresh(second).parent_id == first.pk
    suggestion.refresh_from_db()
    assert suggestion.decision == DuplicateSuggestion.Decision.LINKED
    assert suggestion.decided_by == p.clerk_a
    event = AuditEvent.objects.get(code=DeskEvent.INCIDENT_LINKED, target_id=str(second.pk))
    assert event.actor == p.clerk_a and event.after["automatic"] is False
    assert incidents.incident_view(p.clerk_a, fresh(first)).suggestions == []


def test_a_dismissed_pair_is_never_suggested_again(personas, unsure):
    p = personas
    first, second = unsure
    suggestion = DuplicateSuggestion.objects.get(request=second, candidate=first)
    incidents.suggestion_dismiss(actor=p.clerk_a, suggestion=suggestion)

    suggestion.refresh_from_db()
    assert suggestion.decision == DuplicateSuggestion.Decision.DISMISSED
    assert codes(second)[-1] == DeskEvent.DUPLICATE_DISMISSED
    # Matching again (as a reclassification would) does not bring the pair back.
    assert incidents.candidates(fresh(second)) == []
    with time_machine.travel(MORNING, tick=False):
        assert incidents.match_new_request(None, fresh(second)) is None
    assert DuplicateSuggestion.objects.count() == 1
    with pytest.raises(RequestChanged):
        incidents.suggestion_dismiss(actor=p.clerk_a, suggestion=suggestion)


def test_owners_and_technicians_cannot_decide_suggestions(personas, unsure):
    p = personas
    suggestion = DuplicateSuggestion.objects.get()
    with pytest.raises(Http404):
        incidents.suggestion_dismiss(actor=p.owner_a101, suggestion=suggestion)
    with pytest.raises((Http404, PermissionDenied)):
        incidents.suggestion_dismiss(actor=p.technician_a, suggestion=suggestion)
    assert DuplicateSuggestion.objects.get().decision == ""


# ----------------------------------------------------------------------------- linking by hand


@pytest.fixture
def pair(personas, lift):
    """The same lift reported from 102 an hour later in other words: not linked by itself."""
    with time_machine.travel(MORNING + dt.timedelta(hours=1), tick=False):
        second = report(personas.owner_a102, personas.unit_a102, "电梯没反应，按了没用")
    assert fresh(second).parent_id is None
    return lift, second


def test_the_desk_links_and_unlinks_and_both_are_recorded(personas, pair):
    p = personas
    lift, second = pair
    seen = fresh(second).version
    incidents.incident_link(
        actor=p.dispatcher_a, request=second, parent=lift, expected_version=seen
    )
    assert fresh(second).parent_id == lift.pk

    incidents.incident_unlink(actor=p.clerk_a, request=second, reason="是2号梯，不是同一部")

    back = fresh(second)
    assert back.parent_id is None and back.status == Status.SUBMITTED
    assert back.held_from == "" and back.due_at is not None  # its clocks run again
    assert codes(back)[-2:] == [DeskEvent.INCIDENT_LINKED, DeskEvent.INCIDENT_UNLINKED]
    assert codes(lift)[-1] == DeskEvent.INCIDENT_LEFT
    left = AuditEvent.objects.get(code=DeskEvent.INCIDENT_UNLINKED)
    assert left.after["reason"] == "是2号梯，不是同一部" and left.actor == p.clerk_a
    # On its own again it is dispatched like any request.
    services.request_dispatch(actor=p.dispatcher_a, request=back, assignee=p.technician_a)
    assert fresh(back).status == Status.DISPATCHED


def test_a_stale_page_cannot_link(personas, pair):
    p = personas
    lift, second = pair
    with pytest.raises(RequestChanged):
        incidents.incident_link(
            actor=p.clerk_a, request=second, parent=lift, expected_version=second.version - 1
        )
    assert fresh(second).parent_id is None


@pytest.mark.parametrize("who", ["technician_a", "owner_a102", "clerk_b", "outsider", "security_a"])
def test_only_the_desk_and_dispatchers_of_the_estate_link(personas, pair, who):
    p = personas
    lift, second = pair
    with pytest.raises((Http404, PermissionDenied)):
        incidents.incident_link(actor=getattr(p, who), request=second, parent=lift)
    assert fresh(second).parent_id is None
    incidents.incident_link(actor=p.clerk_a, request=second, parent=lift)
    with pytest.raises((Http404, PermissionDenied)):
        incidents.incident_unlink(actor=getattr(p, who), request=second, reason="不是")
    assert fresh(second).parent_id == lift.pk
    assert not AuditEvent.objects.filter(code=DeskEvent.INCIDENT_UNLINKED).exists()


def test_an_owner_is_refused_with_403_on_their_own_request(personas, pair):
    lift, second = pair
    with pytest.raises(PermissionDenied):
        incidents.incident_link(actor=personas.owner_a102, request=second, parent=lift)


def test_bad_links_are_refused_with_a_message_and_nothing_written(personas, pair):
    p = personas
    lift, second = pair
    before = AuditEvent.objects.count()

    def refused(parent, request=second):
        with pytest.raises(ValidationError) as caught:
            incidents.incident_link(actor=p.manager_a, request=request, parent=parent)
        assert caught.value.messages
        return caught.value

    assert "parent" in refused(second).message_dict  # itself
    other_estate = services.request_create(
        actor=p.clerk_b,
        estate=p.estate_b,
        kind=Kind.REPAIR,
        category="elevator",
        description="A座电梯停了",
        unit=p.unit_b101,
        contact_phone="13900139000",
    )
    before = AuditEvent.objects.count()
    assert "parent" in refused(other_estate).message_dict  # another estate (manager sees it?)
    assert "parent" in refused(ServiceRequest(pk=999999)).message_dict  # unknown
    # A parent that is itself a child: link to its incident instead.
    unit_a103 = make_unit(p.building_a1, "103")
    owner_a103, _resident = make_owner("owner_a103", "王芳", "13800138003", unit_a103)
    with time_machine.travel(MORNING + dt.timedelta(minutes=10), tick=False):
        third = report(owner_a103, unit_a103, "1号楼电梯停在5楼不动了")
    assert fresh(third).parent_id == lift.pk
    before = AuditEvent.objects.count()
    error = refused(fresh(third))
    assert lift.number in error.message_dict["parent"][0]
    # An incident with reports of its own cannot become a report.
    with pytest.raises(ValidationError):
        incidents.incident_link(actor=p.manager_a, request=lift, parent=second)
    assert AuditEvent.objects.count() == before
    assert fresh(second).parent_id is None and fresh(lift).parent_id is None


def test_unlinking_a_request_that_is_not_linked_is_refused(personas, pair):
    with pytest.raises(RequestChanged):
        incidents.incident_unlink(actor=personas.clerk_a, request=pair[1], reason="x")
    with pytest.raises(ValidationError):
        incidents.incident_link(actor=personas.clerk_a, request=pair[1], parent=pair[0])
        incidents.incident_unlink(actor=personas.clerk_a, request=pair[1], reason="")


# ----------------------------------------------------------------------------- the incident moves


@pytest.fixture
def incident(personas, lift):
    with time_machine.travel(MORNING + dt.timedelta(minutes=20), tick=False):
        second = report(personas.owner_a102, personas.unit_a102, "1号楼电梯坏了，停在5楼不动")
    assert fresh(second).parent_id == lift.pk
    return lift, fresh(second)


def test_a_linked_report_is_not_dispatched_on_its_own(personas, incident):
    p = personas
    _lift, child = incident
    with pytest.raises(ValidationError) as caught:
        services.request_dispatch(actor=p.dispatcher_a, request=child, assignee=p.technician_a)
    assert _lift.number in caught.value.messages[0]
    with pytest.raises(ValidationError):
        services.request_resume(actor=p.dispatcher_a, request=child)
    actions = {t.action for t in services.allowed_transitions(p.clerk_a, child)}
    assert actions == {"cancel_by_desk"}
    assert not services.is_waiting_for_dispatch(child)
    assert fresh(child).status == Status.ON_HOLD


def test_every_reporter_follows_the_incident_and_is_asked_to_confirm(personas, incident):
    p = personas
    lift, child = incident
    services.request_dispatch(actor=p.dispatcher_a, request=lift, assignee=p.technician_a)
    services.request_arrive(actor=p.technician_a, request=lift)
    assert fresh(child).status == Status.ON_HOLD
    told = Notification.objects.filter(recipient=p.owner_a102).count()

    services.request_complete(
        actor=p.technician_a, request=lift, work_notes="更换门机板，试运行正常"
    )

    done = fresh(child)
    assert done.status == Status.COMPLETED and done.parent_id == lift.pk
    assert done.work_notes == "更换门机板，试运行正常" and done.assignee == p.technician_a
    assert Notification.objects.filter(recipient=p.owner_a102).count() == told + 1
    assert (
        "please confirm"
        in Notification.objects.filter(recipient=p.owner_a102).latest("created_at").title
        or Notification.objects.filter(recipient=p.owner_a102).count()
    )
    owner_view = timeline.present(
        selectors.request_timeline(p.owner_a102, done, for_owner=True), for_owner=True
    )
    texts = " / ".join(entry.text for entry in owner_view)
    assert lift.number in texts
    assert DeskEvent.INCIDENT_PROGRESS in codes(done)
    # The other owner's name and flat are nowhere on this owner's timeline.
    assert "张伟" not in texts and "101" not in texts.replace(lift.number, "")
    owner_codes = {e.code for e in selectors.request_timeline(p.owner_a102, done, for_owner=True)}
    assert DeskEvent.INCIDENT_RESOLVED in owner_codes
    assert DeskEvent.INCIDENT_JOINED not in {
        e.code for e in selectors.request_timeline(p.owner_a101, lift, for_owner=True)
    }
    # Its reporter confirms on their own; its clocks are settled then, never breached.
    services.request_confirm(actor=p.owner_a102, request=done)
    assert fresh(done).status == Status.CLOSED
    states = set(RequestTarget.objects.filter(request=done).values_list("state", flat=True))
    assert states <= {"met", "stopped"}


def test_the_owners_of_reports_hear_of_the_main_steps(personas, incident):
    p = personas
    lift, child = incident
    before = Notification.objects.filter(recipient=p.owner_a102).count()
    services.request_dispatch(actor=p.dispatcher_a, request=lift, assignee=p.technician_a)
    assert Notification.objects.filter(recipient=p.owner_a102).count() == before + 1
    progress = AuditEvent.objects.get(code=DeskEvent.INCIDENT_PROGRESS, target_id=str(child.pk))
    assert progress.after["step"] == DeskEvent.DISPATCHED


def test_a_cancelled_incident_lets_its_reports_go_on_their_own(personas, incident):
    p = personas
    lift, child = incident
    services.request_cancel(actor=p.owner_a101, request=lift, reason="电梯自己好了")
    back = fresh(child)
    assert back.parent_id is None and back.status == Status.SUBMITTED
    assert codes(back)[-1] == DeskEvent.INCIDENT_UNLINKED
    assert Notification.objects.filter(recipient=p.dispatcher_a, link__contains=str(child.pk))
    services.request_dispatch(actor=p.dispatcher_a, request=back, assignee=p.technician_a)


def test_a_resolved_report_cannot_be_taken_out(personas, incident):
    p = personas
    lift, child = incident
    services.request_dispatch(actor=p.dispatcher_a, request=lift, assignee=p.technician_a)
    services.request_arrive(actor=p.technician_a, request=lift)
    services.request_complete(actor=p.technician_a, request=lift, work_notes="修好了")
    with pytest.raises(ValidationError):
        incidents.incident_unlink(actor=p.clerk_a, request=child, reason="不是")


def test_a_linked_report_can_still_be_cancelled_by_the_desk(personas, incident):
    p = personas
    lift, child = incident
    services.request_cancel(actor=p.clerk_a, request=child, reason="业主说重复了")
    assert fresh(child).status == Status.CANCELLED
    services.request_dispatch(actor=p.dispatcher_a, request=lift, assignee=p.technician_a)
    assert not AuditEvent.objects.filter(
        code=DeskEvent.INCIDENT_PROGRESS, target_id=str(child.pk)
    ).exists()


def test_a_complaint_incident_replies_to_every_complainant(personas):
    p = personas
    garage = CommonArea.objects.create(
        estate=p.estate_a, name="地下车库", kind=CommonArea.Kind.GARAGE
    )
    with time_machine.travel(MORNING, tick=False):
        first = record(p, "车库里有外来车辆乱停", "parking", area=garage, kind=Kind.COMPLAINT)
        second = record(p, "车库外来车辆乱停占位", "parking", area=garage, kind=Kind.COMPLAINT)
    assert fresh(second).parent_id == first.pk
    services.request_investigate(actor=p.clerk_a, request=first)
    services.request_reply(actor=p.clerk_a, request=first, reply="已加强门岗登记")
    replied = fresh(second)
    assert replied.status == Status.REPLIED and replied.reply == "已加强门岗登记"


def test_matching_can_be_switched_off_for_written_histories(personas, lift):
    p = personas
    with incidents.matching_off(), time_machine.travel(MORNING, tick=False):
        second = report(p.owner_a102, p.unit_a102, "1号楼电梯停在5楼不动了")
    assert fresh(second).parent_id is None


# ----------------------------------------------------------------------------- at the same time


@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("file_database")
def test_two_desk_users_linking_at_once_give_one_result():
    p = build_personas()
    second_clerk = make_staff("clerk_a2", "郑客服", p.estate_a, Role.SERVICE_DESK)
    with time_machine.travel(MORNING, tick=False):
        lift = report(p.owner_a101, p.unit_a101, "1号楼电梯停在5楼不动了")
    with time_machine.travel(MORNING + dt.timedelta(hours=1), tick=False):
        second = report(p.owner_a102, p.unit_a102, "电梯没反应，按了没用")
    assert fresh(second).parent_id is None

    results = at_once(
        lambda: incidents.incident_link(actor=p.clerk_a, request=second, parent=lift),
        lambda: incidents.incident_link(actor=second_clerk, request=second, parent=lift),
    )

    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1 and len(lost) == 1, results
    assert isinstance(lost[0], RequestChanged), results
    assert lift.number in lost[0].messages[0]
    assert fresh(second).parent_id == lift.pk
    assert AuditEvent.objects.filter(code=DeskEvent.INCIDENT_LINKED).count() == 1


# ----------------------------------------------------------------------------- pages and API


def test_the_desk_page_shows_the_incident_and_links_by_suggestion(personas, unsure, incident):
    p = personas
    lift, child = incident
    client = p.client_for(p.clerk_a)
    page = client.get(f"/service/requests/{lift.pk}/").content.decode()
    assert child.number in page and "incident" in page
    page = client.get(f"/service/requests/{child.pk}/").content.decode()
    assert lift.number in page
    first, second = unsure
    suggestion = DuplicateSuggestion.objects.get(request=second)
    page = client.get(f"/service/requests/{second.pk}/").content.decode()
    assert f"/incident/suggestions/{suggestion.pk}/link/" in page
    response = client.post(
        f"/service/requests/{second.pk}/incident/suggestions/{suggestion.pk}/link/"
    )
    assert response.status_code == 302
    assert fresh(second).parent_id == first.pk
    response = client.post(
        f"/service/requests/{second.pk}/incident/unlink/",
        {"unlink-version": fresh(second).version, "unlink-reason": "不是同一盏灯"},
    )
    assert response.status_code == 302 and fresh(second).parent_id is None
    response = client.post(
        f"/service/requests/{second.pk}/incident/link/",
        {"link-version": fresh(second).version, "link-parent": first.number.lower()},
    )
    assert fresh(second).parent_id == first.pk


def test_outsiders_get_404_on_the_incident_pages(personas, incident):
    p = personas
    lift, child = incident
    for user in (p.outsider, p.stranger, p.clerk_b):
        client = p.client_for(user)
        response = client.post(
            f"/service/requests/{child.pk}/incident/unlink/",
            {"unlink-version": child.version, "unlink-reason": "x"},
        )
        assert response.status_code == 404
    assert fresh(child).parent_id == lift.pk


def test_the_owner_of_a_report_sees_it_joined_the_repair(personas, incident):
    p = personas
    lift, child = incident
    page = p.client_for(p.owner_a102).get(reverse("servicedesk:owner_detail", args=[child.pk]))
    text = page.content.decode()
    assert page.status_code == 200
    assert lift.number in text
    assert "张伟" not in text


def test_the_api_links_and_unlinks(personas, pair):
    p = personas
    lift, second = pair
    client = p.client_for(p.clerk_a)
    url = f"/api/v1/requests/{second.pk}"
    response = client.post(f"{url}/link", {"parent": lift.pk}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["parent_number"] == lift.number
    assert client.get(f"/api/v1/requests/{lift.pk}").json()["children_count"] == 1
    response = client.post(f"{url}/unlink", {"reason": ""}, content_type="application/json")
    assert response.status_code in (400, 422)
    response = client.post(
        f"{url}/unlink", {"reason": "不是同一部梯"}, content_type="application/json"
    )
    assert response.status_code == 200 and response.json()["parent_id"] is None
    response = client.post(f"{url}/link", {"parent": 999999}, content_type="application/json")
    assert response.status_code in (400, 422) and "parent" in response.content.decode()
    owner = p.client_for(p.owner_a102)
    response = owner.post(f"{url}/link", {"parent": lift.pk}, content_type="application/json")
    assert response.status_code == 403
    assert fresh(second).parent_id is None


def test_the_demo_has_a_joined_lift_fault_and_a_suggested_pair():
    from jiayuan import demo
    from jiayuan.org.demo import SMALL_PLAN

    company = demo.build(plan=SMALL_PLAN)
    joined = ServiceRequest.objects.filter(
        company=company, parent__isnull=False, category="elevator"
    )
    assert joined.count() == 1
    assert joined.get().parent.status == Status.DISPATCHED
    assert DuplicateSuggestion.objects.filter(
        request__company=company, request__category="electrical", decision=""
    ).exists()
