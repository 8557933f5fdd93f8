"""Free text from people, made safe to keep: one rule for every service that takes some."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


def clean_text(value, field: str, *, required: bool, limit: int) -> str:
    """The text stripped, or a field-level ValidationError: missing when required, not text,
    with NUL characters (PostgreSQL refuses them), or longer than `limit`."""
    text = (value or "").strip() if isinstance(value, str) else value
    if text is None or text == "":
        if required:
            raise ValidationError({field: _("This field is required.")})
        return ""
    if not isinstance(text, str):
        raise ValidationError({field: _("Enter text.")})
    if "\x00" in text:
        raise ValidationError({field: _("The text contains characters that are not allowed.")})
    if len(text) > limit:
        raise ValidationError(
            {
                field: _("At most %(limit)s characters (now %(n)s).")
                % {"limit": limit, "n": len(text)}
            }
        )
    return text
