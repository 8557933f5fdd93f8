"""The model at intake: suggestions while typing (pages and API), what was predicted and
what people chose, and the desk's corrections."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.test import Client
from django.urls import reverse

from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.models import AuditEvent
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import DeskSettings, Kind, ServiceRequest
from jiayuan.servicedesk.services import RequestChanged
from jiayuan.triage.models import Classification

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("triage_model")]

TRAPPED = "电梯里有人被困"
OWNER_SUGGEST = reverse("servicedesk:owner_suggest")
DESK_SUGGEST = reverse("servicedesk:record_suggest")


def owner_repair(p, **changes):
    values = {
        "actor": p.owner_a101,
        "estate": p.estate_a,
        "kind": Kind.REPAIR,
        "category": "plumbing",
        "description": "厨房水龙头一直滴水",
        "unit": p.unit_a101,
    }
    return services.request_create(**(values | changes))


# ----------------------------------------------------------------------------- suggestions


def test_the_owner_form_asks_while_typing_and_gets_a_prefill(personas):
    client = personas.client_for(personas.owner_a101)
    page = client.get(reverse("servicedesk:owner_create")).content.decode()
    assert f'hx-post="{OWNER_SUGGEST}"' in page and 'data-prefill="category"' in page
    answer = client.post(OWNER_SUGGEST, {"description": "厨房水龙头一直滴水"}).content.decode()
    assert 'data-category="plumbing"' in answer and 'data-kind="repair"' in answer
    assert "triage-emergency" not in answer


def test_a_trapped_person_is_an_emergency_with_a_red_note(personas):
    client = personas.client_for(personas.owner_a101)
    answer = client.post(OWNER_SUGGEST, {"description": TRAPPED}).content.decode()
    assert 'data-urgency="emergency"' in answer and 'data-category="elevator"' in answer
    assert 'class="triage-emergency" role="alert"' in answer


def test_an_empty_description_suggests_nothing(personas):
    client = personas.client_for(personas.owner_a101)
    answer = client.post(OWNER_SUGGEST, {"description": "  "}).content.decode()
    assert "data-triage-suggestion" not in answer and "is-empty" in answer


def test_only_offered_categories_are_suggested(personas):
    DeskSettings.objects.create(
        company=personas.company, offered_categories=["electrical", "other"]
    )
    client = personas.client_for(personas.clerk_a)
    answer = client.post(DESK_SUGGEST, {"description": "厨房水龙头一直滴水"}).content.decode()
    assert 'data-category="plumbing"' not in answer
    assert 'data-category="electrical"' in answer or 'data-category="other"' in answer


def test_the_desk_form_asks_too(personas):
    client = personas.client_for(personas.clerk_a)
    page = client.get(reverse("servicedesk:record")).content.decode()
    assert f'hx-post="{DESK_SUGGEST}"' in page
    answer = client.post(DESK_SUGGEST, {"description": TRAPPED}).content.decode()
    assert 'data-urgency="emergency"' in answer


@pytest.mark.parametrize(("url", "who"), [(OWNER_SUGGEST, "clerk_a"), (DESK_SUGGEST, "owner_a101")])
def test_the_other_side_has_no_suggestion_page(personas, url, who):
    response = personas.client_for(getattr(personas, who)).post(url, {"description": TRAPPED})
    assert response.status_code in (403, 404)
    assert Client().post(url, {"description": TRAPPED}).status_code == 302  # to sign in


def test_without_javascript_an_empty_category_is_chosen_from_the_words(personas):
    client = personas.client_for(personas.owner_a101)
    response = client.post(
        reverse("servicedesk:owner_create"),
        {
            "kind": "repair",
            "category": "",
            "place": f"unit-{personas.unit_a101.pk}",
            "description": "卫生间下水很慢",
            "urgency": "normal",
        },
    )
    assert response.status_code == 302, response.content
    created = ServiceRequest.objects.get()
    assert created.category == "plumbing"
    assert created.classification.corrected is False


# ----------------------------------------------------------------------------- the API


@pytest.mark.parametrize("who", ["owner_a101", "clerk_a", "technician_a"])
def test_the_api_classifies_for_owners_and_staff(personas, who):
    response = ApiClient(getattr(personas, who)).post("/triage/classify", {"text": TRAPPED})
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["kind"], body["category"], body["urgency"]) == ("repair", "elevator", "emergency")
    assert body["urgency_label"] == "Emergency" and body["category_label"] == "Elevator"
    assert "rule:lift_trapped" in body["reasons"] and 0 < body["confidence"] <= 1


def test_the_api_is_for_signed_in_accounts_only(personas):
    assert ApiClient().post("/triage/classify", {"text": TRAPPED}).status_code == 401
    answer = ApiClient(personas.stranger).post("/triage/classify", {"text": TRAPPED})
    assert answer.status_code == 200 and answer.json()["urgency"] == "emergency"


def test_the_api_keeps_to_an_estate_the_caller_sees(personas):
    client = ApiClient(personas.owner_a101)
    assert (
        client.post(
            "/triage/classify", {"text": TRAPPED, "estate": personas.estate_c.pk}
        ).status_code
        == 404
    )


@pytest.mark.parametrize(
    "body",
    [{}, {"text": 42}, {"text": ["电梯"]}, {"text": "   "}, {"text": "漏" * 2001}, {"txt": "x"}],
)
def test_the_api_refuses_bad_text_with_a_field_message(personas, body):
    response = ApiClient(personas.owner_a101).post("/triage/classify", body)
    assert response.status_code == 422, response.content
    errors = field_errors(response)
    assert errors and all(errors.values())


def test_the_api_says_when_the_model_is_unavailable(personas, settings, tmp_path):
    (tmp_path / "triage").mkdir()
    (tmp_path / "triage" / "model.npz").write_bytes(b"not a model")
    settings.DATA_DIR = tmp_path
    response = ApiClient(personas.clerk_a).post("/triage/classify", {"text": TRAPPED})
    assert response.status_code == 503 and response.json()["detail"]


# ----------------------------------------------------------------------------- at intake


def test_creation_records_the_prediction(personas):
    created = owner_repair(personas)
    found = Classification.objects.get(request=created)
    assert found.predicted == ("repair", "plumbing", "normal") == found.final
    assert found.corrected is False and found.corrected_by is None
    assert found.model_corpus_sha256 and found.model_trained_at and found.confidence > 0


def test_an_owner_choosing_another_category_is_a_correction(personas):
    created = owner_repair(personas, category="civil")
    found = created.classification
    assert found.predicted_category == "plumbing" and found.category == "civil"
    assert (found.corrected, found.corrected_by) == (True, personas.owner_a101)


def test_creation_works_with_a_broken_model(personas, settings, tmp_path, caplog):
    (tmp_path / "triage").mkdir()
    (tmp_path / "triage" / "model.npz").write_bytes(b"PK\x03\x04 broken")
    settings.DATA_DIR = tmp_path
    created = owner_repair(personas)
    assert ServiceRequest.objects.filter(pk=created.pk).exists()
    assert not Classification.objects.exists()
    assert "unclassified" in caplog.text


def test_creation_without_a_model_does_not_train_one(personas, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    owner_repair(personas)
    assert not Classification.objects.exists()
    assert not (tmp_path / "triage").exists()


# ----------------------------------------------------------------------------- corrections


@pytest.mark.parametrize("who", ["clerk_a", "dispatcher_a", "manager_a"])
def test_the_desk_reclassifies_and_the_correction_is_kept(personas, who):
    created = owner_repair(personas)
    actor = getattr(personas, who)
    changed = services.request_reclassify(
        actor=actor, request=created, category="civil", urgency="urgent", expected_version=1
    )
    assert (changed.category, changed.urgency, changed.version) == ("civil", "urgent", 2)
    found = Classification.objects.get(request=created)
    assert found.final == ("repair", "civil", "urgent")
    assert (found.corrected, found.corrected_by) == (True, actor)
    event = AuditEvent.objects.get(code="servicedesk.reclassified")
    assert event.before == {"category": "plumbing", "urgency": "normal"}
    assert event.after == {"category": "civil", "urgency": "urgent"}
    timeline = services_timeline(personas, created)
    assert any("civil" in line or "土建" in line for line in timeline)


def services_timeline(p, request):
    from jiayuan.servicedesk import selectors, timeline

    events = selectors.request_timeline(p.clerk_a, request, for_owner=False)
    return [entry.text for entry in timeline.present(events, for_owner=False)]


def test_a_request_found_to_be_a_complaint_reaches_the_managers(personas):
    from jiayuan.comms.models import Notification

    created = owner_repair(personas)
    assert not Notification.objects.filter(recipient=personas.manager_a).exists()
    services.request_reclassify(actor=personas.clerk_a, request=created, kind="complaint")
    told = Notification.objects.filter(recipient=personas.manager_a).values_list("title", flat=True)
    assert [title for title in told if created.number in title]


def test_a_waiting_repair_reclassified_is_routed_again(
    personas, django_capture_on_commit_callbacks
):
    from jiayuan.dispatch.models import GrabOffer, Mode
    from jiayuan.dispatch.services import rule_save

    rule_save(
        actor=personas.dispatcher_a, estate=personas.estate_a, category="elevator", mode=Mode.GRAB
    )
    created = owner_repair(personas)
    with django_capture_on_commit_callbacks(execute=True):
        services.request_reclassify(actor=personas.clerk_a, request=created, category="elevator")
    assert GrabOffer.objects.filter(request=created, status=GrabOffer.Status.OPEN).exists()


def test_changing_back_to_the_prediction_is_no_correction(personas):
    created = owner_repair(personas, category="civil")
    services.request_reclassify(actor=personas.clerk_a, request=created, category="plumbing")
    found = Classification.objects.get(request=created)
    assert (found.corrected, found.corrected_by, found.corrected_at) == (False, None, None)


@pytest.mark.parametrize(
    ("who", "refusal"),
    [
        ("technician_a", PermissionDenied),
        ("owner_a101", PermissionDenied),
        ("owner_a102", Http404),
        ("clerk_b", Http404),
        ("outsider", Http404),
    ],
)
def test_others_cannot_reclassify(personas, who, refusal):
    created = owner_repair(personas)
    services.request_accept(actor=personas.clerk_a, request=created)
    services.request_dispatch(
        actor=personas.dispatcher_a, request=created, assignee=personas.technician_a
    )
    created.refresh_from_db()
    with pytest.raises(refusal):
        services.request_reclassify(actor=getattr(personas, who), request=created, category="civil")
    assert ServiceRequest.objects.get(pk=created.pk).category == "plumbing"


def test_a_stale_version_is_refused(personas):
    created = owner_repair(personas)
    services.request_accept(actor=personas.clerk_a, request=created)
    with pytest.raises(RequestChanged):
        services.request_reclassify(
            actor=personas.clerk_a, request=created, category="civil", expected_version=1
        )


def test_a_bad_category_writes_nothing(personas):
    DeskSettings.objects.create(company=personas.company, offered_categories=["plumbing", "civil"])
    created = owner_repair(personas)
    for category in ("electrical", "nonsense"):
        with pytest.raises(ValidationError) as refused:
            services.request_reclassify(
                actor=personas.clerk_a, request=created, urgency="urgent", category=category
            )
        assert list(refused.value.message_dict) == ["category"]
    after = ServiceRequest.objects.get(pk=created.pk)
    assert (after.category, after.urgency, after.version) == ("plumbing", "normal", 1)
    assert not AuditEvent.objects.filter(code="servicedesk.reclassified").exists()
    assert Classification.objects.get(request=created).corrected is False


def test_the_kind_changes_only_before_work_starts(personas):
    created = owner_repair(personas)
    services.request_dispatch(
        actor=personas.dispatcher_a, request=created, assignee=personas.technician_a
    )
    with pytest.raises(ValidationError) as refused:
        services.request_reclassify(actor=personas.clerk_a, request=created, kind="complaint")
    assert "kind" in refused.value.message_dict


def test_the_desk_page_offers_the_form_and_saves_it(personas):
    created = owner_repair(personas)
    client = personas.client_for(personas.clerk_a)
    page = client.get(reverse("servicedesk:detail", args=[created.pk])).content.decode()
    assert 'id="panel-reclassify"' in page
    response = client.post(
        reverse("servicedesk:act", args=[created.pk, "reclassify"]),
        {
            "reclassify-version": 1,
            "reclassify-kind": "repair",
            "reclassify-category": "civil",
            "reclassify-urgency": "normal",
        },
    )
    assert response.status_code == 302
    assert ServiceRequest.objects.get(pk=created.pk).category == "civil"
    tech_page = personas.client_for(personas.technician_a).get(
        reverse("servicedesk:detail", args=[created.pk])
    )
    assert tech_page.status_code in (302, 403, 404)


def test_the_api_reclassifies_with_the_version(personas):
    created = owner_repair(personas)
    client = ApiClient(personas.clerk_a)
    url = f"/requests/{created.pk}/reclassify"
    response = client.post(url, {"version": 1, "urgency": "emergency"})
    assert response.status_code == 200, response.content
    assert response.json()["urgency"] == "emergency" and response.json()["version"] == 2
    assert client.post(url, {"version": 1, "urgency": "normal"}).status_code == 409
    bad = client.post(url, {"version": 2, "category": "nonsense"})
    assert bad.status_code == 422 and "category" in field_errors(bad)
    owner = ApiClient(personas.owner_a101).post(url, {"version": 2, "urgency": "normal"})
    assert owner.status_code == 403
    other = ApiClient(personas.clerk_b).post(url, {"version": 2, "urgency": "normal"})
    assert other.status_code == 404


def test_pages_never_train_a_model(personas, settings, tmp_path):
    settings.DATA_DIR = tmp_path
    client = personas.client_for(personas.owner_a101)
    answer = client.post(OWNER_SUGGEST, {"description": TRAPPED}).content.decode()
    assert "data-triage-suggestion" not in answer
    response = client.post(
        reverse("servicedesk:owner_create"),
        {
            "kind": "repair",
            "category": "",
            "place": f"unit-{personas.unit_a101.pk}",
            "description": "卫生间下水很慢",
            "urgency": "normal",
        },
    )
    assert response.status_code == 200 and response.context["form"].errors["category"]
    assert (
        ApiClient(personas.clerk_a).post("/triage/classify", {"text": TRAPPED}).status_code == 503
    )
    assert not (tmp_path / "triage").exists()
