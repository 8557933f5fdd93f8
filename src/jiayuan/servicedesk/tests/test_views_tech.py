"""The technician's pages: my work (mine and my team's untaken orders), one order with the
owner's contact, and the steps take → arrive → hold/resume/return → complete."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiayuan.core.roles import Role
from jiayuan.core.testing import make_staff
from jiayuan.org.models import TeamMember
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Handling, MaterialLine, Photo, ServiceRequest, Status
from jiayuan.servicedesk.tests.test_views_owner import (
    ESCAPED,
    HOSTILE,
    STALE,
    _media_in_memory,  # noqa: F401 - autouse fixture
    dispatched,
    english,
    fresh,
    not_an_image,
    png,
    repair,
    someone_else_changes,
)

pytestmark = pytest.mark.django_db
LIST = reverse("servicedesk:tech_list")


def detail_url(req) -> str:
    return reverse("servicedesk:tech_detail", args=[req.pk])


def act_url(req, action) -> str:
    return reverse("servicedesk:tech_act", args=[req.pk, action])


def complete_url(req) -> str:
    return reverse("servicedesk:tech_complete", args=[req.pk])


def to_team(p, **extra) -> ServiceRequest:
    """A repair sent to team_a, nobody's yet."""
    req = repair(p, **extra)
    return services.request_dispatch(actor=p.dispatcher_a, request=req, team=p.team_a)


def arrived(p) -> ServiceRequest:
    return services.request_arrive(actor=p.technician_a, request=dispatched(p))


def materials(*rows, total=None) -> dict:
    total = len(rows) if total is None else total
    data = {
        "materials-TOTAL_FORMS": str(total),
        "materials-INITIAL_FORMS": "0",
        "materials-MIN_NUM_FORMS": "0",
        "materials-MAX_NUM_FORMS": "50",
    }
    for index, (item, price, quantity) in enumerate(rows):
        data |= {
            f"materials-{index}-item": item,
            f"materials-{index}-unit_price": price,
            f"materials-{index}-quantity": quantity,
        }
    return data


def completion(req, **fields) -> dict:
    return {
        "complete-version": fresh(req).version,
        "complete-work_notes": "更换阀芯，试水正常",
        "complete-labour_fee": "",
        **materials(("", "", ""), ("", "", "")),
    } | fields


@pytest.fixture
def other_technician(personas):
    """A technician of estate A outside team_a: none of this is theirs."""
    return make_staff("tech_b", "赵师傅", personas.estate_a, Role.TECHNICIAN)


# ----------------------------------------------------------------------------- access


