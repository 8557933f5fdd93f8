"""The dispatch pages and API: profiles and modes for the estate's keepers, the grab pool
for technicians, ranked suggestions in the desk's dispatch form; outsiders get nothing."""

import pytest
from django.test import Client

from jiayuan.core.api_testing import ApiClient
from jiayuan.dispatch.models import DispatchRule, GrabOffer, Mode, TechnicianProfile
from jiayuan.dispatch.services import route, rule_save
from jiayuan.servicedesk.models import ServiceRequest, Status


def browser(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


def waiting(crew) -> ServiceRequest:
    return crew.repair(unit=crew.unit_901)


def test_the_technician_list_shows_skills_shifts_duty_and_load(crew):
    page = browser(crew.p.dispatcher_a).get("/dispatch/technicians/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "钱师傅" in text and "On duty" in text and "Off duty" in text
    assert "0 / 5" in text
    assert "王师傅" in text  # a technician without a profile is offered one


@pytest.mark.parametrize("who", ["technician_a", "clerk_a", "owner_a101", "clerk_b"])
def test_profile_and_mode_pages_are_not_there_for_others(crew, who):
    client = browser(getattr(crew.p, who))
    for url in (
        "/dispatch/technicians/",
        f"/dispatch/technicians/{crew.plumber.pk}/",
        "/dispatch/modes/",
    ):
        assert client.get(url).status_code in (302, 404), url
    assert client.post("/dispatch/modes/", {"mode": "automatic"}).status_code in (302, 404)
    assert not DispatchRule.objects.exists()


def test_a_manager_of_another_company_sees_none_of_this_estates_technicians(crew):
    client = browser(crew.p.outsider)
    assert "钱师傅" not in client.get("/dispatch/technicians/").content.decode()
    assert client.get(f"/dispatch/technicians/{crew.plumber.pk}/").status_code == 404
    client.post(f"/dispatch/technicians/{crew.plumber.pk}/", {"skill_plumbing": "1"})
    assert TechnicianProfile.objects.get(user=crew.plumber).skills == {"plumbing": 3}


def test_editing_a_profile_from_the_page(crew):
    form = {f"skill_{code}": "0" for code in ("plumbing", "electrical")}
    form.update(
        skill_plumbing="2",
        skill_civil="1",
        from_0="08:00",
        until_0="17:00",
        from_5="20:00",
        until_5="08:00",
        max_open="3",
        buildings=[crew.building_9.pk],
        is_active="on",
    )
    response = browser(crew.p.dispatcher_a).post(f"/dispatch/technicians/{crew.plumber.pk}/", form)
    assert response.status_code == 302
    profile = TechnicianProfile.objects.get(user=crew.plumber)
    assert profile.skills == {"plumbing": 2, "civil": 1} and profile.max_open == 3
    assert [(s.weekday, str(s.starts), str(s.ends)) for s in profile.shifts.all()] == [
        (0, "08:00:00", "17:00:00"),
        (5, "20:00:00", "08:00:00"),
    ]


@pytest.mark.parametrize(
    "bad",
    [
        {"skill_plumbing": "9"},
        {"from_0": "08:00"},
        {"from_0": "8点", "until_0": "17:00"},
        {"max_open": "lots"},
        {"max_open": "0"},
        {"team": "999999"},
    ],
)
def test_bad_profile_input_shows_a_message_and_changes_nothing(crew, bad):
    form = {"skill_plumbing": "2", "max_open": "4", "is_active": "on", **bad}
    response = browser(crew.p.dispatcher_a).post(f"/dispatch/technicians/{crew.plumber.pk}/", form)
    assert response.status_code == 200
    assert 'class="flash flash-error"' in response.content.decode()
    profile = TechnicianProfile.objects.get(user=crew.plumber)
    assert profile.skills == {"plumbing": 3} and profile.max_open == 5


def test_setting_and_deleting_a_mode_from_the_page(crew):
    client = browser(crew.p.manager_a)
    response = client.post(
        "/dispatch/modes/", {"category": "elevator", "mode": "grab", "grab_minutes": "5"}
    )
    assert response.status_code == 302
    rule = DispatchRule.objects.get()
    assert (rule.category, rule.mode, rule.grab_minutes) == ("elevator", "grab", 5)
    bad = client.post("/dispatch/modes/", {"mode": "grab", "grab_minutes": "<script>"})
    assert bad.status_code == 200 and 'class="flash flash-error"' in bad.content.decode()
    assert DispatchRule.objects.count() == 1
    assert client.post(f"/dispatch/modes/{rule.pk}/delete/").status_code == 302
    assert not DispatchRule.objects.exists()


def test_the_desk_sees_ranked_suggestions_with_reasons_and_sends_one(crew):
    request = waiting(crew)
    client = browser(crew.p.dispatcher_a)
    detail = client.get(f"/service/requests/{request.pk}/").content.decode()
    assert f"/dispatch/suggest/{request.pk}/" in detail
    fragment = client.get(f"/dispatch/suggest/{request.pk}/").content.decode()
    assert fragment.index("钱师傅") < fragment.index("夜班李")
    assert "Skill level 3 of 3" in fragment and "No skill for this category" in fragment
    assert "Off duty" in fragment and "0 of 5 open orders" in fragment
    sent = client.post(
        f"/service/requests/{request.pk}/dispatch/",
        {"dispatch-assignee": crew.plumber.pk, "dispatch-version": request.version},
    )
    assert sent.status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).assignee == crew.plumber


@pytest.mark.parametrize("who", ["technician_a", "owner_a101", "outsider", "clerk_b", "plumber"])
def test_suggestions_are_only_for_those_who_may_dispatch(crew, who):
    request = waiting(crew)
    user = getattr(crew, who, None) or getattr(crew.p, who)
    assert browser(user).get(f"/dispatch/suggest/{request.pk}/").status_code in (302, 404)
    api = ApiClient(user).get(f"/dispatch/requests/{request.pk}/suggestions")
    assert api.status_code in (403, 404)


def test_the_api_ranks_technicians_with_reasons(crew):
    request = waiting(crew)
    rows = ApiClient(crew.p.clerk_a).get(f"/dispatch/requests/{request.pk}/suggestions").json()
    assert [r["name"] for r in rows] == ["钱师傅", "夜班李", "孙电工"]
    assert [r["refusal"] for r in rows] == [None, "off_duty", "no_skill"]
    assert rows[0]["able"] and rows[0]["skill_level"] == 3 and rows[0]["load"] == 0


def test_the_pool_page_and_api_grab(crew):
    rule_save(actor=crew.p.dispatcher_a, estate=crew.p.estate_a, mode=Mode.GRAB)
    request = waiting(crew)
    route(request.pk, request.estate_id, request.category)
    offer = GrabOffer.objects.get(request=request)

    page = browser(crew.plumber).get("/dispatch/pool/").content.decode()
    assert request.number in page
    assert request.number not in browser(crew.electrician).get("/dispatch/pool/").content.decode()
    listed = ApiClient(crew.plumber).get("/dispatch/pool").json()
    assert [o["id"] for o in listed] == [offer.pk]

    taken = ApiClient(crew.plumber).post(f"/dispatch/pool/{offer.pk}/grab")
    assert taken.status_code == 200 and taken.json()["status"] == Status.DISPATCHED
    again = ApiClient(crew.night_plumber).post(f"/dispatch/pool/{offer.pk}/grab")
    assert again.status_code == 409 and "already grabbed" in again.json()["detail"]
    by_page = browser(crew.electrician).post(f"/dispatch/pool/{offer.pk}/grab/")
    assert by_page.status_code == 302
    assert ServiceRequest.objects.get(pk=request.pk).assignee == crew.plumber


def test_outsiders_cannot_grab_through_the_api(crew):
    rule_save(actor=crew.p.dispatcher_a, estate=crew.p.estate_a, mode=Mode.GRAB)
    request = waiting(crew)
    route(request.pk, request.estate_id, request.category)
    offer = GrabOffer.objects.get(request=request)
    for user in (crew.p.outsider, crew.p.owner_a101, crew.p.clerk_b):
        assert ApiClient(user).post(f"/dispatch/pool/{offer.pk}/grab").status_code in (403, 404)
    assert ApiClient().post(f"/dispatch/pool/{offer.pk}/grab").status_code == 401
    assert ApiClient(crew.p.outsider).get("/dispatch/pool").json() == []
    assert GrabOffer.objects.get(pk=offer.pk).status == GrabOffer.Status.OPEN
