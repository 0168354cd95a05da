"""The consent matrix: every category x recipient x context x basis, decided by `consent.rules.decide`,
and the same through the access layer with real rows (a manager and HQ reading a resident).

The expected outcome is written from the rule as the issue states it, not computed by `decide`:
1. consent given -> the read has the basis "consent";
2. a release in a disaster covering the person, the category and the recipient -> the release,
   unless the person refused and the rule does not override a refusal (life protection);
3. refused -> withheld, "refused";
4. not asked and a standing rule (shelter operation) enabled for the cell -> that rule;
5. otherwise withheld, "not_asked".
"""

import pytest
from django.conf import settings as django_settings

from access import consent as access_consent
from access import people
from access.models import PersonalDataAccess
from consent import rules
from consent.rules import Category, Context, Recipient, ReleaseScope
from tests.consent import helpers

CATEGORIES = Category.values
RECIPIENTS = Recipient.values
CONTEXTS = Context.values

# Bases: (name, decision, standing rules on, release rule or None, release covers the person)
BASES = [
    ("given", "given", True, None, True),
    ("given-standing-off", "given", False, None, True),
    ("refused", "refused", True, None, True),
    ("refused-standing-off", "refused", False, None, True),
    ("not-asked", None, True, None, True),
    ("not-asked-standing-off", None, False, None, True),
    ("life-release-not-asked", None, False, rules.LIFE_PROTECTION.code, True),
    ("life-release-refused", "refused", True, rules.LIFE_PROTECTION.code, True),
    ("life-release-not-covering", None, False, rules.LIFE_PROTECTION.code, False),
    ("roster-release-not-asked", None, False, rules.ROSTER_RELEASE.code, True),
    ("roster-release-refused", "refused", True, rules.ROSTER_RELEASE.code, True),
    ("roster-release-not-covering-refused", "refused", True, rules.ROSTER_RELEASE.code, False),
]

# The cells of the standing rule, written out: shelter operation lets shelter staff, HQ and health
# staff use what the shelter collects, in both contexts, except location.
STANDING_CELLS = {
    (category, recipient)
    for category in ("basic", "contact", "household", "support", "stays", "survey")
    for recipient in ("shelter_staff", "hq", "health")
}
# What each rule lets a release cover, written out from the statutes.
RELEASE_CELLS = {
    "life_protection": {
        (category, recipient)
        for category in ("basic", "contact", "support", "location")
        for recipient in ("shelter_staff", "hq", "health", "supporters", "family")
    },
    "roster_disaster_release": {
        (category, recipient)
        for category in ("basic", "contact", "support")
        for recipient in ("supporters", "shelter_staff", "hq")
    },
}
OVERRIDES_REFUSAL = {"life_protection": False, "roster_disaster_release": True}


def expected(category, recipient, context, basis) -> str:
    """'consent', a rule's code, 'refused' or 'not_asked'."""
    _name, decision, standing_on, release_rule, covers = basis
    if decision == "given":
        return "consent"
    if (
        release_rule
        and covers
        and context == "disaster"
        and (category, recipient) in RELEASE_CELLS[release_rule]
        and (decision is None or OVERRIDES_REFUSAL[release_rule])
    ):
        return release_rule
    if decision == "refused":
        return "refused"
    if standing_on and (category, recipient) in STANDING_CELLS:
        return "shelter_operation"
    return "not_asked"


def outcome_code(outcome) -> str:
    return outcome.reason if isinstance(outcome, rules.Withheld) else outcome.code


def test_the_written_out_cells_are_the_rules():
    """The test's own table and the rules module say the same (so the matrix tests the rules)."""
    assert {(c, r) for c in rules.SHELTER_OPERATION.categories for r in rules.SHELTER_OPERATION.recipients} == (
        STANDING_CELLS
    )
    for rule in (rules.LIFE_PROTECTION, rules.ROSTER_RELEASE):
        assert {(c, r) for c in rule.categories for r in rule.recipients} == RELEASE_CELLS[rule.code]
        assert rule.overrides_refusal is OVERRIDES_REFUSAL[rule.code]


@pytest.mark.parametrize("basis", BASES, ids=[b[0] for b in BASES])
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("recipient", RECIPIENTS)
@pytest.mark.parametrize("category", CATEGORIES)
def test_decide(category, recipient, context, basis):
    _name, decision, standing_on, release_rule, covers = basis
    releases = []
    if release_rule:
        rule = rules.LEGAL_RULES[release_rule]
        releases = [
            rules.ActiveRelease(
                id=7,
                rule=rule,
                categories=rule.categories,
                recipients=rule.recipients,
                scope=ReleaseScope.ROSTER,
                shelter_ids=frozenset(),
            )
        ]
    person = rules.Person(on_roster=covers, needs_support=False, shelter_id=1)
    outcome = rules.decide(
        category=category,
        recipient=recipient,
        context=context,
        decision=decision,
        person=person,
        releases=releases,
        standing=[rules.SHELTER_OPERATION] if standing_on else [],
    )
    assert outcome_code(outcome) == expected(category, recipient, context, basis)
    if isinstance(outcome, rules.Basis) and outcome.kind == "release":
        assert outcome.release_id == 7