class TestAccess:
    def test_anonymous_is_sent_to_sign_in_everywhere(self, personas, client):
        req = dispatched(personas)
        for url in [LIST, detail_url(req), reverse("servicedesk:tech_timeline", args=[req.pk])]:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("accounts:login"))
        for url in [act_url(req, "take"), complete_url(req)]:
            response = client.post(url, {"take-version": req.version})
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("accounts:login"))
        assert fresh(req).version == req.version

    def test_a_technician_not_on_the_order_gets_404(self, personas, other_technician):
        req = dispatched(personas)
        client = personas.client_for(other_technician)
        assert client.get(detail_url(req)).status_code == 404
        assert client.get(reverse("servicedesk:tech_timeline", args=[req.pk])).status_code == 404
        response = client.post(act_url(req, "take"), {"take-version": fresh(req).version})
        assert response.status_code == 404
        response = client.post(complete_url(req), completion(req))
        assert response.status_code == 404
        assert fresh(req).status == Status.DISPATCHED
        assert client.get(LIST).context["mine"] == []

    @pytest.mark.parametrize("persona", ["outsider", "owner_a101", "owner_a102", "stranger"])
    def test_outsiders_and_owners_get_404(self, personas, persona):
        req = dispatched(personas)
        client = personas.client_for(getattr(personas, persona))
        assert client.get(detail_url(req)).status_code == 404
        listed = client.get(LIST)
        if persona == "outsider":  # staff elsewhere: an empty list of their own
            assert (listed.context["mine"], listed.context["pool"]) == ([], [])
        else:
            assert listed.status_code == 404
        response = client.post(act_url(req, "arrive"), {"arrive-version": fresh(req).version})
        assert response.status_code == 404
        assert fresh(req).status == Status.DISPATCHED

    def test_a_technician_cannot_complete_someone_elses_order_they_can_see(
        self, personas, other_technician
    ):
        """A team member sees the team's orders; only the one holding it may act on it."""
        p = personas
        TeamMember.objects.create(team=p.team_a, user=other_technician)
        req = services.request_dispatch(
            actor=p.dispatcher_a, request=repair(p), assignee=p.technician_a, team=p.team_a
        )
        req = services.request_arrive(actor=p.technician_a, request=req)
        client = p.client_for(other_technician)
        assert client.get(detail_url(req)).status_code == 200
        response = client.post(complete_url(req), completion(req))
        assert response.status_code == 302
        assert fresh(req).status == Status.IN_PROGRESS
        response = client.post(act_url(req, "hold"), {"hold-version": fresh(req).version})
        assert response.status_code == 302  # not offered: told so, nothing done
        assert fresh(req).status == Status.IN_PROGRESS

    def test_unknown_steps_are_404_and_steps_are_posted(self, personas):
        req = dispatched(personas)
        client = personas.client_for(personas.technician_a)
        assert client.post(act_url(req, "dispatch"), {}).status_code == 404
        assert client.get(act_url(req, "take")).status_code == 405
        assert client.get(complete_url(req)).status_code == 405


# ----------------------------------------------------------------------------- list


class TestList:
    def test_my_orders_by_urgency_and_my_teams_untaken_ones_with_a_take_button(
        self, personas, other_technician
    ):
        p = personas
        normal = dispatched(p, description="普通")
        emergency = dispatched(p, description="紧急", urgency="emergency")
        pool = to_team(p, description="班组的", common_area=p.lobby_a, unit=None)
        elsewhere = repair(p, description="别人的")
        services.request_dispatch(
            actor=p.dispatcher_a, request=elsewhere, assignee=other_technician
        )
        response = english(p.client_for(p.technician_a)).get(LIST)
        assert [r.pk for r in response.context["mine"]] == [emergency.pk, normal.pk]
        assert [r.pk for r in response.context["pool"]] == [pool.pk]
        page = response.content.decode()
        assert elsewhere.number not in page
        assert page.count("Take the order") == 1
        assert act_url(pool, "take") in page and "1号楼大堂" in page
        assert "sd-urgency-emergency" in page and "Emergency" in page

    def test_take_from_the_list(self, personas):
        p = personas
        req = to_team(p)
        client = english(p.client_for(p.technician_a))
        response = client.post(act_url(req, "take"), {"take-version": req.version})
        assert response.status_code == 302 and response.url == detail_url(req)
        assert fresh(req).assignee == p.technician_a
        assert client.get(LIST).context["pool"] == []

    def test_query_count_does_not_grow_with_orders(self, personas, django_assert_max_num_queries):
        p = personas
        client = p.client_for(p.technician_a)
        dispatched(p)
        to_team(p)
        with CaptureQueriesContext(connection) as few:
            client.get(LIST)
        for n in range(6):
            dispatched(p, description=f"第{n}个", common_area=p.lobby_a, unit=None)
            to_team(p, description=f"班组{n}", urgency="urgent")
        with django_assert_max_num_queries(len(few)):
            response = client.get(LIST)
        assert len(response.context["mine"]) == 7 and len(response.context["pool"]) == 7


# ----------------------------------------------------------------------------- one order


