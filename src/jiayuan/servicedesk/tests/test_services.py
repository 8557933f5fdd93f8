"""What the servicedesk services do beyond the workflow table: numbers, the handler trail,
holds, reopening, the first-contact owner, audit events, notifications, ratings and the
automatic rating, return visits, and intake's refusal of bad input and bad photos."""

import datetime as dt
import io
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import Sum
from django.http import Http404
from django.urls import reverse
from PIL import Image

from jiayuan.comms.models import Notification
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import make_staff
from jiayuan.org.models import CommonArea, Resident
from jiayuan.servicedesk import services
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import (
    DESCRIPTION_MAX,
    REASON_MAX,
    DeskSettings,
    Handling,
    Kind,
    Photo,
    Rating,
    RequestCounter,
    ReturnVisit,
    ServiceRequest,
    Status,
)
from jiayuan.servicedesk.services import RequestChanged
from jiayuan.servicedesk.tests.test_views_owner import (
    _media_in_memory,  # noqa: F401 - autouse fixture
    not_an_image,
    png,
)
from jiayuan.servicedesk.tests.test_workflow import STEPS, report

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = dt.datetime(2026, 6, 1, 9, 0, tzinfo=SHANGHAI)


def reach(p, kind: str, *steps: str) -> ServiceRequest:
    """owner_a101's request of `kind` after the given steps (see test_workflow.STEPS)."""
    request = report(p, kind)
    for step in steps:
        request = STEPS[step](p, request)
    return fresh(request)


def fresh(request: ServiceRequest) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


def recorded_by_phone(p, actor=None, estate=None, **extra) -> ServiceRequest:
    """A call taken by the desk for owner_a101."""
    fields = {
        "kind": Kind.REPAIR,
        "category": "plumbing",
        "description": "电话报修：楼道灯不亮",
        "reporter": p.resident_a101,
    }
    return services.request_create(
        actor=actor or p.clerk_a, estate=estate or p.estate_a, **(fields | extra)
    )


def footprint() -> tuple:
    """Everything an intake or a step writes; a refusal must leave all of it as it was."""
    return (
        ServiceRequest.objects.count(),
        AuditEvent.objects.count(),
        RequestCounter.objects.aggregate(total=Sum("last"))["total"],
        Handling.objects.count(),
        Photo.objects.count(),
        Rating.objects.count(),
        ReturnVisit.objects.count(),
        Notification.objects.count(),
    )


@contextmanager
def events(*codes: DeskEvent):
    """Exactly these audit events (in order) are written inside the block."""
    seen = set(AuditEvent.objects.values_list("pk", flat=True))
    yield
    new = AuditEvent.objects.exclude(pk__in=seen).order_by("pk")
    assert [e.code for e in new] == [c.value for c in codes]


def titles_for(user) -> list[str]:
    return list(Notification.objects.filter(recipient=user).values_list("title", flat=True))


def second_technician(p):
    user = make_staff("tech_a2", "李师傅", p.estate_a, Role.TECHNICIAN)
    p.team_a.memberships.create(user=user)
    return user


# ----------------------------------------------------------------------------- numbers


class TestNumbers:
    def test_the_prefix_follows_the_kind_and_the_date_is_todays(self, personas):
        prefixes = {
            Kind.REPAIR: "BX",
            Kind.COMPLAINT: "TS",
            Kind.INQUIRY: "ZX",
            Kind.SUGGESTION: "JY",
            Kind.PRAISE: "BY",
        }
        with time_machine.travel(MORNING, tick=False):
            numbers = {kind: report(personas, kind).number for kind in prefixes}
        # Each prefix counts on its own.
        assert numbers == {kind: f"{prefix}20260601-0001" for kind, prefix in prefixes.items()}

    def test_the_sequence_is_per_company_and_per_day(self, personas):
        p = personas
        with time_machine.travel(MORNING, tick=False):
            first = [report(p, Kind.REPAIR).number for _ in range(3)]
            # Another estate of the same company continues the company's sequence.
            in_b = recorded_by_phone(
                p, actor=p.clerk_b, estate=p.estate_b, reporter=None, contact_phone="13900139000"
            )
            other_company = recorded_by_phone(
                p, actor=p.outsider, estate=p.estate_c, reporter=None, contact_phone="13900139000"
            )
        with time_machine.travel(MORNING + dt.timedelta(days=1), tick=False):
            next_day = report(p, Kind.REPAIR).number
        assert first == ["BX20260601-0001", "BX20260601-0002", "BX20260601-0003"]
        assert in_b.number == "BX20260601-0004"
        assert other_company.number == "BX20260601-0001"
        assert next_day == "BX20260602-0001"

    def test_the_day_is_the_local_day(self, personas):
        # 16:30 UTC is half past midnight the next day in Shanghai.
        with time_machine.travel(dt.datetime(2026, 6, 1, 16, 30, tzinfo=dt.UTC), tick=False):
            assert report(personas, Kind.REPAIR).number == "BX20260602-0001"

    def test_a_refused_intake_uses_no_number(self, personas):
        with time_machine.travel(MORNING, tick=False):
            with pytest.raises(ValidationError):
                services.request_create(
                    actor=personas.owner_a101,
                    estate=personas.estate_a,
                    kind=Kind.REPAIR,
                    category="plumbing",
                    description="",
                )
            assert report(personas, Kind.REPAIR).number == "BX20260601-0001"


# ----------------------------------------------------------------------------- hold and resume


