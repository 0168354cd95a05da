"""Every write in the shelters app goes through a function exported here."""

from common.audit import audit_record
from shelters.services.registry import ImportSummary, shelter_registry_import
from shelters.services.stays import (
    STATUS_TRANSITIONS,
    CheckInResult,
    PersonData,
    evacuee_register,
    evacuee_update,
    household_register,
    household_set_members,
    shelter_status_change,
    stay_check_in,
    stay_check_out,
    stay_transfer,
    walk_in_register_and_check_in,
)

__all__ = [
    "STATUS_TRANSITIONS",
    "CheckInResult",
    "ImportSummary",
    "PersonData",
    "audit_record",
    "evacuee_register",
    "evacuee_update",
    "household_register",
    "household_set_members",
    "shelter_registry_import",
    "shelter_status_change",
    "stay_check_in",
    "stay_check_out",
    "stay_transfer",
    "walk_in_register_and_check_in",
]
