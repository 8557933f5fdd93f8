"""The default request categories (the service desk's taxonomy); teams and technicians
declare their skills in these codes."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    PLUMBING = "plumbing", _("Plumbing")
    ELECTRICAL = "electrical", _("Electrical")
    ELEVATOR = "elevator", _("Elevator")
    DOORS_LOCKS = "doors_locks", _("Doors, windows and access control")
    HVAC = "hvac", _("Heating and air conditioning")
    GAS = "gas", _("Gas")
    FIRE_SAFETY = "fire_safety", _("Fire safety")
    CIVIL = "civil", _("Civil works")
    CLEANING = "cleaning", _("Cleaning and sanitation")
    GREENING = "greening", _("Greening")
    SECURITY = "security", _("Security and order")
    PARKING = "parking", _("Parking")
    NOISE_NEIGHBOR = "noise_neighbor", _("Neighbour noise")
    BILLING = "billing", _("Fees")
    OTHER = "other", _("Other")
