"""The owner portal: my requests, report an issue (with photos), one request with its
timeline and the owner's steps (confirm, not resolved, cancel, rate, add photos)."""

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import F
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from jiayuan.core.access import forget_grants
from jiayuan.core.roles import Role
from jiayuan.org.models import Membership, Residency
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Kind, Photo, Rating, ServiceRequest, Status

pytestmark = pytest.mark.django_db

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
STALE = "Someone else changed this request a moment ago"
LIST = reverse("servicedesk:owner_list")
CREATE = reverse("servicedesk:owner_create")


@pytest.fixture(autouse=True)
def _media_in_memory(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.InMemoryStorage"},
    }


def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def png(name="leak.png", colour=(200, 30, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), colour).save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def not_an_image(name="virus.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"MZ this is not a picture", content_type="image/png")


def detail_url(req) -> str:
    return reverse("servicedesk:owner_detail", args=[req.pk])


def act_url(req, action) -> str:
    return reverse("servicedesk:owner_act", args=[req.pk, action])


def fresh(req) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=req.pk)


def repair(p, **extra) -> ServiceRequest:
    fields = {"category": "plumbing", "description": "厨房水龙头漏水", "unit": p.unit_a101}
    return services.request_create(
        actor=p.owner_a101, estate=p.estate_a, kind=Kind.REPAIR, **(fields | extra)
    )


def dispatched(p, **extra) -> ServiceRequest:
    req = repair(p, **extra)
    services.request_accept(actor=p.clerk_a, request=req)
    return services.request_dispatch(actor=p.dispatcher_a, request=req, assignee=p.technician_a)


def completed_paid(p) -> ServiceRequest:
    req = services.request_arrive(actor=p.technician_a, request=dispatched(p))
    return services.request_complete(
        actor=p.technician_a,
        request=req,
        work_notes="更换阀芯",
        is_paid=True,
        labour_fee="30",
        materials=[
            {"item": "阀芯", "unit_price": "25.50", "quantity": "2"},
            {"item": "生料带", "unit_price": "3", "quantity": "1"},
        ],
    )


def someone_else_changes(req) -> None:
    """What another person's step does to the version, and nothing else."""
    ServiceRequest.objects.filter(pk=req.pk).update(version=F("version") + 1)


def report(p, **fields) -> dict:
    return {
        "kind": "repair",
        "category": "plumbing",
        "place": f"unit-{p.unit_a101.pk}",
        "location_note": "厨房",
        "description": "水槽下面漏水",
        "urgency": "normal",
        "appointment_day": "",
        "appointment_start": "",
        "appointment_end": "",
        "praised_staff": "",
    } | fields


# ----------------------------------------------------------------------------- access


class TestAccess:
    def test_anonymous_is_sent_to_sign_in_everywhere(self, personas, client):
        req = repair(personas)
        for url in [
            LIST,
            CREATE,
            detail_url(req),
            reverse("servicedesk:owner_timeline", args=[req.pk]),
            reverse("servicedesk:photo", args=[1]),
        ]:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.url.startswith(reverse("accounts:login"))
        response = client.post(act_url(req, "confirm"), {"confirm-version": req.version})
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))

    def test_a_poll_after_the_session_ended_stops_polling(self, personas, client):
        req = repair(personas)
        response = client.get(
            reverse("servicedesk:owner_timeline", args=[req.pk]), headers={"HX-Request": "true"}
        )
        assert response.status_code == 286

    @pytest.mark.parametrize("persona", ["owner_a102", "outsider", "stranger"])
    def test_others_get_404_on_the_owners_request(self, personas, persona):
        req = repair(personas)
        client = personas.client_for(getattr(personas, persona))
        assert client.get(detail_url(req)).status_code == 404
        timeline = reverse("servicedesk:owner_timeline", args=[req.pk])
        assert client.get(timeline).status_code == 404
        response = client.post(act_url(req, "cancel"), {"cancel-version": req.version})
        assert response.status_code == 404
        assert fresh(req).status == Status.SUBMITTED

    @pytest.mark.parametrize("persona", ["clerk_a", "manager_a", "technician_a"])
    def test_staff_cannot_use_the_owner_pages_for_others_requests(self, personas, persona):
        req = dispatched(personas)
        client = personas.client_for(getattr(personas, persona))
        assert client.get(detail_url(req)).status_code == 404
        assert client.get(LIST).status_code == 404
        assert client.get(CREATE).status_code == 404
        response = client.post(act_url(req, "cancel"), {"cancel-version": req.version})
        assert response.status_code == 404
        assert fresh(req).status == Status.DISPATCHED

    def test_an_unknown_step_is_404(self, personas):
        req = repair(personas)
        client = personas.client_for(personas.owner_a101)
        response = client.post(act_url(req, "dispatch"), {"dispatch-version": req.version})
        assert response.status_code == 404

    def test_steps_are_posted_not_fetched(self, personas):
        req = repair(personas)
        client = personas.client_for(personas.owner_a101)
        assert client.get(act_url(req, "cancel")).status_code == 405


