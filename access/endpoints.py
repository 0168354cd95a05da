"""Every URL of the site, classified: personal-data endpoints with the access function they go
through, and the others with the reason they show no person.

tests/access/test_endpoints.py walks the URLconf and the OpenAPI schema and fails for a URL name
missing here (or listed here and gone), and probes each personal endpoint: an outsider persona is
refused, a permitted read leaves PersonalDataAccess rows. Adding a page or an endpoint therefore
means saying here which of the two it is.

Names are URL names as `reverse()` takes them (`shelters:evacuee`, `evacuee-detail`).
"""

from collections.abc import Callable
from dataclasses import dataclass

from access import follow_ups, people, residents, supply_requests, surveys


@dataclass(frozen=True)
class Personal:
    """Reaches personal data only through these access functions. `shows` False: it writes for
    people the caller may reach (refused for anyone else) but shows nothing of them, so it records
    no read."""

    through: tuple[Callable, ...]
    shows: bool = True


@dataclass(frozen=True)
class NotPersonal:
    """Shows no person; `reason` says why."""

    reason: str


PERSONAL: dict[str, Personal] = {
    # Pages
    "shelters:desk": Personal((people.evacuee_search, people.people_to_ask)),
    "shelters:desk_consent": Personal((people.people_to_ask,), shows=False),
    "shelters:desk_check_in": Personal((people.evacuees_for_check_in, people.evacuee_names)),
    "shelters:residents": Personal((people.shelter_residents,)),
    "shelters:check_out": Personal((people.access_stay_by_id,)),
    "shelters:transfer": Personal((people.access_stay_by_id,)),
    "shelters:evacuee": Personal((people.access_evacuee_by_id, people.evacuee_stay_history)),
    "shelters:legal_hold": Personal((people.access_evacuee_by_id,)),
    "surveys:slip": Personal((surveys.survey_slip_for,)),
    "surveys:proxy": Personal((surveys.proxy_respondents,)),
    "follow_ups:list": Personal((follow_ups.follow_ups_for_list,)),
    "follow_ups:detail": Personal((follow_ups.access_follow_up_by_id,)),
    "dashboard:shelter": Personal((people.support_list, follow_ups.shelter_follow_up_list)),
    "supply:shelter": Personal((people.shelter_residents, supply_requests.supply_requests_for_list)),
    # API
    "shelter-residents": Personal((people.shelter_residents,)),
    "evacuee-list": Personal((people.evacuees_for_list, people.evacuee_search)),
    "evacuee-detail": Personal((people.access_evacuee_by_id,)),
    "household-list": Personal((people.households_for_list, people.household_registered)),
    "household-detail": Personal((people.access_household_by_id,)),
    "stay-list": Personal((people.stays_for_list,)),
    "stay-detail": Personal((people.access_stay_by_id,)),
    "stay-check-out": Personal((people.stays_to_move,), shows=False),
    "stay-transfer": Personal((people.stays_to_move,), shows=False),
    "desk-questions": Personal((people.people_to_ask,)),
    "desk-answers": Personal((people.people_to_ask,), shows=False),
    "check-in-list": Personal((people.check_in_candidates, people.evacuees_for_check_in), shows=False),
    # Answers ids and figures only (shelters/api_batch.py): it writes for people, shows none of them.
    "batch-apply": Personal(
        (people.check_in_candidates, people.evacuees_for_check_in, people.stays_to_move), shows=False
    ),
    "supply-request-list": Personal((supply_requests.supply_requests_for_list, people.access_evacuee_by_id)),
    "supply-request-detail": Personal((supply_requests.access_supply_request_by_id,)),
    "supply-request-cancel": Personal((supply_requests.access_supply_request_by_id,)),
    "follow-up-list": Personal((follow_ups.follow_ups_for_list,)),
    "follow-up-detail": Personal((follow_ups.access_follow_up_by_id,)),
    "follow-up-change-state": Personal((follow_ups.access_follow_up_by_id,)),
    "residents:corrections": Personal((residents.correction_requests_for_list,)),
}


@dataclass(frozen=True)
class Own:
    """The signed-in resident's own data, found by their City OS ID through these access functions:
    nobody else's, whatever the URL says (tests/residents/ probe each as another resident)."""

    through: tuple[Callable, ...]


OWN: dict[str, Own] = {
    "me:index": Own((residents.own_data,)),
    "me:consents": Own((residents.own_consents,)),
    "me:records": Own((residents.own_consent_records,)),
    "me:receipt": Own((residents.own_consent_record,)),
    "me:accesses": Own((residents.own_accesses,)),
    "me:data_json": Own((residents.own_data, residents.own_accesses)),
    "me:data_csv": Own((residents.own_data, residents.own_accesses)),
    "me:correction": Own((residents.own_people, residents.own_person_by_id)),
}

SHELTER_FIGURES = "shelter registry and figures (counts only, see access.figures)"

