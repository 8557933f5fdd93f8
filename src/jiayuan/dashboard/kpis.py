"""The service KPIs the dashboards measure, named once: the dashboard computes them, and an
improvement action (supervision) names the one it means to move."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Kpi(models.TextChoices):
    VOLUME = "volume", _("Requests received")
    ACCEPT_ON_TIME = "accept_on_time", _("Accepted on time")
    RESPONSE_ON_TIME = "response_on_time", _("First response on time")
    ARRIVAL_ON_TIME = "arrival_on_time", _("Arrival on time")
    RESOLUTION_ON_TIME = "resolution_on_time", _("Resolved on time")
    FIRST_RESPONSE_TIME = "first_response_time", _("First-response time")
    ARRIVAL_TIME = "arrival_time", _("Arrival time")
    RESOLUTION_TIME = "resolution_time", _("Resolution time")
    RESOLUTION_RATE = "resolution_rate", _("Resolution rate")
    FIRST_CONTACT_RESOLUTION = "first_contact_resolution", _("First-contact resolution")
    FIRST_TIME_FIX = "first_time_fix", _("First-time fix")
    REOPEN_RATE = "reopen_rate", _("Reopen rate")
    REPEAT_COMPLAINTS = "repeat_complaints", _("Repeat complaints")
    SATISFACTION = "satisfaction", _("Average rating")
    CSI = "csi", _("Customer satisfaction index (CSI)")
