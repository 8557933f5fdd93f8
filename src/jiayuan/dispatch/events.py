from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class DispatchEvent(AuditCode):
    PROFILE_SAVED = "dispatch.profile_saved", _("Technician profile saved")
    PROFILE_DELETED = "dispatch.profile_deleted", _("Technician profile deleted")
    RULE_SAVED = "dispatch.rule_saved", _("Dispatch mode saved")
    RULE_DELETED = "dispatch.rule_deleted", _("Dispatch mode deleted")
    OFFERED = "dispatch.offered", _("Order offered in the grab pool")
    GRABBED = "dispatch.grabbed", _("Order grabbed from the pool")
    OFFER_EXPIRED = (
        "dispatch.offer_expired",
        _("Nobody grabbed the order: dispatched automatically"),
    )
    AUTO_RUN = "dispatch.auto_run", _("Automatic dispatch ran")