class TestDetail:
    def test_the_assigned_technician_can_call_the_owner(self, personas):
        p = personas
        req = dispatched(p)
        page = english(p.client_for(p.technician_a)).get(detail_url(req)).content.decode()
        assert 'href="tel:13800138001"' in page and "张伟" in page
        assert "厨房水龙头漏水" in page

    def test_a_team_order_not_yet_taken_shows_the_phone_masked(self, personas):
        p = personas
        req = to_team(p)
        page = p.client_for(p.technician_a).get(detail_url(req)).content.decode()
        assert "138****8001" in page and "13800138001" not in page and "tel:" not in page

    def test_shows_photos_and_the_timeline_with_who_did_what(self, personas):
        p = personas
        req = dispatched(p, photos=[png()])
        client = english(p.client_for(p.technician_a))
        page = client.get(detail_url(req)).content.decode()
        photo = req.photos.get()
        assert reverse("servicedesk:photo_thumb", args=[photo.pk]) in page
        assert client.get(reverse("servicedesk:photo", args=[photo.pk])).status_code == 200
        assert "Reported on the owner portal" in page
        assert "Dispatched to 王师傅" in page and "周调度" in page  # the dispatcher did it
        assert 'hx-trigger="every 30s"' in page

    def test_only_allowed_steps_are_offered(self, personas):
        p = personas
        client = p.client_for(p.technician_a)
        req = dispatched(p)
        actions = [panel.action for panel in client.get(detail_url(req)).context["panels"]]
        assert actions == ["take", "arrive", "hold", "return"]
        req = arrived(p)
        response = client.get(detail_url(req))
        assert [panel.action for panel in response.context["panels"]] == ["hold", "return"]
        assert response.context["complete_form"] is not None
        assert complete_url(req) in response.content.decode()


