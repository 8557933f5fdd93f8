from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class DeskEvent(AuditCode):
    CREATED = "servicedesk.created", _("Request submitted")
    ACCEPTED = "servicedesk.accept", _("Request accepted")
    DECLINED = "servicedesk.decline", _("Request declined")
    CANCELLED = "servicedesk.cancel", _("Request cancelled by the owner")
    CANCELLED_BY_DESK = "servicedesk.cancel_by_desk", _("Request cancelled by the desk")
    DISPATCHED = "servicedesk.dispatch", _("Request dispatched")
    TAKEN = "servicedesk.take", _("Order taken")
    ARRIVED = "servicedesk.arrive", _("Arrived on site")
    COMPLETED = "servicedesk.complete", _("Work completed")
    INVESTIGATING = "servicedesk.investigate", _("Investigation started")
    REPLIED = "servicedesk.reply", _("Reply given")
    TRANSFERRED = "servicedesk.transfer", _("Request transferred")
    RETURNED = "servicedesk.return", _("Order returned")
    HELD = "servicedesk.hold", _("Put on hold")
    RESUMED = "servicedesk.resume", _("Resumed")
    CONFIRMED = "servicedesk.confirm", _("Confirmed and closed")
    REOPENED = "servicedesk.reopen", _("Reopened: not resolved")
    REOPENED_AFTER_VISIT = "servicedesk.reopen_after_visit", _("Reopened after the return visit")
    AUTO_CLOSED = "servicedesk.auto_closed", _("Closed automatically")
    RATED = "servicedesk.rated", _("Rated by the owner")
    AUTO_RATED = "servicedesk.auto_rated", _("Rated automatically")
    PHOTOS_ADDED = "servicedesk.photos_added", _("Photos added")
    RECLASSIFIED = "servicedesk.reclassified", _("Kind, category or urgency changed")
    VISIT_PLANNED = "servicedesk.visit_planned", _("Return visit planned")
    VISIT_DONE = "servicedesk.visit_done", _("Return visit recorded")
    SETTINGS_UPDATED = "servicedesk.settings_updated", _("Service-desk settings changed")
    TEMPLATE_CREATED = "servicedesk.template_created", _("Reply template created")
    TEMPLATE_UPDATED = "servicedesk.template_updated", _("Reply template changed")
    TEMPLATE_DELETED = "servicedesk.template_deleted", _("Reply template deleted")
    INCIDENT_LINKED = "servicedesk.incident_linked", _("Joined an incident")
    INCIDENT_JOINED = "servicedesk.incident_joined", _("Another report joined this incident")
    INCIDENT_UNLINKED = "servicedesk.incident_unlinked", _("Taken out of an incident")
    INCIDENT_LEFT = "servicedesk.incident_left", _("A report was taken out of this incident")
    INCIDENT_PROGRESS = "servicedesk.incident_progress", _("Progress of the incident")
    INCIDENT_RESOLVED = "servicedesk.incident_resolved", _("Resolved with the incident")
    DUPLICATE_DISMISSED = "servicedesk.duplicate_dismissed", _("Not the same fault")


def event_of_action(action: str) -> DeskEvent:
    return DeskEvent(f"servicedesk.{action}")
