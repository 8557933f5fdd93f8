from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class DashboardEvent(AuditCode):
    EXPORTED = "dashboard.exported", _("Dashboard data exported")
    ROLLUPS_REBUILT = "dashboard.rollups_rebuilt", _("Dashboard figures rebuilt")