class TestFlow:
    def test_take_arrive_complete_with_materials_and_the_owner_sees_the_total(self, personas):
        p = personas
        req = dispatched(p)
        client = english(p.client_for(p.technician_a))
        response = client.post(act_url(req, "take"), {"take-version": fresh(req).version})
        assert response.url == detail_url(req)
        hop = Handling.objects.get(request=req, ended_at__isnull=True)
        assert hop.accepted_at is not None
        response = client.post(
            act_url(req, "arrive"), {"arrive-version": fresh(req).version}, follow=True
        )
        assert fresh(req).status == Status.IN_PROGRESS
        assert "Arrival recorded" in response.content.decode()
        response = client.post(
            complete_url(req),
            completion(
                req,
                **{
                    "complete-is_paid": "on",
                    "complete-labour_fee": "30",
                    "complete-photos_before": [png("before.png")],
                    "complete-photos_after": [png("after.png", (20, 200, 20))],
                },
                **materials(("阀芯", "25.50", "2"), ("生料带", "3", "1"), ("", "", "")),
            ),
            follow=True,
        )
        req = fresh(req)
        assert req.status == Status.COMPLETED and req.is_paid
        assert [(m.item, m.total) for m in req.materials.all()] == [
            ("阀芯", 51),
            ("生料带", 3),
        ]
        assert str(req.charge_total) == "84.00"
        stages = sorted(req.photos.values_list("stage", flat=True))
        assert stages == [Photo.Stage.AFTER, Photo.Stage.BEFORE]
        page = response.content.decode()
        assert "Completed. The owner has been asked to confirm." in page and "84.00" in page

        owner = english(p.client_for(p.owner_a101))
        page = owner.get(reverse("servicedesk:owner_detail", args=[req.pk])).content.decode()
        assert "阀芯" in page and "51.00" in page and "84.00" in page
        assert "Work completed (charge ¥84.00), please confirm" in page
        assert "Before work" in page and "After work" in page

    def test_an_unpaid_repair_ignores_the_material_rows(self, personas):
        p = personas
        req = arrived(p)
        client = p.client_for(p.technician_a)
        data = completion(req, **materials(("阀芯", "abc", "")))
        assert client.post(complete_url(req), data).status_code == 302
        req = fresh(req)
        assert req.status == Status.COMPLETED and not req.is_paid
        assert not MaterialLine.objects.exists() and str(req.charge_total) == "0.00"

    def test_hold_and_resume(self, personas):
        p = personas
        req = arrived(p)
        client = english(p.client_for(p.technician_a))
        response = client.post(act_url(req, "hold"), {"hold-version": fresh(req).version})
        assert response.status_code == 200
        assert "reason" in response.context["panels"][0].form.errors
        assert 'id="panel-hold" open' in response.content.decode()
        assert fresh(req).status == Status.IN_PROGRESS
        client.post(
            act_url(req, "hold"), {"hold-version": fresh(req).version, "hold-reason": "等配件"}
        )
        assert (fresh(req).status, fresh(req).hold_reason) == (Status.ON_HOLD, "等配件")
        client.post(act_url(req, "resume"), {"resume-version": fresh(req).version})
        assert fresh(req).status == Status.IN_PROGRESS

    def test_return_to_the_pool_goes_back_to_the_list(self, personas):
        p = personas
        req = dispatched(p)
        client = english(p.client_for(p.technician_a))
        response = client.post(
            act_url(req, "return"),
            {"return-version": fresh(req).version, "return-reason": "不是我的专业"},
        )
        assert response.status_code == 302 and response.url == LIST
        req = fresh(req)
        assert (req.status, req.assignee) == (Status.ACCEPTED, None)

    def test_return_to_the_previous_holder_when_there_was_none(self, personas):
        p = personas
        req = dispatched(p)
        client = english(p.client_for(p.technician_a))
        data = {
            "return-version": fresh(req).version,
            "return-reason": "转给上一位",
            "return-to_previous": "on",
        }
        response = client.post(act_url(req, "return"), data)
        assert response.status_code == 200
        assert "Nobody held this order before you." in response.content.decode()
        assert fresh(req).status == Status.DISPATCHED

    def test_more_material_rows_keeps_what_was_typed(self, personas):
        p = personas
        req = arrived(p)
        client = p.client_for(p.technician_a)
        data = completion(
            req,
            **{"complete-is_paid": "on", "complete-labour_fee": "30", "more_lines": "1"},
            **materials(("阀芯", "25.50", "2"), ("", "", "")),
        )
        response = client.post(complete_url(req), data)
        assert response.status_code == 200
        assert fresh(req).status == Status.IN_PROGRESS
        lines = response.context["materials"]
        assert len(lines.forms) == 6 and not lines.is_bound
        page = response.content.decode()
        assert 'value="阀芯"' in page and "更换阀芯，试水正常" in page
        assert 'name="materials-5-item"' in page and "errorlist" not in page