@pytest.mark.parametrize(
    ("kind", "steps", "held_from"),
    [
        (Kind.REPAIR, ("accept",), Status.ACCEPTED),
        (Kind.REPAIR, ("dispatch",), Status.DISPATCHED),
        (Kind.REPAIR, ("dispatch", "arrive"), Status.IN_PROGRESS),
        (Kind.COMPLAINT, ("accept",), Status.ACCEPTED),
        (Kind.COMPLAINT, ("investigate",), Status.INVESTIGATING),
    ],
    ids=[
        "repair-accepted",
        "repair-dispatched",
        "repair-in_progress",
        "complaint-accepted",
        "complaint-investigating",
    ],
)
def test_resume_returns_to_where_the_hold_found_it(personas, kind, steps, held_from):
    p = personas
    request = reach(p, kind, *steps)
    hops = list(Handling.objects.filter(request=request).values_list("pk", "ended_at"))
    held = services.request_hold(actor=p.dispatcher_a, request=request, reason="等业主在家")
    assert (held.status, held.held_from, held.hold_reason) == (
        Status.ON_HOLD,
        held_from,
        "等业主在家",
    )
    resumed = fresh(services.request_resume(actor=p.dispatcher_a, request=held))
    assert (resumed.status, resumed.held_from, resumed.hold_reason) == (held_from, "", "")
    assert resumed.version == request.version + 2
    # The person holding it still holds it: a pause is not a hand-over.
    assert list(Handling.objects.filter(request=request).values_list("pk", "ended_at")) == hops


def test_a_hold_needs_a_reason(personas):
    request = reach(personas, Kind.REPAIR, "dispatch")
    before = footprint()
    with pytest.raises(ValidationError) as refused:
        services.request_hold(actor=personas.dispatcher_a, request=request, reason="  ")
    assert "reason" in refused.value.message_dict
    assert footprint() == before
    assert fresh(request).status == Status.DISPATCHED


# ----------------------------------------------------------------------------- the handler trail


