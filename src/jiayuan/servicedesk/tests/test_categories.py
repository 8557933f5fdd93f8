"""Each company chooses the categories it takes requests in: the forms offer those, the
services refuse the others, and the settings say so in one place."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.models import AuditEvent
from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import DeskSettings, ServiceRequest

pytestmark = pytest.mark.django_db


def offer(p, *codes):
    return services.desk_settings_update(
        actor=p.manager_a, company=p.company, offered_categories=list(codes)
    )


def report(p, category):
    return services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind="repair",
        category=category,
        description="需要维修",
        unit=p.unit_a101,
    )


def test_every_default_category_is_offered_until_a_manager_chooses(personas):
    assert [code for code, _ in services.offered_categories(personas.company.pk)] == list(
        Category.values
    )
    assert report(personas, "gas").category == "gas"


def test_a_category_the_company_does_not_take_is_refused_on_the_field(personas):
    p = personas
    offer(p, "electrical", "plumbing")
    before = (ServiceRequest.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ValidationError) as refused:
        report(p, "gas")
    assert "category" in refused.value.message_dict
    assert (ServiceRequest.objects.count(), AuditEvent.objects.count()) == before
    assert report(p, "plumbing").category == "plumbing"
    # Stored in the default order, whatever order they were chosen in.
    assert DeskSettings.objects.get(company=p.company).offered_categories == [
        "plumbing",
        "electrical",
    ]
    # Another company is not affected.
    assert len(services.offered_categories(p.other_company.pk)) == len(Category.values)


@pytest.mark.parametrize("bad", [["teleport"], "plumbing", [1], {"plumbing": True}])
def test_bad_category_settings_are_refused(personas, bad):
    with pytest.raises(ValidationError) as refused:
        services.desk_settings_update(
            actor=personas.manager_a, company=personas.company, offered_categories=bad
        )
    assert "offered_categories" in refused.value.message_dict
    assert not DeskSettings.objects.exists()


def test_only_managers_choose_the_categories(personas):
    with pytest.raises(PermissionDenied):
        services.desk_settings_update(
            actor=personas.clerk_a, company=personas.company, offered_categories=["plumbing"]
        )
    assert not DeskSettings.objects.exists()


def test_the_forms_offer_only_the_chosen_categories(personas):
    p = personas
    offer(p, "plumbing", "elevator")
    owner_page = p.client_for(p.owner_a101).get(reverse("servicedesk:owner_create"))
    owner_choices = [c[0] for c in owner_page.context["form"].fields["category"].choices]
    assert owner_choices == ["", "plumbing", "elevator"]
    desk_page = p.client_for(p.clerk_a).get(reverse("servicedesk:record"))
    desk_choices = [c[0] for c in desk_page.context["form"].fields["category"].choices]
    assert desk_choices == ["", "plumbing", "elevator"]


def test_the_settings_page_saves_the_choice(personas):
    p = personas
    from jiayuan.servicedesk.tests.test_views_desk import SETTINGS

    client = p.client_for(p.manager_a)
    response = client.post(
        reverse("servicedesk:settings"), {**SETTINGS, "offered_categories": ["gas", "civil"]}
    )
    assert response.status_code == 302
    assert DeskSettings.objects.get(company=p.company).offered_categories == ["gas", "civil"]
    empty = client.post(reverse("servicedesk:settings"), {**SETTINGS, "offered_categories": []})
    assert empty.status_code == 200 and "offered_categories" in empty.context["form"].errors


def test_the_api_lists_and_enforces_the_categories(personas):
    p = personas
    offer(p, "plumbing")
    owner = ApiClient(p.owner_a101)
    listed = owner.get("/request-categories", estate=p.estate_a.pk).json()
    assert [c["code"] for c in listed] == ["plumbing"]
    assert ApiClient(p.outsider).get("/request-categories", estate=p.estate_a.pk).status_code == 404
    refused = owner.post(
        "/requests",
        {
            "estate": p.estate_a.pk,
            "kind": "repair",
            "category": "gas",
            "description": "燃气味",
            "unit": p.unit_a101.pk,
        },
    )
    assert refused.status_code == 422 and "category" in field_errors(refused)
