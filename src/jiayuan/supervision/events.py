from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class SupervisionEvent(AuditCode):
    CHECKLIST_SAVED = "supervision.checklist_saved", _("Checklist saved")
    CHECKLIST_DEFAULTS = "supervision.checklist_defaults", _("Default checklists created")
    INSPECTION_STARTED = "supervision.inspection_started", _("Inspection started")
    INSPECTION_RECORDED = "supervision.inspection_recorded", _("Inspection results recorded")
    INSPECTION_SUBMITTED = "supervision.inspection_submitted", _("Inspection submitted")
    INSPECTION_DISCARDED = "supervision.inspection_discarded", _("Draft inspection discarded")
    ORDER_OPENED = "supervision.order_opened", _("Rectification order opened")
    ORDER_FIXED = "supervision.order_fixed", _("Rectification order marked fixed")
    ORDER_VERIFIED = "supervision.order_verified", _("Rectification order verified")
    ORDER_REJECTED = "supervision.order_rejected", _("Rectification fix rejected")
    ORDER_OVERDUE = "supervision.order_overdue", _("Rectification order overdue")
    EVALUATION_ADDED = "supervision.evaluation_added", _("Third-party evaluation added")
    ACTION_CREATED = "supervision.action_created", _("Improvement action created")
    ACTION_ADVANCED = "supervision.action_advanced", _("Improvement action moved on")
