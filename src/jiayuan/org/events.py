from django.utils.translation import gettext_lazy as _

from jiayuan.core.models import AuditCode


class OrgEvent(AuditCode):
    COMPANY_CREATED = "org.company_created", _("Company created")
    ESTATE_CREATED = "org.estate_created", _("Estate created")
    ESTATE_UPDATED = "org.estate_updated", _("Estate updated")
    BUILDING_CREATED = "org.building_created", _("Building created")
    BUILDING_UPDATED = "org.building_updated", _("Building updated")
    BUILDING_DELETED = "org.building_deleted", _("Building deleted")
    UNIT_CREATED = "org.unit_created", _("Unit created")
    UNIT_UPDATED = "org.unit_updated", _("Unit updated")
    UNIT_DELETED = "org.unit_deleted", _("Unit deleted")
    COMMON_AREA_CREATED = "org.common_area_created", _("Common area created")
    COMMON_AREA_UPDATED = "org.common_area_updated", _("Common area updated")
    COMMON_AREA_DELETED = "org.common_area_deleted", _("Common area deleted")
    RESIDENT_CREATED = "org.resident_created", _("Resident registered")
    RESIDENT_UPDATED = "org.resident_updated", _("Resident updated")
    RESIDENT_PORTAL_OPENED = "org.resident_portal_opened", _("Owner portal account opened")
    RESIDENCY_STARTED = "org.residency_started", _("Resident linked to a unit")
    RESIDENCY_ENDED = "org.residency_ended", _("Resident moved out")
    STAFF_ADDED = "org.staff_added", _("Staff member added")
    MEMBERSHIP_GRANTED = "org.membership_granted", _("Role granted")
    MEMBERSHIP_REVOKED = "org.membership_revoked", _("Role revoked")
    TEAM_CREATED = "org.team_created", _("Team created")
    TEAM_UPDATED = "org.team_updated", _("Team updated")
    TEAM_MEMBER_ADDED = "org.team_member_added", _("Team member added")
    TEAM_MEMBER_REMOVED = "org.team_member_removed", _("Team member removed")
    IMPORT_COMMITTED = "org.import_committed", _("Spreadsheet imported")
    EXPORT_DOWNLOADED = "org.export_downloaded", _("List exported")
