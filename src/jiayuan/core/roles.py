"""Staff roles and the groups of roles that rules refer to. One place for all of them."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    COMPANY_ADMIN = "company_admin", _("Company admin")
    ESTATE_MANAGER = "estate_manager", _("Estate manager")
    SERVICE_DESK = "service_desk", _("Service desk")
    DISPATCHER = "dispatcher", _("Dispatcher")
    TECHNICIAN = "technician", _("Technician")
    SECURITY = "security", _("Security")
    CLEANER = "cleaner", _("Cleaner")
    FINANCE = "finance", _("Finance")


ALL_STAFF = frozenset(Role)
MANAGERS = frozenset({Role.COMPANY_ADMIN, Role.ESTATE_MANAGER})
# Staff who talk to residents about money or requests need the full phone number;
# field staff see it masked.
PHONE_READERS = MANAGERS | {Role.SERVICE_DESK, Role.DISPATCHER, Role.FINANCE}
# Staff who work in the field and see only the work given to them or their team.
FIELD_STAFF = frozenset({Role.TECHNICIAN, Role.SECURITY, Role.CLEANER})
# Staff who look after the register of residents.
RESIDENT_KEEPERS = MANAGERS | {Role.SERVICE_DESK}