class TestBadInput:
    @pytest.mark.parametrize(
        ("fields", "message"),
        [
            ({"complete-work_notes": ""}, "This field is required."),
            ({"complete-work_notes": "x" * 2001}, "at most 2000 characters"),
            ({"complete-is_paid": "on", "complete-labour_fee": "-5"}, "greater than or equal"),
            ({"complete-is_paid": "on", "complete-labour_fee": "NaN"}, "Enter a number"),
            (
                {"complete-is_paid": "on", **materials(("阀芯", "", "2"))},
                "Give the item, its unit price and the quantity.",
            ),
            (
                {"complete-is_paid": "on", **materials(("阀芯", "1", "0"))},
                "greater than or equal to 0.01",
            ),
            (
                {"complete-is_paid": "on", **materials(("阀" * 101, "1", "1"))},
                "at most 100 characters",
            ),
            (
                {"complete-is_paid": "on", **materials(("阀芯", "1", "1"), total=51)},
                "Please submit at most 50 forms",
            ),
            (
                {"complete-is_paid": "on", "materials-TOTAL_FORMS": "x"},
                "ManagementForm data is missing or has been tampered with",
            ),
            ({"complete-photos_before": [not_an_image()]}, "virus.png is not an image"),
        ],
    )
    def test_completion_bad_input_is_shown_and_nothing_is_written(self, personas, fields, message):
        p = personas
        req = arrived(p)
        client = english(p.client_for(p.technician_a))
        response = client.post(complete_url(req), completion(req, **fields))
        assert response.status_code == 200
        assert message in response.content.decode()
        assert 'id="panel-complete" open' in response.content.decode()
        req = fresh(req)
        assert req.status == Status.IN_PROGRESS and not req.work_notes
        assert not MaterialLine.objects.exists() and not Photo.objects.exists()

    def test_hostile_text_is_shown_escaped(self, personas):
        p = personas
        req = arrived(p)
        client = p.client_for(p.technician_a)
        response = client.post(
            complete_url(req),
            completion(
                req,
                **{"complete-work_notes": HOSTILE, "complete-is_paid": "on"},
                **materials((HOSTILE[:100], "1", "1")),
            ),
            follow=True,
        )
        page = response.content.decode()
        assert ESCAPED in page and HOSTILE not in page
        owner = p.client_for(p.owner_a101)
        page = owner.get(reverse("servicedesk:owner_detail", args=[req.pk])).content.decode()
        assert ESCAPED in page and HOSTILE not in page

    def test_an_oversized_hold_reason_is_refused(self, personas):
        p = personas
        req = arrived(p)
        client = english(p.client_for(p.technician_a))
        data = {"hold-version": fresh(req).version, "hold-reason": "等" * 501}
        response = client.post(act_url(req, "hold"), data)
        assert "at most 500 characters" in response.content.decode()
        assert fresh(req).status == Status.IN_PROGRESS


class TestStaleVersion:
    @pytest.mark.parametrize(
        ("prepare", "action", "fields"),
        [
            ("dispatched", "take", {}),
            ("dispatched", "arrive", {}),
            ("arrived", "hold", {"hold-reason": "等配件"}),
            ("held", "resume", {}),
            ("dispatched", "return", {"return-reason": "不会修"}),
        ],
    )
    def test_each_step_on_an_old_page_is_refused_with_the_reason(
        self, personas, prepare, action, fields
    ):
        p = personas
        req = arrived(p) if prepare != "dispatched" else dispatched(p)
        if prepare == "held":
            req = services.request_hold(actor=p.technician_a, request=req, reason="等配件")
        shown = fresh(req)
        someone_else_changes(req)
        client = english(p.client_for(p.technician_a))
        response = client.post(act_url(req, action), {f"{action}-version": shown.version, **fields})
        assert response.status_code == 302 and response.url == detail_url(req)
        assert STALE in client.get(response.url).content.decode()
        after = fresh(req)
        assert (after.status, after.assignee, after.version) == (
            shown.status,
            shown.assignee,
            shown.version + 1,
        )

    def test_completing_on_an_old_page_is_refused(self, personas):
        p = personas
        req = arrived(p)
        data = completion(req, **{"complete-is_paid": "on"}, **materials(("阀芯", "1", "1")))
        someone_else_changes(req)
        client = english(p.client_for(p.technician_a))
        response = client.post(complete_url(req), data, follow=True)
        assert STALE in response.content.decode()
        assert fresh(req).status == Status.IN_PROGRESS and not MaterialLine.objects.exists()

    def test_an_order_taken_by_a_teammate_meanwhile(self, personas, other_technician):
        p = personas
        TeamMember.objects.create(team=p.team_a, user=other_technician)
        req = to_team(p)
        shown = fresh(req)
        services.request_take(actor=other_technician, request=req)
        client = english(p.client_for(p.technician_a))
        response = client.post(act_url(req, "take"), {"take-version": shown.version}, follow=True)
        assert STALE in response.content.decode()
        assert fresh(req).assignee == other_technician
