from django.contrib import admin

from jiayuan.accounts.models import ApiToken
from jiayuan.core.admin import OwnRowsAdmin
from jiayuan.core.admin_site import admin_site


@admin.register(ApiToken, site=admin_site)
class ApiTokenAdmin(OwnRowsAdmin):
    """Read-only, and the digest is never shown: only the public key id is."""

    list_display = (
        "name",
        "user",
        "key_id",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    search_fields = ("name", "key_id")
    fields = ("user", "name", "key_id", "created_at", "last_used_at", "expires_at", "revoked_at")
