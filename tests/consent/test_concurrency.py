"""Consent changes under real concurrency: separate threads, separate PostgreSQL connections.

PostgreSQL only (CI points DATABASE_URL at it): SQLite serialises every writer, so it cannot show
that the subject's row lock orders two changes to one ledger.
"""

import pytest
from django.conf import settings

from common.errors import ApplicationError
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject, LegalRelease
from consent.rules import Method
from consent.services import Change, consents_record, release_declare
from shelters import services
from tests.concurrency import run_together

pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    pytest.mark.skipif(
        "postgresql" not in settings.DATABASES["default"]["ENGINE"], reason="needs PostgreSQL (DATABASE_URL)"
    ),
]

SUBJECT = "cityos:CONCURRENT-0001"


def record(decision):
    return lambda: consents_record(
        subject=SUBJECT,
        changes=[Change("basic", "shelter_staff", "disaster", decision)],
        method=Method.RESIDENT_PAGE,
    )


@pytest.mark.parametrize("existing", [False, True], ids=["new-subject", "known-subject"])
def test_two_changes_to_one_ledger_at_once_both_land_in_order(existing):
    if existing:
        consents_record(subject=SUBJECT, changes=[Change("contact", "hq", "disaster", "given")], method=Method.DESK)

    results = run_together(record("refused"), record("given"))

    assert all(isinstance(result, ConsentRecord) for result in results), results
    first, second = sorted(results, key=lambda r: r.pk)
    assert first.changes[0]["was"] == "not_asked"
    assert second.changes[0]["was"] == first.changes[0]["decision"]
    assert ConsentSubject.objects.filter(key=SUBJECT).count() == 1
    decision = ConsentDecision.objects.get(subject=SUBJECT, category="basic")
    assert (decision.decision, decision.record_id) == (second.changes[0]["decision"], second.pk)


def test_many_changes_to_one_ledger_at_once_chain_their_was_values():
    decisions = ["refused", "given"] * 3
    results = run_together(*[record(d) for d in decisions])
    landed = sorted((r for r in results if isinstance(r, ConsentRecord)), key=lambda r: r.pk)
    # Some may change nothing (the cell already had that decision) and return None.
    assert all(r is None or isinstance(r, ConsentRecord) for r in results), results
    was = "not_asked"
    for receipt in landed:
        assert receipt.changes[0]["was"] == was
        was = receipt.changes[0]["decision"]
    assert ConsentDecision.objects.get(subject=SUBJECT, category="basic").decision == was


def test_a_release_declared_while_its_disaster_closes_does_not_outlive_it(hq):
    disaster = services.disaster_declare(name="同時", actor=hq)

    def declare():
        return release_declare(
            disaster_id=disaster.pk,
            rule="roster_disaster_release",
            categories=["basic"],
            recipients=["supporters"],
            scope="roster",
            reason="r",
            hours=1,
            actor=hq,
        )

    results = run_together(declare, lambda: services.disaster_close(disaster_id=disaster.pk, actor=hq))
    if isinstance(results[0], ApplicationError):
        assert results[0].field == "disaster" and not LegalRelease.objects.exists()
    else:
        # Declared first, under the disaster's lock; the close came after and ends it.
        assert LegalRelease.objects.get().declared_at <= type(disaster).objects.get(pk=disaster.pk).closed_at
