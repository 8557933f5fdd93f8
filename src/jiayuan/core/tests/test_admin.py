"""The back office (Django admin): company admins only, scoped by restrict(), writes through
the services."""

from decimal import Decimal

import pytest
from django.urls import reverse

from jiayuan.accounts.services import token_create
from jiayuan.comms.services import notify
from jiayuan.core.models import AuditEvent, SchedulerLease
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import Building, CommonArea, Unit

pytestmark = pytest.mark.django_db
INDEX = reverse("admin:index")


def changelist(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def change(obj):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def add(model):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")


class TestWhoGetsIn:
    def test_anonymous_is_sent_to_the_product_sign_in(self, client):
        response = client.get(INDEX, follow=True)
        assert response.redirect_chain[-1][0] == f"{reverse('accounts:login')}?next={INDEX}"
        assert response.status_code == 200

    def test_company_admin_signs_in_on_the_product_page_and_lands_in_the_admin(
        self, personas, client
    ):
        from jiayuan.core.testing import PASSWORD

        response = client.post(
            reverse("accounts:login"), {"username": "admin", "password": PASSWORD, "next": INDEX}
        )
        assert response.url == INDEX
        assert client.get(INDEX).status_code == 200
        assert client.get(reverse("admin:login")).url == INDEX

    @pytest.mark.parametrize(
        "persona", ["manager_a", "clerk_a", "technician_a", "owner_a101", "outsider", "stranger"]
    )
    def test_everyone_but_company_admins_is_refused(self, personas, persona):
        client = personas.client_for(getattr(personas, persona))
        for url in (INDEX, changelist(Building), change(personas.building_a1)):
            response = client.get(url, follow=True)
            assert response.status_code == 404
            assert response.redirect_chain[0][0].startswith(reverse("admin:login"))

    def test_company_admin_gets_in(self, personas):
        response = personas.client_for(personas.company_admin).get(INDEX)
        assert response.status_code == 200
        assert changelist(Building) in response.content.decode()

    def test_password_change_goes_to_the_product_page(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.get(reverse("admin:password_change"))
        assert response.url == reverse("accounts:password_change")


class TestScope:
    def test_lists_show_the_company_only(self, personas):
        client = personas.client_for(personas.company_admin)
        buildings = client.get(changelist(Building)).context["cl"].result_list
        assert set(buildings) == {personas.building_a1, personas.building_b1}
        units = client.get(changelist(Unit)).context["cl"].result_list
        assert personas.unit_c101 not in units

    def test_another_company_s_object_is_not_there(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.get(change(personas.building_c1))
        assert response.status_code == 302
        assert response.url == INDEX

    def test_estate_filter_offers_only_visible_estates(self, personas):
        html = personas.client_for(personas.company_admin).get(changelist(Building)).content
        assert personas.estate_c.name not in html.decode()

    def test_drop_downs_offer_only_visible_estates(self, personas):
        form = (
            personas.client_for(personas.company_admin).get(add(Building)).context["adminform"].form
        )
        assert set(form.fields["estate"].queryset) == {personas.estate_a, personas.estate_b}

    def test_audit_events_are_scoped_and_read_only(self, personas):
        from jiayuan.org import services

        services.building_update(actor=personas.outsider, building=personas.building_c1, note="c")
        services.building_update(
            actor=personas.company_admin, building=personas.building_a1, note="a"
        )
        client = personas.client_for(personas.company_admin)
        events = client.get(changelist(AuditEvent)).context["cl"].result_list
        assert events and all(e.company_id == personas.company.pk for e in events)
        assert client.get(add(AuditEvent)).status_code == 403
        own = events[0]
        response = client.post(change(own), {"actor_label": "forged"})
        assert response.status_code == 403
        own.refresh_from_db()
        assert own.actor_label != "forged"

    def test_tokens_show_the_admin_s_own_and_never_the_digest(self, personas):
        own, _secret = token_create(actor=personas.company_admin, name="后台脚本")
        other, _other_secret = token_create(actor=personas.manager_a, name="经理脚本")
        client = personas.client_for(personas.company_admin)
        from jiayuan.accounts.models import ApiToken

        assert list(client.get(changelist(ApiToken)).context["cl"].result_list) == [own]
        html = client.get(change(own)).content.decode()
        assert own.digest not in html
        assert client.get(change(other)).status_code == 302

    def test_notifications_show_the_admin_s_own(self, personas):
        from jiayuan.comms.models import Notification

        notify(recipients=[personas.company_admin], kind="t", title="给管理员", email=False)
        notify(recipients=[personas.manager_a], kind="t", title="给经理", email=False)
        client = personas.client_for(personas.company_admin)
        titles = [n.title for n in client.get(changelist(Notification)).context["cl"].result_list]
        assert titles == ["给管理员"]


class TestWrites:
    def test_editing_a_building_goes_through_the_service(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.post(
            change(personas.building_a1),
            {"name": "一号楼", "floors_above": 20, "floors_below": 1, "note": ""},
        )
        assert response.status_code == 302
        personas.building_a1.refresh_from_db()
        assert personas.building_a1.name == "一号楼"
        event = AuditEvent.objects.get(code=OrgEvent.BUILDING_UPDATED)
        assert event.before["name"] == "1号楼"
        assert event.after["name"] == "一号楼"
        assert event.actor == personas.company_admin

    def test_adding_a_unit_goes_through_the_service(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.post(
            add(Unit),
            {
                "building": personas.building_a1.pk,
                "entrance": "",
                "number": "301",
                "floor": 3,
                "gross_area": "100.00",
                "inner_area": "",
                "status": "vacant",
            },
        )
        assert response.status_code == 302
        unit = Unit.objects.get(number="301")
        assert unit.estate == personas.estate_a
        assert unit.gross_area == Decimal("100.00")
        assert AuditEvent.objects.filter(
            code=OrgEvent.UNIT_CREATED, target_id=str(unit.pk)
        ).exists()

    def test_a_unit_in_another_company_s_building_cannot_be_added(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.post(
            add(Unit),
            {
                "building": personas.building_c1.pk,
                "number": "999",
                "floor": 1,
                "gross_area": "50",
                "status": "vacant",
            },
        )
        assert response.status_code == 200
        assert "building" in response.context["adminform"].form.errors
        assert not Unit.objects.filter(number="999").exists()

    def test_bad_input_is_a_form_error(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.post(
            add(Unit),
            {
                "building": personas.building_a1.pk,
                "number": "<script>",
                "floor": 99,
                "gross_area": "-1",
                "status": "bogus",
            },
        )
        assert response.status_code == 200
        errors = response.context["adminform"].form.errors
        assert {"gross_area", "status"} <= set(errors)
        assert not Unit.objects.filter(number="<script>").exists()

    def test_a_rule_only_the_service_checks_rolls_back_with_a_message(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.post(
            add(CommonArea),
            {
                "estate": personas.estate_a.pk,
                "building": personas.building_b1.pk,
                "name": "错楼大堂",
                "kind": "lobby",
                "note": "",
            },
            follow=True,
        )
        assert response.status_code == 200
        assert any(m.level_tag == "error" for m in response.context["messages"])
        assert not CommonArea.objects.filter(name="错楼大堂").exists()

    def test_nothing_is_deleted_in_the_admin(self, personas):
        client = personas.client_for(personas.company_admin)
        url = reverse("admin:org_building_delete", args=[personas.building_a1.pk])
        assert client.post(url, {"post": "yes"}).status_code == 403
        assert Building.objects.filter(pk=personas.building_a1.pk).exists()

    def test_companies_are_read_only(self, personas):
        client = personas.client_for(personas.company_admin)
        response = client.post(change(personas.company), {"name": "改名", "code": "x"})
        assert response.status_code == 403
        personas.company.refresh_from_db()
        assert personas.company.name == "幸福物业"


class TestSchedulerLeases:
    def lease(self):
        from django.utils import timezone

        return SchedulerLease.objects.create(
            job="comms.digest", holder="host-1", lease_expires=timezone.now()
        )

    def test_superuser_sees_them_read_only(self, personas):
        lease = self.lease()
        personas.stranger.is_superuser = True
        personas.stranger.save()
        client = personas.client_for(personas.stranger)
        assert changelist(SchedulerLease) in client.get(INDEX).content.decode()
        assert "comms.digest" in client.get(changelist(SchedulerLease)).content.decode()
        assert client.get(change(lease)).status_code == 200
        response = client.post(change(lease), {"job": "x", "holder": "me"})
        assert response.status_code == 403
        assert client.get(add(SchedulerLease)).status_code == 403
        lease.refresh_from_db()
        assert (lease.job, lease.holder) == ("comms.digest", "host-1")

    def test_company_admin_does_not_see_them(self, personas):
        lease = self.lease()
        client = personas.client_for(personas.company_admin)
        assert changelist(SchedulerLease) not in client.get(INDEX).content.decode()
        assert client.get(changelist(SchedulerLease)).status_code == 403
        assert client.get(change(lease)).status_code == 403


@pytest.mark.parametrize("superuser", [False, True])
def test_every_registered_page_renders(personas, superuser):
    from jiayuan.core.admin_site import admin_site
    from jiayuan.org import services

    services.building_update(actor=personas.company_admin, building=personas.building_a1, note="x")
    token_create(actor=personas.company_admin, name="t")
    notify(recipients=[personas.company_admin], kind="t", title="t", email=False)
    TestSchedulerLeases().lease()
    superuser_only = {SchedulerLease}
    user = personas.company_admin
    if superuser:
        user.is_superuser = True
        user.save()
    client = personas.client_for(user)
    for model in admin_site._registry:
        if model in superuser_only and not superuser:
            continue
        assert client.get(changelist(model)).status_code == 200, model
        row = model._default_manager.restrict(user).first()
        assert row is not None, model
        assert client.get(change(row)).status_code == 200, model