class TestMenu:
    def test_owners_see_their_requests_and_the_report_link(self, personas):
        page = personas.client_for(personas.owner_a101).get(LIST).content.decode()
        assert f'href="{LIST}"' in page and f'href="{CREATE}"' in page

    def test_field_staff_see_my_work_and_desk_staff_do_not(self, personas):
        work = reverse("servicedesk:tech_list")
        home = reverse("core:home")
        page = personas.client_for(personas.technician_a).get(home).content.decode()
        assert f'href="{work}"' in page
        page = personas.client_for(personas.clerk_a).get(home).content.decode()
        assert f'href="{work}"' not in page


# ----------------------------------------------------------------------------- list


class TestList:
    def test_my_requests_newest_first_with_status_in_words_and_colour(self, personas, time_machine):
        p = personas
        time_machine.move_to(dt.datetime(2026, 5, 1, 9, tzinfo=dt.UTC))
        older = repair(p)
        time_machine.move_to(dt.datetime(2026, 5, 2, 9, tzinfo=dt.UTC))
        newer = repair(p, category="electrical", common_area=p.lobby_a, unit=None)
        services.request_accept(actor=p.clerk_a, request=newer)
        services.request_create(
            actor=p.owner_a102, estate=p.estate_a, kind=Kind.REPAIR, category="plumbing",
            description="别人的", unit=p.unit_a102,
        )  # fmt: skip
        response = english(p.client_for(p.owner_a101)).get(LIST)
        assert [r.pk for r in response.context["page"].object_list] == [newer.pk, older.pk]
        page = response.content.decode()
        assert page.index(newer.number) < page.index(older.number)
        assert 'class="badge sd-status-accepted">Accepted<' in page
        assert 'class="badge sd-status-submitted">Submitted<' in page
        assert "1号楼大堂" in page and "1号楼 101" in page and "Electrical" in page
        assert "2026-05-02" in page
        assert "别人的" not in page

    def test_empty_state_has_a_big_report_button(self, personas):
        page = english(personas.client_for(personas.owner_a101)).get(LIST).content.decode()
        assert "You have not reported anything yet" in page
        assert f'class="btn btn-primary sd-cta" href="{CREATE}"' in page

    def test_paginated(self, personas):
        for n in range(23):
            repair(personas, description=f"第{n}个")
        client = personas.client_for(personas.owner_a101)
        assert len(client.get(LIST).context["page"].object_list) == 20
        assert len(client.get(LIST, {"page": 2}).context["page"].object_list) == 3
        assert client.get(LIST, {"page": "abc"}).status_code == 200

    def test_query_count_does_not_grow_with_requests(self, personas, django_assert_max_num_queries):
        client = personas.client_for(personas.owner_a101)
        repair(personas)
        with CaptureQueriesContext(connection) as few:
            client.get(LIST)
        for n in range(12):
            req = repair(personas, description=f"第{n}个", common_area=personas.lobby_a, unit=None)
            if n % 2:
                services.request_accept(actor=personas.clerk_a, request=req)
        with django_assert_max_num_queries(len(few)):
            response = client.get(LIST)
        assert len(response.context["page"].object_list) == 13


