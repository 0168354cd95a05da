"""What the desk keeps of a walk-in when the resident answered the questions (consent/asking.py).

What is refused for the shelter's staff is not written at all, in the same transaction as the
registration and the check-in: a refused phone number is not saved, refused support needs and the
evacuation-support flag are not saved, a refused household is registered as separate people. The
basic items cannot be left out of a check-in (the shelter must count everyone inside), so a resident
who refuses them is checked in as a headcount: the name replaced by `HEADCOUNT_NAME`, the kana,
birth date, sex and address left empty; the City OS ID, if typed, is kept, because it is the key
of the resident's consent ledger (their refusal is recorded under it).
"""

from dataclasses import replace
from typing import TYPE_CHECKING

from consent.asking import DESK_CATEGORIES
from consent.rules import Category, Decision
from shelters.models import Sex

if TYPE_CHECKING:
    from shelters.services.stays import PersonData

# Stored as the name of a person who asked to be counted only; pages show it withheld anyway
# (the refusal is in the ledger), this is what the row holds.
HEADCOUNT_NAME = "氏名非公開"


def refused_categories(answers: dict[str, str], ledger: dict[str, str]) -> set[str]:
    """The categories refused to the shelter's staff: the answer given now, else the ledger's."""
    found = set()
    for category in DESK_CATEGORIES:
        decision = answers.get(category) or ledger.get(category)
        if decision == Decision.REFUSED:
            found.add(category)
    return found


def without_refused(person: "PersonData", refused: set[str]) -> "PersonData":
    """The person as the desk may write them: what was refused left out (household: by the caller)."""
    changes: dict = {}
    if Category.BASIC in refused:
        changes.update(name=HEADCOUNT_NAME, name_kana="", birth_date=None, sex=Sex.UNKNOWN, address="")
    if Category.CONTACT in refused:
        changes.update(phone="")
    if Category.SUPPORT in refused:
        changes.update(requires_evacuation_support=False, support_needs=None)
    return replace(person, **changes) if changes else person


def typed_categories(person: "PersonData") -> set[str]:
    """The categories the desk typed about the person (household: by the caller)."""
    found = {Category.BASIC}
    if person.phone.strip():
        found.add(Category.CONTACT)
    if person.support_needs or person.requires_evacuation_support:
        found.add(Category.SUPPORT)
    return found