NOT_PERSONAL: dict[str, NotPersonal] = {
    "home": NotPersonal("redirects to the user's desk or the shelter list"),
    "login": NotPersonal("the login form"),
    "healthz": NotPersonal("whether the database and Redis answer, and counts of dropped events"),
    "logout": NotPersonal("logs out"),
    "set_language": NotPersonal("sets the language cookie"),
    "shelters:list": NotPersonal(SHELTER_FIGURES),
    "shelters:detail": NotPersonal(SHELTER_FIGURES + " and its status history"),
    "shelters:desk_walk_in": NotPersonal("registers the people typed into the form; shows only a count"),
    "shelters:desk_city_os_check_in": NotPersonal(
        "registers and checks in the people the City OS shares for a QR code the desk scanned and confirmed "
        "(their names were on the desk page, from the City OS); answers with counts only"
    ),
    "dashboard:hq": NotPersonal("city figures for HQ and officials; no names"),
    "dashboard:history": NotPersonal("occupancy series: counts of stays per time bucket"),
    "survey_imports:list": NotPersonal("survey imports are anonymous answers; jobs are the uploader's own"),
    "survey_imports:detail": NotPersonal("an import job's progress and errors by line; answers are anonymous"),
    "survey_imports:progress": NotPersonal("an import job's progress as JSON"),
    "survey_imports:save_mapping": NotPersonal("saves a column mapping"),
    "surveys:poster": NotPersonal("the shelter's poster and QR code"),
    "surveys_public:answer": NotPersonal(
        "the public survey form; a token links answers to a person through access.surveys.respondent_for_token "
        "but nothing is ever shown back"
    ),
    "surveys_public:thanks": NotPersonal("a thank-you page"),
    "consent:ask_own_device": NotPersonal(
        "the desk's questions on the resident's phone: a signed token names only the ledger's subject; "
        "no personal data is shown, only the questions and the resident's own answers are written"
    ),
    "consent:ask_signed_in": NotPersonal("the same questions for a resident signed in with their City OS ID"),
    "reports:index": NotPersonal("survey reports from the anonymous day totals, small cells suppressed"),
    "reports:print": NotPersonal("the same reports, printable"),
    "reports:csv": NotPersonal("the same reports as CSV"),
    "supply:board": NotPersonal("supply tasks and stock: figures per shelter and item"),
    "supply-stock-adjust": NotPersonal("depot stock"),
    "supply-board-data": NotPersonal("supply tasks and stock: figures per shelter and item"),
    "shelter-list": NotPersonal(SHELTER_FIGURES),
    "shelter-detail": NotPersonal(SHELTER_FIGURES),
    "shelter-change-status": NotPersonal("changes a shelter's status"),
    "shelter-status-changes": NotPersonal("a shelter's status history"),
    "supply-task-list": NotPersonal("supply tasks: shelter, item, quantity and dates"),
    "supply-task-detail": NotPersonal("a supply task"),
    "supply-task-cancel": NotPersonal("a supply task"),
    "supply-task-deliver": NotPersonal("a supply task"),
    "supply-task-dispatch-task": NotPersonal("a supply task"),
    "supply-task-receive": NotPersonal("a supply task"),
    "security:lockouts": NotPersonal("login lockouts: staff usernames and client addresses, HQ only"),
    "security:lockout_clear": NotPersonal("lifts a login lockout"),
    "residents:correction_handle": NotPersonal(
        "HQ marks a correction request handled (access.residents.access_correction_request_by_id); shows no person"
    ),
    "cityos-shelter-list": NotPersonal(
        "our shelters' registry entries and live status for the City OS (its token); no person"
    ),
    "hq:disasters": NotPersonal("disasters: names and times, HQ only"),
    "hq:disaster_declare": NotPersonal("declares a disaster"),
    "hq:disaster_close": NotPersonal("closes a disaster"),
    "hq:releases": NotPersonal("legal-basis releases: rule, article, scope and period, and a count of people read"),
    "hq:release_declare": NotPersonal("declares a legal-basis release"),
    "hq:release_revoke": NotPersonal("revokes a legal-basis release"),
    "disaster-list": NotPersonal("disasters: names and times, HQ only"),
    "disaster-close": NotPersonal("closes a disaster"),
    "release-list": NotPersonal("legal-basis releases: rule, article, scope and period; no person"),
    "release-revoke": NotPersonal("revokes a legal-basis release"),
    "api-root": NotPersonal("the API's index of links"),
    "schema": NotPersonal("the OpenAPI schema"),
    "api-docs": NotPersonal("the API documentation page"),
    "cityos:sign_in": NotPersonal("sends the browser to the City OS to sign in (OpenID Connect)"),
    "cityos:callback": NotPersonal(
        "signs in the user whose city_os_id is the City OS subject, or makes a resident; shows no person"
    ),
}

# The Django admin is for superusers and is being routed through services by its own change;
# its URLs are many and generated, so they are exempt by namespace rather than listed one by one.
EXEMPT_NAMESPACES = {"admin": "the Django admin: superusers only (is_staff), see the ModelAdmins"}


def classification(url_name: str) -> Personal | Own | NotPersonal | None:
    return PERSONAL.get(url_name) or OWN.get(url_name) or NOT_PERSONAL.get(url_name)