# ----------------------------------------------------------------------------- reporting


class TestCreate:
    def test_offers_my_units_and_my_estates_common_areas_only(self, personas):
        response = personas.client_for(personas.owner_a101).get(CREATE)
        place = response.context["form"].fields["place"]
        values = [value for _group, choices in place.choices for value, _label in choices]
        assert values == [f"unit-{personas.unit_a101.pk}", f"area-{personas.lobby_a.pk}"]
        assert place.initial == f"unit-{personas.unit_a101.pk}"
        page = response.content.decode()
        assert 'accept="image/*"' in page and "multiple" in page
        assert 'enctype="multipart/form-data"' in page

    def test_submits_with_a_photo_and_sees_it(self, personas):
        p = personas
        client = english(p.client_for(p.owner_a101))
        response = client.post(CREATE, report(p, photos=[png()]))
        req = ServiceRequest.objects.get()
        assert response.status_code == 302 and response.url == detail_url(req)
        assert (req.estate, req.unit, req.reporter_user) == (p.estate_a, p.unit_a101, p.owner_a101)
        assert (req.channel, req.location_note, req.category) == ("portal", "厨房", "plumbing")
        photo = req.photos.get()
        page = client.get(response.url).content.decode()
        assert req.number in page and "水槽下面漏水" in page
        thumb = reverse("servicedesk:photo_thumb", args=[photo.pk])
        full = reverse("servicedesk:photo", args=[photo.pk])
        assert f'<a href="{full}"' in page and f'src="{thumb}"' in page
        image = client.get(thumb)
        assert image.status_code == 200 and image["Content-Type"] == "image/jpeg"
        assert Image.open(io.BytesIO(b"".join(image.streaming_content))).format == "JPEG"
        assert p.client_for(p.owner_a102).get(full).status_code == 404
        assert p.client_for(p.outsider).get(thumb).status_code == 404
        assert "You reported it" in page

    def test_reports_about_a_common_area_with_an_appointment(self, personas):
        p = personas
        day = timezone.localdate() + dt.timedelta(days=2)
        fields = report(
            p,
            place=f"area-{p.lobby_a.pk}",
            appointment_day=day.isoformat(),
            appointment_start="09:00",
            appointment_end="11:30",
            urgency="urgent",
        )
        response = p.client_for(p.owner_a101).post(CREATE, fields)
        assert response.status_code == 302
        req = ServiceRequest.objects.get()
        assert (req.common_area, req.unit, req.urgency) == (p.lobby_a, None, "urgent")
        start = timezone.localtime(req.appointment_start)
        assert (start.date(), start.hour) == (day, 9)
        assert timezone.localtime(req.appointment_end).minute == 30

    def test_the_estate_is_the_chosen_units(self, personas):
        p = personas
        Residency.objects.create(resident=p.resident_a101, unit=p.unit_b101, relation="owner")
        client = p.client_for(p.owner_a101)
        response = client.post(CREATE, report(p, place=f"unit-{p.unit_b101.pk}"))
        assert response.status_code == 302
        req = ServiceRequest.objects.get()
        assert (req.estate, req.company, req.unit) == (p.estate_b, p.company, p.unit_b101)

    def test_praise_names_a_staff_member_of_my_estate(self, personas):
        p = personas
        response = p.client_for(p.owner_a101).get(CREATE)
        staff = [
            value for value, _label in response.context["form"].fields["praised_staff"].choices
        ]
        assert p.technician_a.pk in staff and p.clerk_b.pk not in staff
        assert p.outsider.pk not in staff
        fields = report(
            p, kind="praise", category="other", praised_staff=p.technician_a.pk,
            description="王师傅修得又快又好",
        )  # fmt: skip
        assert p.client_for(p.owner_a101).post(CREATE, fields).status_code == 302
        assert ServiceRequest.objects.get().praised_staff == p.technician_a

    @pytest.mark.parametrize(
        ("fields", "field", "message"),
        [
            ({"description": ""}, "description", "This field is required."),
            ({"description": "   "}, "description", "This field is required."),
            ({"description": "漏" * 2001}, "description", "at most 2000 characters"),
            ({"location_note": "x" * 201}, "location_note", "at most 200 characters"),
            ({"category": "teleportation"}, "category", "Select a valid choice"),
            ({"kind": "wish"}, "kind", "Select a valid choice"),
            ({"urgency": "yesterday"}, "urgency", "Select a valid choice"),
            ({"place": "unit-999999"}, "place", "Select a valid choice"),
            ({"place": "unit-x"}, "place", "Select a valid choice"),
            ({"praised_staff": "999999"}, "praised_staff", "Select a valid choice"),
            ({"appointment_day": "2030-01-01"}, "appointment_day", "Give the day and both"),
            ({"appointment_start": "25:99"}, "appointment_start", "Enter a valid time"),
            (
                {
                    "appointment_day": "2020-01-01",
                    "appointment_start": "09:00",
                    "appointment_end": "10:00",
                },
                "appointment_start",
                "The appointment is in the past.",
            ),
            (
                {
                    "appointment_day": "2030-01-01",
                    "appointment_start": "10:00",
                    "appointment_end": "09:00",
                },
                "appointment_end",
                "The appointment must end after it starts.",
            ),
        ],
    )
    def test_bad_input_is_shown_on_the_form_and_nothing_is_written(
        self, personas, fields, field, message
    ):
        client = english(personas.client_for(personas.owner_a101))
        response = client.post(CREATE, report(personas, **fields))
        assert response.status_code == 200
        errors = response.context["form"].errors
        assert any(message in error for error in errors[field]), errors
        assert not ServiceRequest.objects.exists()

    def test_another_owners_unit_is_not_a_choice(self, personas):
        p = personas
        response = p.client_for(p.owner_a101).post(
            CREATE, report(p, place=f"unit-{p.unit_a102.pk}")
        )
        assert "place" in response.context["form"].errors
        assert not ServiceRequest.objects.exists()

    def test_a_file_that_is_not_an_image_is_refused_by_name(self, personas):
        client = english(personas.client_for(personas.owner_a101))
        response = client.post(CREATE, report(personas, photos=[png(), not_an_image()]))
        assert response.status_code == 200
        [message] = response.context["form"].errors["photos"]
        assert "virus.png is not an image that can be read." in message
        assert not ServiceRequest.objects.exists() and not Photo.objects.exists()

    def test_at_most_nine_photos(self, personas):
        client = english(personas.client_for(personas.owner_a101))
        response = client.post(
            CREATE, report(personas, photos=[png(f"{n}.png") for n in range(10)])
        )
        assert "At most 9 photos." in response.context["form"].errors["photos"]
        assert not ServiceRequest.objects.exists()

    def test_hostile_text_is_shown_escaped(self, personas):
        client = personas.client_for(personas.owner_a101)
        response = client.post(CREATE, report(personas, urgency="", description=HOSTILE))
        page = response.content.decode()
        assert ESCAPED in page and HOSTILE not in page
        response = client.post(
            CREATE, report(personas, description=HOSTILE, location_note=HOSTILE), follow=True
        )
        page = response.content.decode()
        assert ESCAPED in page and HOSTILE not in page

    def test_an_owner_without_a_current_unit_is_told_to_contact_the_desk(self, personas):
        Residency.objects.filter(resident=personas.resident_a101).update(
            moved_out_on=timezone.localdate() - dt.timedelta(days=1)
        )
        client = english(personas.client_for(personas.owner_a101))
        page = client.get(CREATE).content.decode()
        assert "No unit is linked to your account" in page
        client.post(CREATE, report(personas))
        assert not ServiceRequest.objects.exists()


