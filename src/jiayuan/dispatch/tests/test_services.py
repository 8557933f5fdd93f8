"""Dispatch by the estate's mode: skills, shifts and caps are never broken; round-robin
rotates; the grab pool goes to the first able technician and falls back to automatic."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiayuan.comms.models import Notification
from jiayuan.core import memo
from jiayuan.core.models import AuditEvent
from jiayuan.dispatch import selectors, services
from jiayuan.dispatch.events import DispatchEvent
from jiayuan.dispatch.models import DispatchRule, GrabOffer, Mode, TechnicianProfile
from jiayuan.dispatch.tests.conftest import DAY_SHIFT, FAULTS, technician
from jiayuan.servicedesk.models import Handling, ServiceRequest, Status
from jiayuan.servicedesk.services import RequestChanged


def fresh(request) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


@pytest.fixture
def sent(django_capture_on_commit_callbacks):
    """Create requests and run what their commits set off (the dispatch signal)."""

    def run(make):
        with django_capture_on_commit_callbacks(execute=True):
            return make()

    return run


def set_mode(crew, mode, category="", minutes=10):
    return services.rule_save(
        actor=crew.p.dispatcher_a,
        estate=crew.p.estate_a,
        category=category,
        mode=mode,
        grab_minutes=minutes,
    )


# ----------------------------------------------------------------------------- profiles


def test_a_profile_keeps_skills_places_shifts_and_cap(crew):
    profile = services.profile_save(
        actor=crew.p.manager_a,
        estate=crew.p.estate_a,
        user=crew.plumber,
        skills={"plumbing": 3, "civil": 1, "hvac": 0},
        shifts=DAY_SHIFT[:5],
        buildings=[crew.building_9],
        max_open=3,
        team=crew.p.team_a,
    )
    assert profile.skills == {"plumbing": 3, "civil": 1}  # level 0 removes a skill
    assert profile.shifts.count() == 5 and profile.max_open == 3
    assert list(profile.buildings.all()) == [crew.building_9]
    event = AuditEvent.objects.filter(code=DispatchEvent.PROFILE_SAVED).order_by("pk").last()
    assert event.before["max_open"] == 5 and event.after["max_open"] == 3


@pytest.mark.parametrize("who", ["clerk_a", "technician_a", "clerk_b", "outsider", "owner_a101"])
def test_only_the_estates_managers_and_dispatchers_keep_profiles(crew, who):
    with pytest.raises((PermissionDenied, Http404)):
        services.profile_save(
            actor=getattr(crew.p, who),
            estate=crew.p.estate_a,
            user=crew.plumber,
            skills={"plumbing": 1},
        )
    assert TechnicianProfile.objects.get(user=crew.plumber).skills == {"plumbing": 3}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"skills": {"astrology": 2}}, "skills"),
        ({"skills": {"plumbing": 7}}, "skills"),
        ({"skills": ["plumbing"]}, "skills"),
        ({"skills": {"plumbing": "3"}}, "skills"),
        ({"max_open": 0}, "max_open"),
        ({"max_open": "5"}, "max_open"),
        ({"shifts": [(7, dt.time(8), dt.time(9))]}, "shifts"),
        ({"shifts": [(1, dt.time(8), dt.time(8))]}, "shifts"),
        ({"shifts": [(1, "08:00", "09:00")]}, "shifts"),
        ({"shifts": [(1, dt.time(8))]}, "shifts"),
    ],
)
def test_bad_profile_input_is_refused_and_nothing_changes(crew, changes, field):
    arguments = {"skills": {"plumbing": 2}, **changes}
    with pytest.raises(ValidationError) as refused:
        services.profile_save(
            actor=crew.p.dispatcher_a, estate=crew.p.estate_a, user=crew.plumber, **arguments
        )
    assert field in refused.value.message_dict
    profile = TechnicianProfile.objects.get(user=crew.plumber)
    assert profile.skills == {"plumbing": 3} and profile.shifts.count() == 7


def test_only_technicians_of_the_estate_get_a_profile(crew):
    with pytest.raises(ValidationError, match="not a technician"):
        services.profile_save(
            actor=crew.p.dispatcher_a,
            estate=crew.p.estate_a,
            user=crew.p.clerk_a,
            skills={"plumbing": 1},
        )
    with pytest.raises(ValidationError):
        services.profile_save(
            actor=crew.p.dispatcher_a,
            estate=crew.p.estate_a,
            user=crew.plumber,
            skills={"plumbing": 1},
            buildings=[crew.p.building_b1],
        )


def test_a_dispatch_mode_is_kept_per_estate_and_category(crew):
    set_mode(crew, Mode.AUTOMATIC)
    set_mode(crew, Mode.GRAB, category="plumbing", minutes=5)
    rules = selectors.rules_of(crew.p.estate_a.pk)
    assert selectors.mode_for(rules, "plumbing") == Mode.GRAB
    assert selectors.mode_for(rules, "electrical") == Mode.AUTOMATIC
    assert selectors.mode_for({}, "electrical") == Mode.MANUAL
    with pytest.raises(ValidationError):
        set_mode(crew, "telepathy")
    with pytest.raises(ValidationError):
        set_mode(crew, Mode.GRAB, minutes=0)
    with pytest.raises((PermissionDenied, Http404)):
        services.rule_save(actor=crew.p.clerk_b, estate=crew.p.estate_a, mode=Mode.AUTOMATIC)
    assert DispatchRule.objects.count() == 2


def test_the_modes_are_read_once_a_minute_and_a_change_here_is_seen_at_once(
    crew, django_assert_num_queries
):
    estate_id = crew.p.estate_a.pk
    assert selectors.rules_of(estate_id) == {}
    with django_assert_num_queries(0):
        selectors.rules_of(estate_id)
    rule = set_mode(crew, Mode.GRAB, category="plumbing")
    assert selectors.rules_of(estate_id) == {"plumbing": Mode.GRAB}
    services.rule_delete(actor=crew.p.dispatcher_a, rule=rule)
    assert selectors.rules_of(estate_id) == {}
    # Another process changed them: this one follows within the minute.
    DispatchRule.objects.create(estate_id=estate_id, category="", mode=Mode.AUTOMATIC)
    assert selectors.rules_of(estate_id) == {}
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=memo.SECONDS + 1)
    with time_machine.travel(later):
        assert selectors.rules_of(estate_id) == {"": Mode.AUTOMATIC}


# ----------------------------------------------------------------------------- manual


def test_a_repair_sent_by_hand_is_not_even_read_when_it_starts_waiting(
    crew, django_assert_num_queries
):
    request = crew.repair(unit=crew.unit_901)
    selectors.rules_of(request.estate_id)
    with django_assert_num_queries(0):
        assert services.route(request.pk, request.estate_id, request.category) == ""
    set_mode(crew, Mode.AUTOMATIC)
    assert services.route(request.pk, request.estate_id, request.category) == Mode.AUTOMATIC
    assert fresh(request).assignee == crew.plumber


def test_manual_mode_leaves_the_request_to_the_dispatcher_with_ranked_reasons(crew, sent):
    request = sent(lambda: crew.repair(unit=crew.unit_901))
    assert fresh(request).status == Status.SUBMITTED and fresh(request).assignee is None

    ranked = selectors.suggestions(fresh(request))
    assert [r.profile.user for r in ranked][:1] == [crew.plumber]
    why_not = {r.profile.user: r.suggestion.refusal for r in ranked}
    assert why_not == {
        crew.plumber: None,
        crew.electrician: "no_skill",
        crew.night_plumber: "off_duty",
    }
    best = ranked[0].suggestion
    assert best.level == 3 and best.on_duty and best.load == 0 and not best.late


# ----------------------------------------------------------------------------- automatic


def test_automatic_sends_the_skilled_technician_on_duty(crew, sent):
    set_mode(crew, Mode.AUTOMATIC)
    leak = sent(lambda: crew.repair())
    socket = sent(lambda: crew.repair("electrical", text="插座没电"))
    assert (fresh(leak).status, fresh(leak).assignee) == (Status.DISPATCHED, crew.plumber)
    assert fresh(socket).assignee == crew.electrician
    hop = Handling.objects.get(request=leak)
    assert hop.handler == crew.plumber and hop.accepted_at is None  # they still take it
    assert AuditEvent.objects.filter(code=DispatchEvent.AUTO_RUN).count() == 2
    assert Notification.objects.filter(recipient=crew.plumber).exists()


def test_nothing_goes_to_someone_off_duty_and_the_tick_sends_it_when_a_shift_starts(
    crew, sent, morning
):
    set_mode(crew, Mode.AUTOMATIC)
    morning.move_to(crew_time(22))  # only the night plumber is on
    gas = sent(lambda: crew.repair("electrical", text="楼道灯坏了"))
    assert fresh(gas).assignee is None  # the electrician is off duty
    leak = sent(lambda: crew.repair())
    assert fresh(leak).assignee == crew.night_plumber

    morning.move_to(crew_time(8, day=2))
    assert services.tick() >= 1
    assert fresh(gas).assignee == crew.electrician


def crew_time(hour, day=1):
    return dt.datetime(2026, 6, day, hour, 5, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def test_caps_are_respected_and_the_rest_wait(crew, sent):
    set_mode(crew, Mode.AUTOMATIC)
    TechnicianProfile.objects.filter(user=crew.plumber).update(max_open=2)
    leaks = [sent(lambda text=text: crew.repair(text=text)) for text in FAULTS]
    holders = [fresh(r).assignee for r in leaks]
    assert holders.count(crew.plumber) == 2
    assert holders.count(None) == 2  # the night plumber is off duty: they wait


def test_an_emergency_takes_the_last_free_hand_before_older_normal_work(crew, sent):
    TechnicianProfile.objects.filter(user=crew.plumber).update(max_open=1)
    normal = sent(lambda: crew.repair(text="水龙头滴水"))
    burst = sent(lambda: crew.repair(text="水管爆了在喷水", urgency="emergency"))
    set_mode(crew, Mode.AUTOMATIC)
    services.run_automatic(crew.p.estate_a.pk)
    assert fresh(burst).assignee == crew.plumber
    assert fresh(normal).assignee is None


def test_a_request_dispatched_by_hand_meanwhile_is_not_dispatched_again(crew, sent):
    request = sent(lambda: crew.repair())
    from jiayuan.servicedesk.services import request_dispatch

    request_dispatch(actor=crew.p.dispatcher_a, request=request, team=crew.p.team_a)
    set_mode(crew, Mode.AUTOMATIC)
    assert services.run_automatic(crew.p.estate_a.pk) == {}
    assert fresh(request).team == crew.p.team_a and fresh(request).assignee is None


# ----------------------------------------------------------------------------- round-robin


def test_round_robin_gives_the_next_order_to_whoever_waited_longest(crew, sent, morning):
    second = technician(crew.p, "plumber2", "赵师傅", {"plumbing": 1}, DAY_SHIFT)
    set_mode(crew, Mode.ROUND_ROBIN)
    holders = []
    for i in range(4):
        morning.shift(dt.timedelta(minutes=1))
        holders.append(fresh(sent(lambda i=i: crew.repair(text=FAULTS[i]))).assignee)
    assert holders[0] != holders[1]
    assert holders[:2] == holders[2:]
    assert set(holders) == {crew.plumber, second}


# ----------------------------------------------------------------------------- grab pool


def test_the_grab_pool_shows_an_order_to_able_technicians_only(crew, sent):
    set_mode(crew, Mode.GRAB, minutes=10)
    request = sent(lambda: crew.repair())
    grab = GrabOffer.objects.get(request=request)
    assert grab.status == GrabOffer.Status.OPEN
    assert [o.pk for o in services.pool_for(crew.plumber)] == [grab.pk]
    assert services.pool_for(crew.electrician) == []  # no skill
    assert services.pool_for(crew.night_plumber) == []  # off duty
    assert Notification.objects.filter(recipient=crew.plumber, kind="dispatch.pool").exists()
    assert not Notification.objects.filter(recipient=crew.night_plumber).exists()


def test_grabbing_takes_the_order_and_a_second_grab_is_told_it_is_gone(crew, sent):
    second = technician(crew.p, "plumber2", "赵师傅", {"plumbing": 1}, DAY_SHIFT)
    set_mode(crew, Mode.GRAB)
    request = sent(lambda: crew.repair())
    grab = GrabOffer.objects.get(request=request)

    taken = services.grab(actor=crew.plumber, offer_id=grab.pk)
    assert (taken.status, taken.assignee) == (Status.DISPATCHED, crew.plumber)
    assert Handling.objects.get(request=request).accepted_at is not None  # grabbed = taken
    with pytest.raises(RequestChanged, match="already grabbed"):
        services.grab(actor=second, offer_id=grab.pk)
    assert fresh(request).assignee == crew.plumber


@pytest.mark.parametrize("who", ["electrician", "night_plumber"])
def test_a_technician_who_cannot_take_it_cannot_grab_it(crew, sent, who):
    set_mode(crew, Mode.GRAB)
    request = sent(lambda: crew.repair())
    grab = GrabOffer.objects.get(request=request)
    with pytest.raises(PermissionDenied):
        services.grab(actor=getattr(crew, who), offer_id=grab.pk)
    assert fresh(request).assignee is None


def test_outsiders_cannot_grab(crew, sent):
    set_mode(crew, Mode.GRAB)
    request = sent(lambda: crew.repair())
    grab = GrabOffer.objects.get(request=request)
    for outsider in (crew.p.outsider, crew.p.clerk_b, crew.p.owner_a101, crew.p.stranger):
        with pytest.raises((PermissionDenied, Http404)):
            services.grab(actor=outsider, offer_id=grab.pk)
    assert GrabOffer.objects.get(pk=grab.pk).status == GrabOffer.Status.OPEN


def test_nobody_grabbing_in_time_falls_back_to_automatic(crew, sent, morning):
    set_mode(crew, Mode.GRAB, minutes=10)
    request = sent(lambda: crew.repair())
    grab = GrabOffer.objects.get(request=request)

    morning.shift(dt.timedelta(minutes=9))
    services.tick()
    assert fresh(request).assignee is None

    morning.shift(dt.timedelta(minutes=2))
    services.tick()
    assert GrabOffer.objects.get(pk=grab.pk).status == GrabOffer.Status.EXPIRED
    assert fresh(request).assignee == crew.plumber
    assert AuditEvent.objects.filter(code=DispatchEvent.OFFER_EXPIRED).count() == 1
    with pytest.raises(RequestChanged, match="closed"):
        services.grab(actor=crew.plumber, offer_id=grab.pk)


def test_an_order_given_back_goes_into_the_pool_again(crew, sent):
    from jiayuan.servicedesk.services import request_return

    set_mode(crew, Mode.GRAB)
    request = sent(lambda: crew.repair())
    services.grab(actor=crew.plumber, offer_id=GrabOffer.objects.get(request=request).pk)
    sent(lambda: request_return(actor=crew.plumber, request=fresh(request), reason="缺配件"))
    offers = GrabOffer.objects.filter(request=request).order_by("pk")
    assert [o.status for o in offers] == [GrabOffer.Status.GRABBED, GrabOffer.Status.OPEN]
