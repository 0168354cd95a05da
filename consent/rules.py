"""The consent vocabulary and the one rule that decides a read: a pure module, no database.

A read of one category of a person's data by one recipient, in one context, has a basis or is
withheld (`decide`):

1. the person gave consent for that cell: basis "consent";
2. an active legal-basis release HQ declared covers the person, the category and the recipient, and
   its rule applies whatever the person decided (災害対策基本法 49-11(3)) or the person has not
   decided (the life-protection exception applies when consent cannot be obtained, not against a
   refusal): basis the release;
3. the person refused: withheld, "refused";
4. the person has not decided and a standing rule the deployment enables covers the cell (running
   the shelter they checked in to): basis that rule;
5. otherwise withheld, "no basis".

The categories, recipients and rules are what a resident reads on their page and in a consent
record, so each has a plain description in both languages.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.TextChoices):
    BASIC = "basic", _("Name, address, date of birth and sex")
    CONTACT = "contact", _("Contact details")
    HOUSEHOLD = "household", _("Household")
    SUPPORT = "support", _("Support needs and health")
    LOCATION = "location", _("Location")
    SURVEY = "survey", _("Survey answers")
    STAYS = "stays", _("Stay history")


class Recipient(models.TextChoices):
    SHELTER_STAFF = "shelter_staff", _("Shelter staff")
    HQ = "hq", _("Disaster headquarters")
    HEALTH = "health", _("City health staff (follow-up)")
    SUPPORTERS = "supporters", _("Evacuation supporters")
    FAMILY = "family", _("Family inquiries")


class Context(models.TextChoices):
    PEACETIME = "peacetime", _("Peacetime")
    DISASTER = "disaster", _("During a disaster")


class Decision(models.TextChoices):
    GIVEN = "given", _("Given")
    REFUSED = "refused", _("Refused")


NOT_ASKED = "not_asked"


class Timing(models.TextChoices):
    """When a resident wants to be asked (the pilot: 50% on new kinds of data, 40% once, 10% every time)."""

    NEW_DATA = "new_data", _("Each time a new kind of data is collected")
    ONCE = "once", _("Once")
    EVERY_TIME = "every_time", _("Every time")


class Method(models.TextChoices):
    """How a consent was collected, as a consent record states it."""

    DESK = "desk", _("At the shelter desk")
    OWN_DEVICE = "own_device", _("On the resident's own phone")
    RESIDENT_PAGE = "resident_page", _("On the resident's page")
    CITY_OS = "city_os", _("From the City OS opt-in settings")
    PHONE_SURVEY = "phone_survey", _("In the phone survey")


CATEGORY_PURPOSES = {
    Category.BASIC: _("To know who is in which shelter, check people in and out, and answer to the count."),
    Category.CONTACT: _("To reach you about supplies, your stay and your health."),
    Category.HOUSEHOLD: _("To check your family in together and keep them together."),
    Category.SUPPORT: _("To give you the care and supplies you need (要配慮個人情報)."),
    Category.LOCATION: _("To count people sheltering outside shelters by area, and to rescue you if you allow it."),
    Category.SURVEY: _("To follow up on your health and living conditions and to procure supplies."),
    Category.STAYS: _("To know where you have stayed, for supplies, support and certificates."),
}

RECIPIENT_DETAILS = {
    Recipient.SHELTER_STAFF: _("The managers and staff of the shelter you stay at."),
    Recipient.HQ: _("The city's disaster headquarters."),
    Recipient.HEALTH: _("The city's public health nurses and health staff, for follow-up."),
    Recipient.SUPPORTERS: _(
        "Fire service, police, 民生委員 (welfare commissioners), the social welfare council and "
        "自主防災組織 (neighbourhood disaster groups)."
    ),
    Recipient.FAMILY: _("Family members asking whether you are safe and where you are."),
}


@dataclass(frozen=True)
class LegalRule:
    code: str
    article: str
    summary: str
    categories: frozenset[str]
    recipients: frozenset[str]
    contexts: frozenset[str]
    # Applies against a refusal (only a statute that says "whatever the person's consent" does).
    overrides_refusal: bool = False
    # Standing rules apply by themselves when enabled; the others only through a release HQ declares.
    standing: bool = False


SHELTER_OPERATION = LegalRule(
    code="shelter_operation",
    article="個人情報保護法 第69条第1項 / 災害対策基本法 第86条の6",
    summary=_(
        "The city uses what you told the shelter to run it (your stay, your care, supplies), within "
        "its duties under the Disaster Countermeasures Basic Act, unless you refuse."
    ),
    categories=frozenset(
        {Category.BASIC, Category.CONTACT, Category.HOUSEHOLD, Category.SUPPORT, Category.STAYS, Category.SURVEY}
    ),
    recipients=frozenset({Recipient.SHELTER_STAFF, Recipient.HQ, Recipient.HEALTH}),
    contexts=frozenset(Context.values),
    standing=True,
)

LIFE_PROTECTION = LegalRule(
    code="life_protection",
    article="個人情報保護法 第69条第2項第4号 / 第27条第1項第2号",
    summary=_(
        "Needed to protect a person's life or body when their consent cannot be obtained; never against a refusal."
    ),
    categories=frozenset({Category.BASIC, Category.CONTACT, Category.SUPPORT, Category.LOCATION}),
    recipients=frozenset(Recipient.values),
    contexts=frozenset({Context.DISASTER}),
)

ROSTER_RELEASE = LegalRule(
    code="roster_disaster_release",
    article="災害対策基本法 第49条の11第3項",
    summary=_(
        "When a disaster strikes, the evacuation-support roster may be given to supporters to protect "
        "the lives of people on it, whatever their consent."
    ),
    categories=frozenset({Category.BASIC, Category.CONTACT, Category.SUPPORT}),
    recipients=frozenset({Recipient.SUPPORTERS, Recipient.SHELTER_STAFF, Recipient.HQ}),
    contexts=frozenset({Context.DISASTER}),
    overrides_refusal=True,
)

LEGAL_RULES = {rule.code: rule for rule in (SHELTER_OPERATION, LIFE_PROTECTION, ROSTER_RELEASE)}


class ReleaseScope(models.TextChoices):
    """Whom a release covers: people on the evacuation-support roster, or everyone with support needs."""

    ROSTER = "roster", _("People on the evacuation-support roster")
    SUPPORT_NEEDS = "support_needs", _("People needing support (要配慮者)")


@dataclass(frozen=True)
class ActiveRelease:
    """What `decide` needs of a release: declared, not revoked, not expired."""

    id: int
    rule: LegalRule
    categories: frozenset[str]
    recipients: frozenset[str]
    scope: str
    shelter_ids: frozenset[int]  # empty: every shelter

    def covers(self, person: "Person", category: str, recipient: str) -> bool:
        if category not in self.categories or recipient not in self.recipients:
            return False
        if self.shelter_ids and person.shelter_id not in self.shelter_ids:
            return False
        if self.scope == ReleaseScope.ROSTER:
            return person.on_roster
        return person.on_roster or person.needs_support


@dataclass(frozen=True)
class Person:
    """What the rule needs of a person: whether a release's scope covers them."""

    on_roster: bool
    needs_support: bool
    shelter_id: int | None