# ----------------------------------------------------------------------------- one request


class TestDetail:
    def test_shows_names_of_staff_but_never_their_phones(self, personas):
        p = personas
        p.technician_a.mobile = "13911112222"
        p.technician_a.save()
        p.clerk_a.mobile = "13933334444"
        p.clerk_a.save()
        req = dispatched(p)
        page = english(p.client_for(p.owner_a101)).get(detail_url(req)).content.decode()
        assert "陈客服" in page and "王师傅" in page
        assert "13911112222" not in page and "13933334444" not in page
        assert "1112222" not in page and "3334444" not in page

    def test_the_timeline_tells_the_story_in_plain_words_and_refreshes(self, personas):
        p = personas
        req = services.request_arrive(actor=p.technician_a, request=dispatched(p))
        services.request_hold(actor=p.technician_a, request=req, reason="等配件 <b>阀芯</b>")
        page = english(p.client_for(p.owner_a101)).get(detail_url(req)).content.decode()
        for sentence in [
            "You reported it",
            "The service desk accepted your request",
            "Dispatched to 王师傅",
            "王师傅 has arrived",
            "Work paused",
        ]:
            assert sentence in page, sentence
        assert "等配件 &lt;b&gt;阀芯&lt;/b&gt;" in page
        assert "took the order" not in page  # the technician's internal step
        timeline = reverse("servicedesk:owner_timeline", args=[req.pk])
        assert f'hx-get="{timeline}?shown={fresh(req).version}"' in page
        assert 'hx-trigger="every 30s"' in page

    def test_the_polled_timeline_says_when_the_request_changed(self, personas):
        p = personas
        req = repair(p)
        client = english(p.client_for(p.owner_a101))
        url = reverse("servicedesk:owner_timeline", args=[req.pk])
        fragment = client.get(url, {"shown": req.version}, headers={"HX-Request": "true"})
        assert "has changed" not in fragment.content.decode()
        assert "<html" not in fragment.content.decode()
        services.request_accept(actor=p.clerk_a, request=req)
        fragment = client.get(url, {"shown": req.version}).content.decode()
        assert "This request has changed since the page was opened." in fragment
        assert "The service desk accepted your request" in fragment
        assert f"?shown={req.version}" in fragment  # keeps comparing with the page's version
        assert client.get(url, {"shown": "<x>"}).status_code == 200

    def test_a_finished_request_does_not_poll(self, personas):
        p = personas
        req = repair(p)
        services.request_cancel(actor=p.owner_a101, request=req)
        page = p.client_for(p.owner_a101).get(detail_url(req)).content.decode()
        assert "hx-trigger" not in page.split('id="sd-timeline"')[1].split(">")[0]


