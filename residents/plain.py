"""What a record of reads means, in words a resident understands: the purpose, the reader's role
and the basis. Never the reader's account."""

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from access.residents import RESIDENT_ROLE
from common.roles import Role
from consent.rules import LEGAL_RULES

# The purpose codes access/ records (page.*, api.*, socket.*, task.*), as a resident reads them.
PURPOSES = {
    "page.evacuee_detail": _("Opened your record to see your details"),
    "page.residents": _("Looked at the list of people staying at the shelter"),
    "page.desk_search": _("Searched for you at the check-in desk"),
    "page.desk_check_in": _("Checked you in at the desk"),
    "page.desk_ask": _("Asked for your consent at the desk"),
    "page.check_out": _("Checked you out"),
    "page.transfer": _("Moved you to another shelter"),
    "page.survey_slip": _("Printed your survey slip"),
    "page.survey_proxy": _("Entered your survey answers for you"),
    "page.follow_up_list": _("Looked at the list of people to follow up on"),
    "page.follow_up_detail": _("Opened your follow-up to care for you"),
    "page.shelter_dashboard": _("Looked at the shelter's dashboard (people needing support)"),
    "page.shelter_supplies": _("Looked at the shelter's supply requests"),
    "page.corrections": _("Handled your request for a correction"),
    "page.legal_hold": _("Set or lifted a legal hold that keeps your data from being anonymised"),
    "page.me_household": _("A member of your household saw your name on their own page"),
    "api.evacuee_detail": _("Read your details (shelter system)"),
    "api.evacuee_list": _("Read the list of people (shelter system)"),
    "api.evacuee_search": _("Searched for you (shelter system)"),
    "api.evacuee_update": _("Updated your details"),
    "api.residents": _("Read the list of people staying at the shelter (shelter system)"),
    "api.stay_list": _("Read the list of stays (shelter system)"),
    "api.stay_detail": _("Read your stay (shelter system)"),
    "api.stay_check_out": _("Checked you out (shelter system)"),
    "api.stay_transfer": _("Moved you to another shelter (shelter system)"),
    "api.check_in": _("Checked you in (shelter system)"),
    "api.desk_questions": _("Asked for your consent (shelter system)"),
    "api.household_list": _("Read the list of households (shelter system)"),
    "api.household_detail": _("Read your household (shelter system)"),
    "api.household_register": _("Registered your household"),
    "api.follow_up_list": _("Read the follow-up list (shelter system)"),
    "api.follow_up_detail": _("Read your follow-up (shelter system)"),
    "api.follow_up_change_state": _("Updated your follow-up"),
    "api.supply_request_list": _("Read supply requests (shelter system)"),
    "api.supply_request_detail": _("Read a supply request for you (shelter system)"),
    "api.supply_request_create": _("Requested supplies for you"),
    "api.supply_request_cancel": _("Cancelled a supply request for you"),
    "socket.support_list": _("The shelter's live list of people needing support"),
    "socket.follow_up_list": _("The shelter's live follow-up list"),
    "socket.shelter_snapshot": _("The shelter's live dashboard"),
    "task.promised_at": _("Planning a supply delivery for you"),
}
UNKNOWN_PURPOSE = _("Used your data in the shelter system")

ROLES = {
    Role.MANAGER: pgettext_lazy("who read", "Shelter manager"),
    Role.HQ: pgettext_lazy("who read", "Disaster headquarters"),
    Role.ADMIN: pgettext_lazy("who read", "System administrator (city)"),
    Role.OFFICIAL: pgettext_lazy("who read", "City official"),
    RESIDENT_ROLE: pgettext_lazy("who read", "A member of your household"),
}
UNKNOWN_ROLE = _("The city's shelter system")


def purpose_phrase(code: str) -> str:
    return str(PURPOSES.get(code, UNKNOWN_PURPOSE))


def role_phrase(code: str) -> str:
    return str(ROLES.get(code, UNKNOWN_ROLE))


def basis_phrase(access) -> str:
    """Why the read was allowed: your consent, a legal rule's article, or an HQ release."""
    if access.basis == "consent":
        return str(_("Your consent"))
    if access.basis == "household":
        return str(_("You are registered in the same household"))
    release = access.release
    if release is not None:
        return str(
            _("Release for %(disaster)s under %(article)s")
            % {"disaster": release.disaster.name, "article": release.article}
        )
    rule = LEGAL_RULES.get(access.basis)
    if rule is not None:
        return f"{rule.article}"
    return str(_("Recorded before consent was checked"))
