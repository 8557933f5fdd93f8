"""Mainland China mobile numbers: one rule for validating, normalising and masking."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_MAINLAND_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_SEPARATORS = re.compile(r"[\s\-()]")


def normalize_mobile(raw: str) -> str:
    """Strip spaces, dashes and a +86/0086 prefix: '+86 138-0013-8000' -> '13800138000'."""
    value = _SEPARATORS.sub("", str(raw or ""))
    for prefix in ("+86", "0086"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
            break
    else:
        if value.startswith("86") and len(value) == 13:
            value = value[2:]
    return value


def validate_mainland_mobile(value: str) -> None:
    if not _MAINLAND_MOBILE.match(value or ""):
        raise ValidationError(
            _("Enter a mainland China mobile number: 11 digits starting with 13–19."),
            code="invalid_mobile",
        )


def mask_mobile(value: str) -> str:
    """138****1234 — enough to recognise, not enough to call."""
    if not value or len(value) < 7:
        return value
    return f"{value[:3]}****{value[-4:]}"