class TestConfirmAndRate:
    def test_the_charges_come_before_the_confirm_button_then_confirm_and_rate(self, personas):
        p = personas
        req = completed_paid(p)
        client = english(p.client_for(p.owner_a101))
        page = client.get(detail_url(req)).content.decode()
        assert "阀芯" in page and "生料带" in page
        assert "51.00" in page and "84.00" in page  # 2 × 25.50, and 30 + 51 + 3
        assert page.index("84.00") < page.index(act_url(req, "confirm"))
        assert "Work completed (charge ¥84.00), please confirm" in page
        assert act_url(req, "rate") not in page

        response = client.post(
            act_url(req, "confirm"), {"confirm-version": fresh(req).version}, follow=True
        )
        assert fresh(req).status == Status.CLOSED
        page = response.content.decode()
        assert "Thank you. The request is closed." in page
        assert act_url(req, "rate") in page and act_url(req, "confirm") not in page

        response = client.post(
            act_url(req, "rate"),
            {
                "rate-version": fresh(req).version,
                "rate-overall": "4",
                "rate-timeliness": "5",
                "rate-attitude": "",
                "rate-quality": "3",
                "rate-tags": ["On time", "Tidy work"],
                "rate-comment": "师傅很细心",
            },
            follow=True,
        )
        rating = Rating.objects.get(request=req)
        assert (rating.overall, rating.timeliness, rating.attitude, rating.quality) == (4, 5, 4, 3)
        assert rating.tags == ["On time", "Tidy work"] and rating.comment == "师傅很细心"
        assert rating.rated_by == p.owner_a101 and not rating.is_automatic
        page = response.content.decode()
        assert "Thank you for your rating." in page and "Your rating" in page
        assert act_url(req, "rate") not in page
        assert "You rated it 4★" in page and "On time Tidy work · 师傅很细心" in page

    def test_the_rating_tags_are_stored_in_english_whatever_the_language(self, personas):
        p = personas
        req = services.request_confirm(actor=p.owner_a101, request=completed_paid(p))
        client = p.client_for(p.owner_a101)  # the default language, zh-hans
        values = [v for v, _l in client.get(detail_url(req)).context["panels"][0].form.fields[
            "tags"
        ].choices]  # fmt: skip
        assert "On time" in values

    @pytest.mark.parametrize(
        ("fields", "field"),
        [
            ({"rate-overall": ""}, "overall"),
            ({"rate-overall": "6"}, "overall"),
            ({"rate-overall": "five"}, "overall"),
            ({"rate-quality": "0"}, "quality"),
            ({"rate-tags": ["Bribed"]}, "tags"),
            ({"rate-comment": "好" * 1001}, "comment"),
        ],
    )
    def test_bad_ratings_are_shown_on_the_form(self, personas, fields, field):
        p = personas
        req = services.request_confirm(actor=p.owner_a101, request=completed_paid(p))
        client = english(p.client_for(p.owner_a101))
        data = {"rate-version": fresh(req).version, "rate-overall": "5"} | fields
        response = client.post(act_url(req, "rate"), data)
        assert response.status_code == 200
        [panel] = response.context["panels"]
        assert field in panel.form.errors
        assert 'id="panel-rate" open' in response.content.decode()
        assert not Rating.objects.exists()

    def test_a_hostile_comment_is_shown_escaped(self, personas):
        p = personas
        req = services.request_confirm(actor=p.owner_a101, request=completed_paid(p))
        client = p.client_for(p.owner_a101)
        data = {"rate-version": fresh(req).version, "rate-overall": "1", "rate-comment": HOSTILE}
        page = client.post(act_url(req, "rate"), data, follow=True).content.decode()
        assert ESCAPED in page and HOSTILE not in page


