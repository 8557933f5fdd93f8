from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class AccountEvent(AuditCode):
    PASSWORD_CHANGED = "accounts.password_changed", _("Password changed")
    PASSWORD_RESET = "accounts.password_reset", _("Password reset by an admin")
    TOKEN_CREATED = "accounts.token_created", _("API token created")
    TOKEN_REVOKED = "accounts.token_revoked", _("API token revoked")
    SIGNED_IN = "accounts.signed_in", _("Signed in")
    SIGNED_OUT = "accounts.signed_out", _("Signed out")
    LANGUAGE_CHANGED = "accounts.language_changed", _("Language changed")
