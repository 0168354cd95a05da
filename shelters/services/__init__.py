"""Every write in the shelters app goes through a function exported here."""

from shelters.services.catalogue import facility_delete, facility_save, support_category_save
from shelters.services.city_os import (
    CityOSCheckIn,
    ScanOutcome,
    city_os_check_in,
    city_os_person_upsert,
    city_os_scan_record,
)
from shelters.services.disasters import disaster_close, disaster_declare
from shelters.services.registry import ImportSummary, shelter_create, shelter_registry_import, shelter_update
from shelters.services.stay_keys import (
    StayChangeResult,
    stay_changed_by_key,
    stay_check_out_once,
    stay_transfer_once,
)
from shelters.services.stays import (
    STATUS_TRANSITIONS,
    CheckInResult,
    PersonData,
    automatic_full_apply,
    evacuee_register,
    evacuee_update,
    household_register,
    household_set_members,
    shelter_counts_recount,
    shelter_status_change,
    shelters_lock,
    stay_check_in,
    stay_check_out,
    stay_transfer,
    walk_in_register_and_check_in,
)
from shelters.services.users import user_create, user_password_set, user_roles_update, user_update

__all__ = [
    "STATUS_TRANSITIONS",
    "CheckInResult",
    "CityOSCheckIn",
    "ImportSummary",
    "PersonData",
    "ScanOutcome",
    "StayChangeResult",
    "automatic_full_apply",
    "city_os_check_in",
    "city_os_person_upsert",
    "city_os_scan_record",
    "disaster_close",
    "disaster_declare",
    "evacuee_register",
    "evacuee_update",
    "facility_delete",
    "facility_save",
    "household_register",
    "household_set_members",
    "shelter_counts_recount",
    "shelter_create",
    "shelter_registry_import",
    "shelter_status_change",
    "shelter_update",
    "shelters_lock",
    "stay_changed_by_key",
    "stay_check_in",
    "stay_check_out",
    "stay_check_out_once",
    "stay_transfer",
    "stay_transfer_once",
    "support_category_save",
    "user_create",
    "user_password_set",
    "user_roles_update",
    "user_update",
    "walk_in_register_and_check_in",
]