class TestOtherSteps:
    def test_not_resolved_needs_a_reason_and_goes_back_to_the_technician(self, personas):
        p = personas
        req = completed_paid(p)
        client = english(p.client_for(p.owner_a101))
        response = client.post(act_url(req, "reopen"), {"reopen-version": fresh(req).version})
        assert response.status_code == 200
        assert "reason" in response.context["panels"][1].form.errors
        assert fresh(req).status == Status.COMPLETED
        response = client.post(
            act_url(req, "reopen"),
            {"reopen-version": fresh(req).version, "reopen-reason": "还在滴水"},
            follow=True,
        )
        assert (fresh(req).status, fresh(req).assignee) == (Status.DISPATCHED, p.technician_a)
        page = response.content.decode()
        assert "sent back to be handled again" in page and "还在滴水" in page

    def test_an_oversized_reason_is_refused(self, personas):
        p = personas
        req = completed_paid(p)
        client = english(p.client_for(p.owner_a101))
        data = {"reopen-version": fresh(req).version, "reopen-reason": "x" * 501}
        response = client.post(act_url(req, "reopen"), data)
        assert "at most 500 characters" in str(response.context["panels"][1].form.errors)
        assert fresh(req).status == Status.COMPLETED

    def test_cancel_is_offered_before_dispatch_only(self, personas):
        p = personas
        req = repair(p)
        client = english(p.client_for(p.owner_a101))
        assert act_url(req, "cancel") in client.get(detail_url(req)).content.decode()
        response = client.post(
            act_url(req, "cancel"),
            {"cancel-version": req.version, "cancel-reason": "已自己修好"},
            follow=True,
        )
        assert fresh(req).status == Status.CANCELLED
        page = response.content.decode()
        assert "The request is cancelled." in page and "You cancelled the request" in page
        assert "已自己修好" in page
        later = dispatched(p)
        page = client.get(detail_url(later)).content.decode()
        assert act_url(later, "cancel") not in page
        response = client.post(
            act_url(later, "cancel"), {"cancel-version": fresh(later).version}, follow=True
        )
        assert fresh(later).status == Status.DISPATCHED
        assert "is no longer possible" in response.content.decode()

    def test_only_the_steps_the_workflow_allows_are_offered(self, personas):
        p = personas
        req = dispatched(p)
        response = p.client_for(p.owner_a101).get(detail_url(req))
        assert [panel.action for panel in response.context["panels"]] == ["photos"]

    def test_add_photos_while_open(self, personas):
        p = personas
        req = dispatched(p)
        client = english(p.client_for(p.owner_a101))
        response = client.post(
            act_url(req, "photos"),
            {"photos-version": fresh(req).version, "photos-photos": [png(), png("b.png")]},
            follow=True,
        )
        assert req.photos.filter(stage=Photo.Stage.REPORT).count() == 2
        assert "2 photos added" in response.content.decode()
        response = client.post(
            act_url(req, "photos"),
            {"photos-version": fresh(req).version, "photos-photos": [not_an_image()]},
        )
        assert "virus.png is not an image" in str(response.context["panels"][0].form.errors)
        response = client.post(act_url(req, "photos"), {"photos-version": fresh(req).version})
        assert "photos" in response.context["panels"][0].form.errors
        assert req.photos.count() == 2

    def test_no_photos_once_closed(self, personas):
        p = personas
        req = services.request_confirm(actor=p.owner_a101, request=completed_paid(p))
        client = english(p.client_for(p.owner_a101))
        assert act_url(req, "photos") not in client.get(detail_url(req)).content.decode()
        data = {"photos-version": fresh(req).version, "photos-photos": [png()]}
        response = client.post(act_url(req, "photos"), data, follow=True)
        assert "Photos can only be added to an open request." in response.content.decode()
        assert not req.photos.exists()

    def test_a_missing_version_asks_to_reload(self, personas):
        req = repair(personas)
        client = english(personas.client_for(personas.owner_a101))
        response = client.post(act_url(req, "cancel"), {"cancel-version": "abc"})
        assert "This page is out of date" in response.content.decode()
        assert fresh(req).status == Status.SUBMITTED


