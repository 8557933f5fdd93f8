from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class SlaEvent(AuditCode):
    CALENDAR_CREATED = "sla.calendar_created", _("Business calendar created")
    CALENDAR_UPDATED = "sla.calendar_updated", _("Business calendar changed")
    CALENDAR_DELETED = "sla.calendar_deleted", _("Business calendar deleted")
    WINDOWS_SET = "sla.windows_set", _("Working hours changed")
    DAY_ADDED = "sla.day_added", _("Holiday or make-up workday added")
    DAY_UPDATED = "sla.day_updated", _("Holiday or make-up workday changed")
    DAY_DELETED = "sla.day_deleted", _("Holiday or make-up workday deleted")
    SEEDED = "sla.seeded", _("Official holidays filled in")
    IMPORTED = "sla.imported", _("Calendar days imported")
    WARNED = "sla.warned", _("Deadline approaching: handler warned")
    ESCALATED = "sla.escalated", _("Deadline missed: escalated")
    POLICY_SAVED = "sla.policy_saved", _("SLA policy saved")
    POLICY_DELETED = "sla.policy_deleted", _("SLA policy deleted")
    CHAIN_SAVED = "sla.chain_saved", _("Escalation chain saved")
