import pytest
from django.test import RequestFactory

from jiayuan.core.audit import changed_only, record_event, snapshot
from jiayuan.core.context import RequestContext, reset_request_context, set_request_context
from jiayuan.core.middleware import RequestContextMiddleware
from jiayuan.core.models import AuditCode, AuditEvent
from jiayuan.org.events import OrgEvent
from jiayuan.org.services import building_update


@pytest.mark.django_db
class TestRecordEvent:
    def test_records_actor_target_estate_and_request_context(self, personas):
        token = set_request_context(RequestContext(request_id="req-12345678", ip="10.1.2.3"))
        try:
            event = record_event(
                actor=personas.manager_a,
                code=OrgEvent.BUILDING_UPDATED,
                target=personas.building_a1,
                estate=personas.estate_a,
                before={"name": "1号楼"},
                after={"name": "一号楼"},
            )
        finally:
            reset_request_context(token)
        event.refresh_from_db()
        assert event.actor == personas.manager_a
        assert event.actor_label == "刘经理"
        assert event.company == personas.company
        assert event.estate == personas.estate_a
        assert event.target_id == str(personas.building_a1.pk)
        assert event.target_type.model == "building"
        assert event.request_id == "req-12345678"
        assert event.ip == "10.1.2.3"
        assert event.code_label == OrgEvent.BUILDING_UPDATED.label

    def test_untyped_codes_are_refused(self, personas):
        with pytest.raises(TypeError):
            record_event(actor=personas.manager_a, code="org.anything")

    def test_every_event_code_is_unique_and_namespaced(self):
        codes = [code for code, _label in AuditCode.all_choices()]
        assert len(codes) == len(set(codes))
        assert all("." in code for code in codes)

    def test_snapshot_is_json_safe_and_never_holds_passwords(self, personas):
        data = snapshot(personas.unit_a101)
        assert data["gross_area"] == "89.50"
        assert "password" not in snapshot(personas.manager_a)

    def test_changed_only_keeps_the_difference(self):
        assert changed_only({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ({"b": 2}, {"b": 3})

    def test_service_change_writes_one_event_with_before_and_after(self, personas):
        before = AuditEvent.objects.count()
        building_update(actor=personas.manager_a, building=personas.building_a1, name="一号楼")
        assert AuditEvent.objects.count() == before + 1
        event = AuditEvent.objects.first()
        assert event.before == {"name": "1号楼"}
        assert event.after == {"name": "一号楼"}

    def test_a_change_that_changes_nothing_writes_no_event(self, personas):
        before = AuditEvent.objects.count()
        building_update(actor=personas.manager_a, building=personas.building_a1, name="1号楼")
        assert AuditEvent.objects.count() == before


@pytest.mark.django_db
class TestAuditVisibility:
    def test_managers_see_their_estates_events_only(self, personas):
        record_event(
            actor=personas.manager_a,
            code=OrgEvent.ESTATE_UPDATED,
            target=personas.estate_a,
            estate=personas.estate_a,
        )
        record_event(
            actor=personas.outsider,
            code=OrgEvent.ESTATE_UPDATED,
            target=personas.estate_c,
            estate=personas.estate_c,
        )
        assert AuditEvent.objects.restrict(personas.manager_a).count() == 1
        assert AuditEvent.objects.restrict(personas.company_admin).count() == 1
        assert AuditEvent.objects.restrict(personas.outsider).count() == 1
        assert AuditEvent.objects.restrict(personas.clerk_a).count() == 0
        assert AuditEvent.objects.restrict(personas.owner_a101).count() == 0


class TestRequestContextMiddleware:
    def _run(self, **meta):
        seen = {}

        def view(request):
            from django.http import HttpResponse

            from jiayuan.core.context import current_request

            seen["context"] = current_request()
            return HttpResponse("ok")

        request = RequestFactory().get("/", **meta)
        response = RequestContextMiddleware(view)(request)
        return seen["context"], response

    def test_generates_an_id_and_returns_it(self):
        context, response = self._run(REMOTE_ADDR="127.0.0.1")
        assert len(context.request_id) == 32
        assert response["X-Request-ID"] == context.request_id
        assert context.ip == "127.0.0.1"

    def test_keeps_a_well_formed_incoming_id_and_rejects_hostile_ones(self):
        context, _ = self._run(HTTP_X_REQUEST_ID="abc-12345678")
        assert context.request_id == "abc-12345678"
        context, _ = self._run(HTTP_X_REQUEST_ID="<script>alert(1)</script>")
        assert context.request_id != "<script>alert(1)</script>"

    def test_ignores_forwarded_for_unless_behind_a_proxy(self, settings):
        context, _ = self._run(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
        assert context.ip == "127.0.0.1"
        settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
        context, _ = self._run(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4, 5.6.7.8")
        assert context.ip == "1.2.3.4"