@dataclass(frozen=True)
class Basis:
    kind: str  # "consent", "legal" (a standing rule) or "release"
    rule: LegalRule | None = None
    release_id: int | None = None

    @property
    def code(self) -> str:
        return "consent" if self.rule is None else self.rule.code


@dataclass(frozen=True)
class Withheld:
    reason: str  # "refused" or NOT_ASKED


CONSENT = Basis("consent")


def decide(
    *,
    category: str,
    recipient: str,
    context: str,
    decision: str | None,
    person: Person,
    releases: Iterable[ActiveRelease] = (),
    standing: Iterable[LegalRule] = (),
) -> Basis | Withheld:
    """The basis for one read of one category, or why it is withheld (see the module's docstring)."""
    if decision == Decision.GIVEN:
        return CONSENT
    if context == Context.DISASTER:
        for release in releases:
            if release.covers(person, category, recipient) and (decision is None or release.rule.overrides_refusal):
                return Basis("release", rule=release.rule, release_id=release.id)
    if decision == Decision.REFUSED:
        return Withheld("refused")
    for rule in standing:
        if category in rule.categories and recipient in rule.recipients and context in rule.contexts:
            return Basis("legal", rule=rule)
    return Withheld(NOT_ASKED)


RULE_NAMES = {
    SHELTER_OPERATION.code: _("Running the shelter"),
    LIFE_PROTECTION.code: _("Protecting life (when consent cannot be obtained)"),
    ROSTER_RELEASE.code: _("Evacuation-support roster, disaster-time release"),
}