def test_a_release_outside_its_shelters_or_scope_covers_nobody():
    rule = rules.ROSTER_RELEASE
    at_one = rules.ActiveRelease(
        id=1,
        rule=rule,
        categories=rule.categories,
        recipients=rule.recipients,
        scope="roster",
        shelter_ids=frozenset({1}),
    )
    support_needs = rules.ActiveRelease(
        id=2,
        rule=rule,
        categories=rule.categories,
        recipients=rule.recipients,
        scope="support_needs",
        shelter_ids=frozenset(),
    )
    elsewhere = rules.Person(on_roster=True, needs_support=False, shelter_id=2)
    needing = rules.Person(on_roster=False, needs_support=True, shelter_id=2)
    nobody = rules.Person(on_roster=False, needs_support=False, shelter_id=1)

    def code(person, release):
        return outcome_code(
            rules.decide(
                category="basic",
                recipient="supporters",
                context="disaster",
                decision="refused",
                person=person,
                releases=[release],
            )
        )

    assert code(elsewhere, at_one) == "refused"
    assert code(rules.Person(on_roster=True, needs_support=False, shelter_id=1), at_one) == "roster_disaster_release"
    assert code(needing, support_needs) == "roster_disaster_release"
    assert code(nobody, support_needs) == "refused"


# --- The same through the access layer, with real rows -------------------------------------------

READERS = {"shelter_staff": "manager_a", "hq": "hq"}
# What each person category blanks in the object a reader gets (access/consent.py).
FIELD_OF = {
    "basic": lambda person: person.name,
    "contact": lambda person: person.phone,
    "household": lambda person: person.household_id,
    "support": lambda person: [need.category.code for need in person.support_needs.all()],
}


def _set_up(request, settings, shelter, category, recipient, context, basis):
    _name, decision, standing_on, release_rule, covers = basis
    settings.CONSENT_STANDING_RULES = ["shelter_operation"] if standing_on else []
    hq = request.getfixturevalue("hq")
    reader = request.getfixturevalue(READERS[recipient])
    person = helpers.resident(shelter, on_roster=covers)
    if decision is not None:
        helpers.decide(person, category, recipient, context, decision)
    if context == "disaster":
        disaster = helpers.open_disaster(hq)
        if release_rule:
            helpers.release(hq, disaster, release_rule, scope=ReleaseScope.ROSTER)
    return reader, person


@pytest.mark.parametrize("basis", [b for b in BASES if b[3] is None], ids=[b[0] for b in BASES if b[3] is None])
@pytest.mark.parametrize("context", CONTEXTS)
@pytest.mark.parametrize("recipient", list(READERS))
@pytest.mark.parametrize("category", CATEGORIES)
def test_access_layer_without_releases(request, settings, shelter_a, category, recipient, context, basis):
    reader, person = _set_up(request, settings, shelter_a, category, recipient, context, basis)
    _check_through_access(reader, person, category, recipient, context, basis)


RELEASE_BASES = [b for b in BASES if b[3] is not None]


@pytest.mark.parametrize("basis", RELEASE_BASES, ids=[b[0] for b in RELEASE_BASES])
@pytest.mark.parametrize("recipient", list(READERS))
@pytest.mark.parametrize("category", CATEGORIES)
def test_access_layer_with_releases(request, settings, shelter_a, category, recipient, basis):
    reader, person = _set_up(request, settings, shelter_a, category, recipient, "disaster", basis)
    _check_through_access(reader, person, category, recipient, "disaster", basis)


def _check_through_access(reader, person, category, recipient, context, basis):
    want = expected(category, recipient, context, basis)
    allowed = want not in ("refused", "not_asked")
    assert access_consent.allows(reader, person, category) is allowed

    PersonalDataAccess.objects.all().delete()
    shown = people.access_evacuee_by_id(reader, person.pk, purpose="test.matrix")
    withheld = getattr(shown, "withheld", {})
    if category in access_consent.PERSON_CATEGORIES:
        assert (category in withheld) is not allowed
        if not allowed:
            assert withheld[category] == want
        if category in FIELD_OF:
            value = FIELD_OF[category](shown)
            real = FIELD_OF[category](type(person).objects.get(pk=person.pk))
            assert (value == real) is allowed, (value, real)
    read = PersonalDataAccess.objects.filter(evacuee=person).first()
    if read is not None:
        assert read.purpose == "test.matrix"
        assert read.role == reader.role
        if category == "basic" and allowed:
            assert read.basis == want
        if want in ("life_protection", "roster_disaster_release") and category in access_consent.PERSON_CATEGORIES:
            assert read.release_id is not None
            assert read.basis == want and category in read.categories.split(",")


def test_a_user_without_a_recipient_kind_has_no_basis_for_anything(shelter_a, official):
    person = helpers.resident(shelter_a)
    for category in CATEGORIES:
        assert access_consent.allows(official, person, category) is False


def test_settings_default_to_the_standing_rule_and_both_release_rules():
    assert django_settings.CONSENT_STANDING_RULES == ["shelter_operation"]
    assert sorted(django_settings.CONSENT_RELEASE_RULES) == ["life_protection", "roster_disaster_release"]