class TestStaleVersion:
    @pytest.mark.parametrize(
        ("prepare", "action", "fields"),
        [
            ("completed", "confirm", {}),
            ("completed", "reopen", {"reopen-reason": "没修好"}),
            ("submitted", "cancel", {}),
            ("closed", "rate", {"rate-overall": "5"}),
            ("submitted", "photos", {}),
        ],
    )
    def test_each_step_on_an_old_page_is_refused_with_the_reason(
        self, personas, prepare, action, fields
    ):
        p = personas
        if prepare == "submitted":
            req = repair(p)
        elif prepare == "completed":
            req = completed_paid(p)
        else:
            req = services.request_confirm(actor=p.owner_a101, request=completed_paid(p))
        shown = fresh(req)
        someone_else_changes(req)
        data = {f"{action}-version": shown.version, **fields}
        if action == "photos":
            data["photos-photos"] = [png()]
        client = english(p.client_for(p.owner_a101))
        response = client.post(act_url(req, action), data)
        assert response.status_code == 302 and response.url == detail_url(req)
        page = client.get(response.url).content.decode()
        assert STALE in page
        after = fresh(req)
        assert (after.status, after.version) == (shown.status, shown.version + 1)
        assert not Rating.objects.exists()
        assert after.photos.count() == 0


def test_a_company_admin_who_lives_here_sees_only_their_own_requests_here(personas):
    """Staff who are also owners use the portal for their own requests; others' requests,
    which they may see as staff, are on the desk's pages, not here."""
    p = personas
    Membership.objects.create(
        user=p.owner_a102, company=p.company, estate=None, role=Role.COMPANY_ADMIN
    )
    forget_grants(p.owner_a102)
    req = repair(p)
    client = p.client_for(p.owner_a102)
    assert client.get(detail_url(req)).status_code == 404
    assert client.get(LIST).status_code == 200
    assert list(client.get(LIST).context["page"].object_list) == []
