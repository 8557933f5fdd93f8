"""Writing audit events. Every service calls `record_event` once per change it makes."""

import json
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

from jiayuan.core.context import current_request
from jiayuan.core.models import AuditCode, AuditEvent

_NEVER_RECORDED = {"password"}


def snapshot(instance: models.Model, fields: list[str] | None = None) -> dict[str, Any]:
    """The JSON-safe values of a model's concrete fields, for before/after."""
    data = {}
    for field in instance._meta.concrete_fields:
        if field.name in _NEVER_RECORDED or (fields is not None and field.name not in fields):
            continue
        data[field.attname] = field.value_from_object(instance)
    return json.loads(json.dumps(data, cls=DjangoJSONEncoder))


# Bookkeeping that changes on every save and would make every save look like a change.
_NOT_COMPARED = {"updated_at"}


def changed_only(before: dict, after: dict) -> tuple[dict, dict]:
    keys = [k for k in after if k not in _NOT_COMPARED and before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def record_event(
    *,
    actor,
    code: AuditCode,
    target: models.Model | None = None,
    estate=None,
    company=None,
    before: dict | None = None,
    after: dict | None = None,
) -> AuditEvent:
    if not isinstance(code, AuditCode):
        raise TypeError("audit codes must be members of an AuditCode enum")
    # The estate's company by its id: the estate need not have been read with its company.
    company_id = company.pk if company is not None else estate.company_id if estate else None
    context = current_request()
    actor_obj = actor if actor is not None and getattr(actor, "is_authenticated", False) else None
    return AuditEvent.objects.create(
        actor=actor_obj,
        actor_label=(actor_obj.get_short_name() or actor_obj.get_username()) if actor_obj else "",
        company_id=company_id,
        estate=estate,
        code=code.value,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        target_label=str(target)[:200] if target is not None else "",
        before=before,
        after=after,
        request_id=context.request_id,
        ip=context.ip,
    )
