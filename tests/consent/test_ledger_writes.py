"""Saving a resident's answers costs the same statements for one cell as for their whole ledger
(the /me/ grid saves up to 70 at once), and leaves exactly the answers given."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.models import ConsentDecision
from consent.rules import NOT_ASKED, Category, Context, Method, Recipient
from consent.services import Change, consents_record

pytestmark = pytest.mark.django_db

CELLS = [(c, r, x) for c in Category.values for r in Recipient.values for x in Context.values]


def saved(subject: str, decisions: dict) -> int:
    changes = [Change(*cell, decision) for cell, decision in decisions.items()]
    with CaptureQueriesContext(connection) as captured:
        consents_record(subject=subject, changes=changes, method=Method.RESIDENT_PAGE)
    return len(captured)


def ledger(subject: str) -> dict:
    return {(d.category, d.recipient, d.context): d.decision for d in ConsentDecision.objects.filter(subject=subject)}


def test_one_cell_and_the_whole_ledger_cost_the_same_statements():
    # New cells; then every kind of change at once: given -> refused, refused -> taken back, new cells.
    first = dict.fromkeys(CELLS[:1], "given")
    whole = {cell: ("given" if i % 2 else "refused") for i, cell in enumerate(CELLS)}
    assert saved("cityos:ONE", first) == saved("cityos:ALL", whole)

    mixed = dict.fromkeys(CELLS[:1], "refused") | dict.fromkeys(CELLS[1:2], "given")
    wholesale = {cell: ("refused" if i % 2 else NOT_ASKED) for i, cell in enumerate(CELLS)}
    wholesale |= dict.fromkeys(CELLS[1:2], "given")
    assert saved("cityos:ONE", mixed | {CELLS[3]: "given"}) == saved("cityos:ALL", wholesale | {CELLS[3]: "given"})

    assert ledger("cityos:ALL") == {cell: d for cell, d in wholesale.items() if d != NOT_ASKED} | {CELLS[3]: "given"}


def test_subjects_read_backwards_give_the_people_they_key():
    from types import SimpleNamespace

    from consent.models import people_of_subjects, subject_of

    walk_in = SimpleNamespace(pk=41, city_os_id=None)
    resident = SimpleNamespace(pk=42, city_os_id="AIZU-0001")
    subjects = [subject_of(walk_in), subject_of(resident), "person:not-a-number", "other:1"]

    assert people_of_subjects(subjects) == (["AIZU-0001"], [41])
