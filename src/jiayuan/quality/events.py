from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class QualityEvent(AuditCode):
    TEMPLATE_CREATED = "quality.template_created", _("Survey template created")
    TEMPLATE_CHANGED = "quality.template_changed", _("Survey template changed")
    TEMPLATE_COPIED = "quality.template_copied", _("Survey template copied")
    TEMPLATE_DELETED = "quality.template_deleted", _("Survey template deleted")
    CAMPAIGN_CREATED = "quality.campaign_created", _("Survey campaign created")
    CAMPAIGN_LAUNCHED = "quality.campaign_launched", _("Survey campaign launched")
    CAMPAIGN_CLOSED = "quality.campaign_closed", _("Survey campaign closed")
    CAMPAIGN_REMINDED = "quality.campaign_reminded", _("Survey reminder sent")
    ANSWER_SUBMITTED = "quality.answer_submitted", _("Survey answered")
    FOLLOW_UP_OPENED = "quality.follow_up_opened", _("Low-score follow-up opened")
    FOLLOW_UP_DONE = "quality.follow_up_done", _("Low-score follow-up done")
    SETTINGS_SAVED = "quality.settings_saved", _("Satisfaction settings saved")