class TestTransferAndReturn:
    def test_the_trail_keeps_every_hop(self, personas):
        p = personas
        other = second_technician(p)
        request = reach(p, Kind.REPAIR, "dispatch")
        first = Handling.objects.get(request=request)
        assert (first.handler, first.assigned_by, first.previous) == (
            p.technician_a,
            p.dispatcher_a,
            None,
        )
        assert first.accepted_at is None and first.ended_at is None
        services.request_take(actor=p.technician_a, request=request)
        request = services.request_arrive(actor=p.technician_a, request=request)
        first.refresh_from_db()
        assert first.accepted_at is not None and first.arrived_at is not None

        # Transfer from the site: the new technician has yet to arrive.
        with events(DeskEvent.TRANSFERRED):
            request = services.request_transfer(
                actor=p.dispatcher_a, request=request, reason="需要电工", assignee=other
            )
        assert (request.status, request.assignee) == (Status.DISPATCHED, other)
        first.refresh_from_db()
        assert (first.outcome, first.note) == (Handling.Outcome.TRANSFERRED, "需要电工")
        assert first.ended_at is not None
        second = Handling.objects.get(request=request, ended_at__isnull=True)
        assert (second.handler, second.previous, second.accepted_at) == (other, first, None)
        assert titles_for(other) and request.number in titles_for(other)[0]

        # The second technician gives it back to whoever had it before.
        with events(DeskEvent.RETURNED):
            request = services.request_return(
                actor=other, request=request, reason="不是电的问题", to_previous=True
            )
        assert (request.status, request.assignee) == (Status.DISPATCHED, p.technician_a)
        second.refresh_from_db()
        assert (second.outcome, second.note) == (Handling.Outcome.RETURNED, "不是电的问题")
        third = Handling.objects.get(request=request, ended_at__isnull=True)
        assert (third.handler, third.previous) == (p.technician_a, second)

        # And the first technician returns it to the pool: accepted, nobody's.
        request = services.request_return(actor=p.technician_a, request=request, reason="缺配件")
        assert (request.status, request.assignee, request.team) == (Status.ACCEPTED, None, None)
        assert request.arrived_at is None
        assert not Handling.objects.filter(request=request, ended_at__isnull=True).exists()
        assert list(Handling.objects.filter(request=request).values_list("handler", "outcome")) == [
            (p.technician_a.pk, Handling.Outcome.TRANSFERRED),
            (other.pk, Handling.Outcome.RETURNED),
            (p.technician_a.pk, Handling.Outcome.RETURNED),
        ]
        # The pool's people hear of it.
        assert any(request.number in t for t in titles_for(p.dispatcher_a))

    def test_the_transfer_event_records_the_state_it_left(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch", "arrive")
        services.request_transfer(
            actor=p.dispatcher_a, request=request, reason="换人", team=p.team_a
        )
        event = AuditEvent.objects.filter(code=DeskEvent.TRANSFERRED.value).get()
        assert event.before["status"] == Status.IN_PROGRESS
        assert event.after["status"] == Status.DISPATCHED

    def test_returning_to_a_previous_handler_needs_one(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch")
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            services.request_return(
                actor=p.technician_a, request=request, reason="缺配件", to_previous=True
            )
        assert "to_previous" in refused.value.message_dict
        assert footprint() == before
        assert fresh(request).version == request.version

    @pytest.mark.parametrize("reason", ["", "   ", "长" * (REASON_MAX + 1), "坏\x00"])
    def test_transfer_and_return_need_a_proper_reason(self, personas, reason):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch")
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            services.request_transfer(
                actor=p.dispatcher_a, request=request, reason=reason, team=p.team_a
            )
        assert "reason" in refused.value.message_dict
        with pytest.raises(ValidationError) as refused:
            services.request_return(actor=p.technician_a, request=request, reason=reason)
        assert "reason" in refused.value.message_dict
        assert footprint() == before

    def test_a_transfer_goes_to_someone_else_who_works_here(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch")
        for target, field in ((p.technician_a, "assignee"), (p.clerk_b, "assignee")):
            with pytest.raises(ValidationError) as refused:
                services.request_transfer(
                    actor=p.dispatcher_a, request=request, reason="换人", assignee=target
                )
            assert field in refused.value.message_dict
        assert fresh(request).assignee == p.technician_a


# ----------------------------------------------------------------------------- reopening


class TestReopen:
    def test_each_reopen_is_counted_and_goes_back_to_the_technician(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch", "arrive", "complete")
        for count in (1, 2):
            with events(DeskEvent.REOPENED):
                request = services.request_reopen(
                    actor=p.owner_a101, request=request, reason="还在漏水"
                )
            request = fresh(request)
            assert (request.status, request.reopen_count) == (Status.DISPATCHED, count)
            assert request.completed_at is None and request.arrived_at is None
            hop = Handling.objects.get(request=request, ended_at__isnull=True)
            assert hop.handler == p.technician_a and hop.previous.outcome == "completed"
            assert any(request.number in t for t in titles_for(p.technician_a))
            request = STEPS["complete"](p, STEPS["arrive"](p, request))
        assert fresh(request).reopen_count == 2

    def test_a_reopened_complaint_is_investigated_again(self, personas):
        p = personas
        request = reach(p, Kind.COMPLAINT, "investigate", "reply")
        request = services.request_reopen(actor=p.owner_a101, request=request, reason="还在吵")
        assert (request.status, request.reopen_count, request.replied_at) == (
            Status.INVESTIGATING,
            1,
            None,
        )
        assert Handling.objects.get(request=request, ended_at__isnull=True).accepted_at

    def test_reopening_needs_a_reason(self, personas):
        request = reach(personas, Kind.REPAIR, "dispatch", "arrive", "complete")
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            services.request_reopen(actor=personas.owner_a101, request=request, reason="")
        assert "reason" in refused.value.message_dict
        assert footprint() == before


# ----------------------------------------------------------------------------- cancel and decline


class TestCancelAndDecline:
    @pytest.mark.parametrize("steps", [(), ("accept",)], ids=["submitted", "accepted"])
    def test_the_owner_cancels_before_dispatch_without_a_reason(self, personas, steps):
        p = personas
        request = reach(p, Kind.REPAIR, *steps)
        with events(DeskEvent.CANCELLED):
            request = services.request_cancel(actor=p.owner_a101, request=request)
        assert request.status == Status.CANCELLED and request.closed_at is not None

    def test_the_owner_cannot_cancel_once_dispatched(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch")
        before = footprint()
        with pytest.raises(RequestChanged):
            services.request_cancel(actor=p.owner_a101, request=request, reason="不修了")
        assert footprint() == before
        assert fresh(request).status == Status.DISPATCHED

    def test_the_desk_cancels_later_with_a_reason_and_tells_everyone(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch")
        with pytest.raises(ValidationError) as refused:
            services.request_cancel(actor=p.clerk_a, request=request, reason="")
        assert "reason" in refused.value.message_dict
        owner_before = len(titles_for(p.owner_a101))
        with events(DeskEvent.CANCELLED_BY_DESK):
            request = services.request_cancel(
                actor=p.clerk_a, request=request, reason="业主来电撤销"
            )
        assert (request.status, request.close_reason) == (Status.CANCELLED, "业主来电撤销")
        hop = Handling.objects.get(request=request)
        assert (hop.outcome, hop.note) == (Handling.Outcome.CANCELLED, "业主来电撤销")
        assert len(titles_for(p.owner_a101)) == owner_before + 1
        assert any(request.number in t for t in titles_for(p.technician_a))

    @pytest.mark.parametrize("reason", ["", "   ", "长" * (REASON_MAX + 1), "坏\x00"])
    def test_a_decline_needs_a_reason(self, personas, reason):
        request = reach(personas, Kind.INQUIRY)
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            services.request_decline(actor=personas.clerk_a, request=request, reason=reason)
        assert "reason" in refused.value.message_dict
        assert footprint() == before

    def test_a_decline_closes_it_and_tells_the_owner_why(self, personas):
        p = personas
        request = reach(p, Kind.INQUIRY)
        with events(DeskEvent.DECLINED):
            request = services.request_decline(
                actor=p.clerk_a, request=request, reason="非物业范围"
            )
        assert (request.status, request.close_reason) == (Status.DECLINED, "非物业范围")
        assert request.closed_at is not None and request.first_contact == p.clerk_a
        note = Notification.objects.get(recipient=p.owner_a101)
        assert note.body == "非物业范围" and note.kind == "servicedesk.owner"
        assert note.link == reverse("servicedesk:owner_detail", args=[request.pk])


# ----------------------------------------------------------------------------- first contact


class TestFirstContact:
    def test_a_portal_request_gets_the_first_staff_member_who_acts_and_keeps_them(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR)
        assert request.first_contact is None
        request = services.request_accept(actor=p.clerk_a, request=request)
        request = services.request_dispatch(
            actor=p.dispatcher_a, request=request, assignee=p.technician_a
        )
        assert fresh(request).first_contact == p.clerk_a

    @pytest.mark.parametrize("step", ["dispatch", "reply", "decline"])
    def test_whoever_acts_first_becomes_it(self, personas, step):
        p = personas
        kind = Kind.REPAIR if step == "dispatch" else Kind.INQUIRY
        request = reach(p, kind, step)
        expected = p.dispatcher_a if step == "dispatch" else p.clerk_a
        assert request.first_contact == expected

    def test_the_staff_member_who_records_a_call_is_it(self, personas):
        p = personas
        request = recorded_by_phone(p)
        assert request.first_contact == p.clerk_a
        request = services.request_accept(actor=p.dispatcher_a, request=request)
        request = services.request_dispatch(
            actor=p.dispatcher_a, request=request, assignee=p.technician_a
        )
        assert fresh(request).first_contact == p.clerk_a


# ----------------------------------------------------------------------------- audit events


def test_each_step_of_a_repair_writes_one_event_with_its_code(personas):
    p = personas
    with events(DeskEvent.CREATED):
        request = report(p, Kind.REPAIR)
    walk = [
        (DeskEvent.ACCEPTED, lambda r: services.request_accept(actor=p.clerk_a, request=r)),
        (DeskEvent.DISPATCHED, lambda r: STEPS["dispatch"](p, r)),
        (DeskEvent.TAKEN, lambda r: services.request_take(actor=p.technician_a, request=r)),
        (
            DeskEvent.HELD,
            lambda r: services.request_hold(actor=p.technician_a, request=r, reason="等"),
        ),
        (DeskEvent.RESUMED, lambda r: services.request_resume(actor=p.technician_a, request=r)),
        (DeskEvent.ARRIVED, lambda r: services.request_arrive(actor=p.technician_a, request=r)),
        (DeskEvent.COMPLETED, lambda r: STEPS["complete"](p, r)),
        (DeskEvent.CONFIRMED, lambda r: services.request_confirm(actor=p.owner_a101, request=r)),
    ]
    for code, step in walk:
        version = fresh(request).version
        with events(code):
            request = step(request)
        assert fresh(request).version == version + 1
        event = AuditEvent.objects.latest("pk")
        assert (event.target_id, event.estate, event.company) == (
            str(request.pk),
            p.estate_a,
            p.company,
        )
    with events(DeskEvent.RATED):
        services.request_rate(actor=p.owner_a101, request=request, overall=5)
    dispatched = AuditEvent.objects.get(code=DeskEvent.DISPATCHED.value)
    assert dispatched.actor == p.dispatcher_a
    assert dispatched.before == {"status": Status.ACCEPTED, "assignee": None, "team": None}
    assert dispatched.after["assignee"] == p.technician_a.pk
    assert dispatched.after["status"] == Status.DISPATCHED


def test_each_step_of_a_complaint_writes_one_event_with_its_code(personas):
    p = personas
    request = report(p, Kind.COMPLAINT)
    walk = [
        (DeskEvent.INVESTIGATING, lambda r: STEPS["investigate"](p, r)),
        (DeskEvent.REPLIED, lambda r: STEPS["reply"](p, r)),
        (
            DeskEvent.REOPENED,
            lambda r: services.request_reopen(actor=p.owner_a101, request=r, reason="不满意"),
        ),
        (DeskEvent.REPLIED, lambda r: STEPS["reply"](p, r)),
    ]
    for code, step in walk:
        with events(code):
            request = step(request)
    # Closing a complaint also plans its return visit: a second change, a second event.
    with events(DeskEvent.CONFIRMED, DeskEvent.VISIT_PLANNED):
        services.request_confirm(actor=p.owner_a101, request=request)


# ----------------------------------------------------------------------------- notifications


class TestNotifications:
    def test_dispatch_tells_the_technician_and_the_owner(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch")
        to_tech = Notification.objects.get(recipient=p.technician_a)
        assert to_tech.kind == "servicedesk.staff" and request.number in to_tech.title
        assert to_tech.link == reverse("servicedesk:detail", args=[request.pk])
        to_owner = Notification.objects.get(recipient=p.owner_a101)
        assert to_owner.kind == "servicedesk.owner" and to_owner.body == "王师傅"
        assert to_owner.estate == p.estate_a

    def test_a_team_order_tells_every_member(self, personas):
        p = personas
        other = second_technician(p)
        request = reach(p, Kind.REPAIR)
        services.request_dispatch(actor=p.dispatcher_a, request=request, team=p.team_a)
        assert len(titles_for(p.technician_a)) == len(titles_for(other)) == 1

    def test_the_owner_hears_of_each_step_on_their_request(self, personas):
        p = personas
        reach(p, Kind.REPAIR, "accept", "dispatch", "arrive", "complete")
        # accepted, technician sent, arrived, done: please confirm.
        assert len(titles_for(p.owner_a101)) == 4
        assert titles_for(p.owner_a102) == []

    def test_a_call_without_a_portal_account_notifies_no_owner(self, personas):
        p = personas
        request = recorded_by_phone(p, reporter=None, contact_phone="13900139000")
        services.request_accept(actor=p.clerk_a, request=request)
        assert not Notification.objects.filter(kind="servicedesk.owner").exists()

    def test_a_complaint_goes_to_the_estates_managers(self, personas):
        p = personas
        request = report(p, Kind.COMPLAINT)
        told = set(Notification.objects.values_list("recipient", flat=True))
        assert told == {p.manager_a.pk, p.company_admin.pk}
        assert all(request.number in t for t in titles_for(p.manager_a))

    def test_praise_goes_to_the_praised_staff_members_managers(self, personas):
        p = personas
        services.request_create(
            actor=p.owner_a101,
            estate=p.estate_a,
            kind=Kind.PRAISE,
            category="other",
            description="王师傅修得又快又好",
            praised_staff=p.technician_a,
        )
        told = set(Notification.objects.values_list("recipient", flat=True))
        assert told == {p.manager_a.pk, p.company_admin.pk}
        assert "王师傅" in titles_for(p.manager_a)[0]

    def test_only_someone_who_works_here_can_be_praised(self, personas):
        p = personas
        before = footprint()
        for not_here in (p.clerk_b, p.owner_a102, p.outsider):
            with pytest.raises(ValidationError) as refused:
                services.request_create(
                    actor=p.owner_a101,
                    estate=p.estate_a,
                    kind=Kind.PRAISE,
                    category="other",
                    description="谢谢",
                    praised_staff=not_here,
                )
            assert set(refused.value.message_dict) == {"praised_staff"}
        assert footprint() == before

    def test_a_low_rating_alerts_the_managers_and_a_good_one_does_not(self, personas):
        p = personas
        low = reach(p, Kind.INQUIRY, "reply", "confirm")
        good = reach(p, Kind.INQUIRY, "reply", "confirm")
        services.request_rate(actor=p.owner_a101, request=good, overall=4)
        assert titles_for(p.manager_a) == []
        services.request_rate(actor=p.owner_a101, request=low, overall=2, comment="态度差")
        assert len(titles_for(p.manager_a)) == 1 and low.number in titles_for(p.manager_a)[0]


# ----------------------------------------------------------------------------- ratings


class TestRating:
    def test_the_reporter_rates_a_closed_request_once(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch", "arrive", "complete", "confirm")
        rating = services.request_rate(
            actor=p.owner_a101,
            request=request,
            overall="4",
            quality=3,
            comment="还行",
            tags=["准时", "准时", "整洁"],
        )
        assert (rating.overall, rating.timeliness, rating.attitude, rating.quality) == (4, 4, 4, 3)
        assert (rating.tags, rating.rated_by, rating.is_automatic) == (
            ["准时", "整洁"],
            p.owner_a101,
            False,
        )
        before = footprint()
        with pytest.raises(RequestChanged):
            services.request_rate(actor=p.owner_a101, request=request, overall=5)
        assert footprint() == before

    @pytest.mark.parametrize(
        ("fields", "bad"),
        [
            ({"overall": 0}, "overall"),
            ({"overall": 6}, "overall"),
            ({"overall": -1}, "overall"),
            ({"overall": "五"}, "overall"),
            ({"overall": 4.5}, "overall"),
            ({"overall": True}, "overall"),
            ({"overall": None}, "overall"),
            ({"overall": [5]}, "overall"),
            ({"overall": 5, "timeliness": 9}, "timeliness"),
            ({"overall": 5, "attitude": "0"}, "attitude"),
            ({"overall": 5, "comment": "长" * 1001}, "comment"),
            ({"overall": 5, "comment": "坏\x00"}, "comment"),
            ({"overall": 5, "tags": [f"t{n}" for n in range(11)]}, "tags"),
            ({"overall": 5, "tags": "准时"}, "tags"),
            ({"overall": 5, "tags": [""]}, "tags"),
        ],
    )
    def test_bad_ratings_are_refused_by_field(self, personas, fields, bad):
        request = reach(personas, Kind.INQUIRY, "reply", "confirm")
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            services.request_rate(actor=personas.owner_a101, request=request, **fields)
        assert bad in refused.value.message_dict
        assert footprint() == before

    def test_only_the_reporter_rates(self, personas):
        p = personas
        request = reach(p, Kind.INQUIRY, "reply", "confirm")
        with pytest.raises(PermissionDenied):
            services.request_rate(actor=p.clerk_a, request=request, overall=5)
        with pytest.raises(Http404):
            services.request_rate(actor=p.owner_a102, request=request, overall=5)
        assert not Rating.objects.exists()

    @pytest.mark.parametrize(
        ("kind", "steps"),
        [
            (Kind.REPAIR, ("dispatch", "arrive", "complete")),
            (Kind.INQUIRY, ("reply",)),
            (Kind.INQUIRY, ("cancel",)),
            (Kind.PRAISE, ("reply", "confirm")),
        ],
        ids=["completed", "replied", "cancelled", "closed-praise"],
    )
    def test_only_a_closed_request_other_than_praise_is_rated(self, personas, kind, steps):
        request = reach(personas, kind, *steps)
        assert not services.rating_allowed(personas.owner_a101, request)
        with pytest.raises(ValidationError):
            services.request_rate(actor=personas.owner_a101, request=request, overall=5)
        assert not Rating.objects.exists()


class TestAutomaticRating:
    def test_after_the_default_48_hours_it_is_closed_and_rated_automatically(self, personas):
        p = personas
        with time_machine.travel(MORNING, tick=False):
            request = reach(p, Kind.REPAIR, "dispatch", "arrive", "complete")
        almost = MORNING + dt.timedelta(hours=47, minutes=59)
        with time_machine.travel(almost, tick=False):
            assert services.auto_close_due(now=almost) == 0
        assert fresh(request).status == Status.COMPLETED
        due = MORNING + dt.timedelta(hours=48)
        with time_machine.travel(due, tick=False):
            with events(DeskEvent.AUTO_CLOSED, DeskEvent.AUTO_RATED, DeskEvent.VISIT_PLANNED):
                assert services.auto_close_due(now=due) == 1
            assert services.auto_close_due(now=due) == 0
        request = fresh(request)
        assert (request.status, request.auto_closed, request.closed_at) == (
            Status.CLOSED,
            True,
            due,
        )
        rating = request.rating
        assert rating.is_automatic and rating.rated_by is None
        assert (rating.overall, rating.timeliness, rating.attitude, rating.quality) == (5,) * 4
        # Not rated by the owner: the default repair policy calls them back.
        assert request.return_visit.due_at == due + dt.timedelta(hours=72)
        with pytest.raises(RequestChanged):
            services.request_rate(actor=p.owner_a101, request=request, overall=1)

    def test_the_hours_and_the_stars_are_the_companys_setting(self, personas):
        p = personas
        services.desk_settings_update(
            actor=p.manager_a, company=p.company, auto_rate_after_hours=24, auto_rating=4
        )
        with time_machine.travel(MORNING, tick=False):
            ours = reach(p, Kind.INQUIRY, "reply")
            theirs = recorded_by_phone(
                p,
                actor=p.outsider,
                estate=p.estate_c,
                kind=Kind.INQUIRY,
                category="billing",
                reporter=None,
                contact_phone="13900139000",
            )
            services.request_reply(actor=p.outsider, request=theirs, reply="已答复")
        later = MORNING + dt.timedelta(hours=25)
        with time_machine.travel(later, tick=False):
            assert services.auto_close_due(now=later) == 1
        assert fresh(ours).rating.overall == 4
        # The other company keeps the default 48 hours.
        assert fresh(theirs).status == Status.REPLIED

    def test_a_confirmed_but_unrated_request_is_rated_after_the_hours(self, personas):
        p = personas
        with time_machine.travel(MORNING, tick=False):
            request = reach(p, Kind.REPAIR, "dispatch", "arrive", "complete", "confirm")
        due = MORNING + dt.timedelta(hours=48)
        with (
            time_machine.travel(due, tick=False),
            events(DeskEvent.AUTO_RATED, DeskEvent.VISIT_PLANNED),
        ):
            assert services.auto_close_due(now=due) == 1
        request = fresh(request)
        assert request.rating.is_automatic and not request.auto_closed

    def test_an_owners_rating_is_never_replaced(self, personas):
        p = personas
        with time_machine.travel(MORNING, tick=False):
            request = reach(p, Kind.INQUIRY, "reply", "confirm")
            services.request_rate(actor=p.owner_a101, request=request, overall=3)
        later = MORNING + dt.timedelta(days=10)
        with time_machine.travel(later, tick=False):
            assert services.auto_close_due(now=later) == 0
        assert fresh(request).rating.overall == 3

    def test_praise_is_closed_but_not_rated(self, personas):
        p = personas
        with time_machine.travel(MORNING, tick=False):
            request = reach(p, Kind.PRAISE, "reply")
        later = MORNING + dt.timedelta(hours=49)
        with time_machine.travel(later, tick=False):
            services.auto_close_due(now=later)
        request = fresh(request)
        assert request.status == Status.CLOSED and request.auto_closed
        assert not Rating.objects.filter(request=request).exists()


# ----------------------------------------------------------------------------- return visits


def set_policy(p, **changes):
    return services.desk_settings_update(actor=p.company_admin, company=p.company, **changes)


class TestReturnVisitPolicy:
    def test_defaults_complaints_always_repairs_only_unrated_others_never(self, personas):
        p = personas
        with time_machine.travel(MORNING, tick=False):
            complaint = reach(p, Kind.COMPLAINT, "investigate", "reply", "confirm")
            repair = reach(p, Kind.REPAIR, "dispatch", "arrive", "complete", "confirm")
            services.request_rate(actor=p.owner_a101, request=repair, overall=5)
            inquiry = reach(p, Kind.INQUIRY, "reply", "confirm")
            services.request_rate(actor=p.owner_a101, request=inquiry, overall=1)
        assert ReturnVisit.objects.get().request == complaint
        assert complaint.return_visit.due_at == MORNING + dt.timedelta(hours=72)

    def test_always_and_the_hours_are_settings(self, personas):
        p = personas
        set_policy(p, visit_policy={"repair": "always"}, return_visit_within_hours=24)
        request = reach(p, Kind.REPAIR, "dispatch", "arrive", "complete")
        with (
            time_machine.travel(MORNING, tick=False),
            events(DeskEvent.CONFIRMED, DeskEvent.VISIT_PLANNED),
        ):
            request = services.request_confirm(actor=p.owner_a101, request=request)
        assert request.return_visit.due_at == MORNING + dt.timedelta(hours=24)
        # Rating afterwards plans no second visit.
        with events(DeskEvent.RATED):
            services.request_rate(actor=p.owner_a101, request=request, overall=5)

    @pytest.mark.parametrize(("stars", "visited"), [(1, True), (3, True), (4, False), (5, False)])
    def test_low_ratings_policy_calls_back_on_three_or_less(self, personas, stars, visited):
        p = personas
        set_policy(p, visit_policy={"repair": "low_ratings"})
        request = reach(p, Kind.REPAIR, "dispatch", "arrive", "complete", "confirm")
        assert not ReturnVisit.objects.exists()
        services.request_rate(actor=p.owner_a101, request=request, overall=stars)
        assert ReturnVisit.objects.filter(request=request).exists() == visited

    def test_never_means_never(self, personas):
        p = personas
        set_policy(p, visit_policy={"complaint": "never"})
        reach(p, Kind.COMPLAINT, "investigate", "reply", "confirm")
        assert not ReturnVisit.objects.exists()

    @pytest.mark.parametrize(
        "changes",
        [
            {"visit_policy": {"repair": "sometimes"}},
            {"visit_policy": {"fix": "always"}},
            {"visit_policy": ["always"]},
            {"auto_rating": 6},
            {"auto_rate_after_hours": 0},
            {"colour": "red"},
        ],
    )
    def test_bad_settings_are_refused(self, personas, changes):
        before = footprint(), DeskSettings.objects.count()
        with pytest.raises(ValidationError) as refused:
            set_policy(personas, **changes)
        assert set(refused.value.message_dict) == set(changes)
        assert (footprint(), DeskSettings.objects.count()) == before

    def test_only_managers_change_the_settings(self, personas):
        p = personas
        with pytest.raises(PermissionDenied):
            services.desk_settings_update(actor=p.clerk_a, company=p.company, auto_rating=1)
        with pytest.raises(Http404):
            services.desk_settings_update(actor=p.outsider, company=p.company, auto_rating=1)
        assert not DeskSettings.objects.exists()


class TestReturnVisitRecord:
    def visit(self, p, kind=Kind.REPAIR):
        set_policy(p, visit_policy={kind: "always"})
        steps = ("dispatch", "arrive", "complete", "confirm")
        if kind != Kind.REPAIR:
            steps = ("investigate", "reply", "confirm")
        return reach(p, kind, *steps).return_visit

    def record(self, p, visit, actor=None, **fields):
        values = {"method": "phone", "outcome": "satisfied", "note": "业主满意"} | fields
        return services.return_visit_record(actor=actor or p.clerk_a, visit=visit, **values)

    def test_recorded_once(self, personas):
        p = personas
        visit = self.visit(p)
        with events(DeskEvent.VISIT_DONE):
            visit = self.record(p, visit)
        assert (visit.done_by, visit.outcome, visit.method) == (p.clerk_a, "satisfied", "phone")
        assert visit.done_at is not None
        with pytest.raises(RequestChanged):
            self.record(p, visit)

    def test_an_unhappy_owners_repair_is_reopened(self, personas):
        p = personas
        visit = self.visit(p)
        with events(DeskEvent.VISIT_DONE, DeskEvent.REOPENED_AFTER_VISIT):
            self.record(p, visit, outcome="unsatisfied", note="还在漏", follow_up="reopen")
        request = fresh(visit.request)
        assert (request.status, request.reopen_count, request.closed_at) == (
            Status.DISPATCHED,
            1,
            None,
        )
        assert Handling.objects.get(request=request, ended_at__isnull=True).handler == (
            p.technician_a
        )

    def test_an_unhappy_owner_can_get_a_follow_up_complaint(self, personas):
        p = personas
        visit = self.visit(p)
        self.record(p, visit, outcome="unsatisfied", note="师傅态度差", follow_up="complaint")
        complaint = ServiceRequest.objects.get(kind=Kind.COMPLAINT)
        assert complaint.related_to == visit.request
        assert complaint.number.startswith("TS")
        assert (complaint.reporter_user, complaint.first_contact) == (p.owner_a101, p.clerk_a)
        assert "师傅态度差" in complaint.description
        assert fresh(visit.request).status == Status.CLOSED

    @pytest.mark.parametrize(
        ("fields", "bad"),
        [
            ({"method": "pigeon"}, "method"),
            ({"outcome": "meh"}, "outcome"),
            ({"note": "长" * 1001}, "note"),
            ({"follow_up": "reopen"}, "follow_up"),  # the owner was satisfied
            ({"outcome": "unsatisfied", "follow_up": "refund"}, "follow_up"),
        ],
    )
    def test_bad_records_are_refused_by_field(self, personas, fields, bad):
        p = personas
        visit = self.visit(p)
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            self.record(p, visit, **fields)
        assert bad in refused.value.message_dict
        assert footprint() == before

    def test_only_a_repair_is_reopened(self, personas):
        p = personas
        visit = self.visit(p, Kind.COMPLAINT)
        with pytest.raises(ValidationError) as refused:
            self.record(p, visit, outcome="unsatisfied", follow_up="reopen")
        assert "follow_up" in refused.value.message_dict

    def test_field_staff_and_owners_cannot_record(self, personas):
        p = personas
        visit = self.visit(p)
        for actor in (p.technician_a, p.owner_a101, p.clerk_b):
            with pytest.raises(Http404):
                self.record(p, visit, actor=actor)
        assert ReturnVisit.objects.get().done_at is None


# ----------------------------------------------------------------------------- intake input


def intake(p, actor_name="owner_a101", **changes):
    actor = getattr(p, actor_name)
    fields = {
        "estate": p.estate_a,
        "kind": Kind.REPAIR,
        "category": "plumbing",
        "description": "卫生间漏水",
        "unit": p.unit_a101,
    }
    if actor_name != "owner_a101":
        fields |= {"reporter": p.resident_a101, "channel": "phone"}
    return services.request_create(actor=actor, **(fields | changes))


LATER = MORNING + dt.timedelta(days=1)
BAD_INTAKES = [
    ("missing description", "owner_a101", {"description": ""}, {"description"}),
    ("blank description", "owner_a101", {"description": " \n "}, {"description"}),
    ("no description", "owner_a101", {"description": None}, {"description"}),
    ("description not text", "owner_a101", {"description": ["漏水"]}, {"description"}),
    (
        "oversized description",
        "owner_a101",
        {"description": "长" * (DESCRIPTION_MAX + 1)},
        {"description"},
    ),
    ("oversized location", "owner_a101", {"location_note": "长" * 201}, {"location_note"}),
    ("NUL in description", "owner_a101", {"description": "漏水\x00"}, {"description"}),
    ("NUL in location", "clerk_a", {"location_note": "\x00"}, {"location_note"}),
    ("unknown kind", "owner_a101", {"kind": "fix"}, {"kind"}),
    ("unknown category", "owner_a101", {"category": "magic"}, {"category"}),
    ("unknown urgency", "owner_a101", {"urgency": "asap"}, {"urgency"}),
    ("another owner's unit", "owner_a101", {"unit": lambda p: p.unit_a102}, {"unit"}),
    ("unit of another estate", "owner_a101", {"unit": lambda p: p.unit_b101}, {"unit"}),
    ("staff: unit of another estate", "clerk_a", {"unit": lambda p: p.unit_b101}, {"unit"}),
    (
        "common area of another estate",
        "clerk_a",
        {"unit": None, "common_area": lambda p: _area_in_b(p)},
        {"common_area"},
    ),
    ("unit and common area", "clerk_a", {"common_area": lambda p: p.lobby_a}, {"unit"}),
    (
        "appointment in the past",
        "owner_a101",
        {
            "appointment_start": MORNING - dt.timedelta(hours=3),
            "appointment_end": MORNING - dt.timedelta(hours=1),
        },
        {"appointment_start"},
    ),
    (
        "appointment ends before it starts",
        "owner_a101",
        {"appointment_start": LATER, "appointment_end": LATER - dt.timedelta(hours=1)},
        {"appointment_end"},
    ),
    ("half an appointment", "owner_a101", {"appointment_start": LATER}, {"appointment_end"}),
    ("bad phone", "clerk_a", {"contact_phone": "12345"}, {"contact_phone"}),
    ("landline-looking phone", "clerk_a", {"contact_phone": "021-5555666"}, {"contact_phone"}),
    ("a call without a phone", "clerk_a", {"reporter": None}, {"contact_phone"}),
    ("unknown channel", "clerk_a", {"channel": "pigeon"}, {"channel"}),
    ("staff posing as the portal", "clerk_a", {"channel": "portal"}, {"channel"}),
    (
        "resident of another company",
        "clerk_a",
        {"reporter": lambda p: _resident_of_other_company(p)},
        {"reporter"},
    ),
    (
        "everything at once",
        "owner_a101",
        {"kind": "fix", "description": "", "unit": lambda p: p.unit_a102, "urgency": "asap"},
        {"kind", "description", "unit", "urgency"},
    ),
]


def _area_in_b(p):
    return CommonArea.objects.create(estate=p.estate_b, name="B座大堂", kind=CommonArea.Kind.LOBBY)


def _resident_of_other_company(p):
    return Resident.objects.create(company=p.other_company, name="外人", mobile="13700137001")


@pytest.mark.parametrize(
    ("actor_name", "changes", "fields"),
    [pytest.param(a, c, f, id=name) for name, a, c, f in BAD_INTAKES],
)
def test_bad_intake_is_refused_by_field_and_writes_nothing(personas, actor_name, changes, fields):
    with time_machine.travel(MORNING, tick=False):
        values = {k: v(personas) if callable(v) else v for k, v in changes.items()}
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            intake(personas, actor_name, **values)
        assert set(refused.value.message_dict) == fields
        assert footprint() == before


def test_an_appointment_window_under_way_is_accepted(personas):
    with time_machine.travel(MORNING, tick=False):
        request = intake(
            personas,
            appointment_start=MORNING - dt.timedelta(hours=1),
            appointment_end=MORNING + dt.timedelta(hours=1),
        )
    assert request.appointment_end == MORNING + dt.timedelta(hours=1)


@pytest.mark.parametrize(
    ("actor_name", "estate", "error"),
    [
        ("stranger", "estate_a", Http404),
        ("outsider", "estate_a", Http404),
        ("clerk_b", "estate_a", Http404),
        ("technician_a", "estate_a", PermissionDenied),  # works here, but not at the desk
        ("owner_a101", "estate_b", Http404),  # has no home there
    ],
)
def test_intake_by_someone_with_no_business_there_is_refused(personas, actor_name, estate, error):
    before = footprint()
    with pytest.raises(error):
        services.request_create(
            actor=getattr(personas, actor_name),
            estate=getattr(personas, estate),
            kind=Kind.REPAIR,
            category="plumbing",
            description="漏水",
            contact_phone="13900139000",
        )
    assert footprint() == before


# ----------------------------------------------------------------------------- photos


def oversized_png() -> SimpleUploadedFile:
    """A real image padded past the size limit: refused on size before it is read."""
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (0, 120, 200)).save(buffer, format="PNG")
    data = buffer.getvalue()
    data += b"\0" * (settings.REQUEST_PHOTO_MAX_BYTES + 1 - len(data))
    return SimpleUploadedFile("huge.png", data, content_type="image/png")


def too_many_pixels() -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("1", (8000, 5001)).save(buffer, format="PNG")  # 40,008,000 pixels
    return SimpleUploadedFile("bomb.png", buffer.getvalue(), content_type="image/png")


def text_named_jpeg() -> SimpleUploadedFile:
    return SimpleUploadedFile("notes.jpg", "只是文字".encode(), content_type="image/jpeg")


class TestPhotos:
    def test_a_photo_is_kept_re_encoded_with_a_thumbnail(self, personas):
        request = intake(personas, photos=[png()])
        photo = Photo.objects.get(request=request)
        assert (photo.stage, photo.uploaded_by) == (Photo.Stage.REPORT, personas.owner_a101)
        assert photo.image.name.endswith(".jpg") and photo.thumbnail.name.endswith(".jpg")
        with Image.open(photo.image) as image:
            assert image.format == "JPEG" and image.size == (64, 48)

    @pytest.mark.parametrize(
        "upload",
        [not_an_image, text_named_jpeg, oversized_png, too_many_pixels],
        ids=["not-an-image", "text-as-jpeg", "over-size", "too-many-pixels"],
    )
    def test_a_bad_file_refuses_the_whole_intake(self, personas, upload):
        bad = upload()
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            intake(personas, photos=[png(), bad])
        assert set(refused.value.message_dict) == {"photos"}
        assert bad.name in " ".join(refused.value.message_dict["photos"])
        assert footprint() == before

    def test_at_most_nine(self, personas):
        before = footprint()
        with pytest.raises(ValidationError) as refused:
            intake(personas, photos=[png(f"p{n}.png") for n in range(10)])
        assert set(refused.value.message_dict) == {"photos"}
        assert footprint() == before

    def test_photos_added_later_are_checked_the_same_way(self, personas):
        p = personas
        request = reach(p, Kind.REPAIR, "dispatch")
        before = footprint()
        with pytest.raises(ValidationError):
            services.request_add_photos(
                actor=p.technician_a, request=request, photos=[oversized_png()]
            )
        assert footprint() == before
        with events(DeskEvent.PHOTOS_ADDED):
            saved = services.request_add_photos(
                actor=p.technician_a, request=request, photos=[png()]
            )
        assert [photo.stage for photo in saved] == [Photo.Stage.BEFORE]
        with pytest.raises(Http404):
            services.request_add_photos(actor=p.owner_a102, request=request, photos=[png()])

    def test_no_photos_on_a_closed_request(self, personas):
        p = personas
        request = reach(p, Kind.INQUIRY, "reply", "confirm")
        with pytest.raises(ValidationError):
            services.request_add_photos(actor=p.owner_a101, request=request, photos=[png()])
        assert not Photo.objects.exists()
