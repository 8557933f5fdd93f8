from django.contrib import admin

from jiayuan.comms.models import Notification
from jiayuan.core.admin import OwnRowsAdmin
from jiayuan.core.admin_site import admin_site


@admin.register(Notification, site=admin_site)
class NotificationAdmin(OwnRowsAdmin):
    list_display = ("title", "recipient", "kind", "estate", "created_at", "read_at")
    list_filter = ("kind",)
    list_select_related = ("recipient", "estate")
    search_fields = ("title", "body")
    fields = (
        "recipient",
        "estate",
        "kind",
        "title",
        "body",
        "link",
        "created_at",
        "read_at",
        "emailed_at",
    )
