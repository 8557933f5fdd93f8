from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class TrainingEvent(AuditCode):
    COURSE_CREATED = "training.course_created", _("Training course created")
    COURSE_UPDATED = "training.course_updated", _("Training course changed")
    SESSION_CREATED = "training.session_created", _("Training session scheduled")
    SESSION_DELETED = "training.session_deleted", _("Training session cancelled")
    ATTENDANCE_RECORDED = "training.attendance_recorded", _("Training attendance recorded")
    CERTIFICATE_CREATED = "training.certificate_created", _("Certificate added")
    CERTIFICATE_UPDATED = "training.certificate_updated", _("Certificate changed")
    CERTIFICATE_WARNED = "training.certificate_warned", _("Certificate expiry warning sent")
    SETTINGS_UPDATED = "training.settings_updated", _("Training settings changed")
