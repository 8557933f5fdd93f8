from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class CommsEvent(AuditCode):
    NOTIFICATIONS_READ = "comms.notifications_read", _("Notifications marked read")
