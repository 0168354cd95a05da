"""access/residents.py: a resident's own data by their City OS ID, nobody else's, and nothing at all
for someone without one."""

import pytest

from access import residents as own
from access.errors import NotVisible
from access.models import PersonalDataAccess
from consent.rules import Method
from consent.services import Change, consents_record

pytestmark = pytest.mark.django_db


def test_each_function_answers_with_the_residents_own_rows_only(resident, other_resident, hq):
    for subject in ("cityos:AIZU-TEST-0001", "cityos:AIZU-TEST-0002"):
        consents_record(
            subject=subject, changes=[Change("basic", "hq", "peacetime", "given")], method=Method.DESK, collected_by=hq
        )
    PersonalDataAccess.objects.create(
        viewer=hq, evacuee=other_resident.person, purpose="page.evacuee_detail", at=other_resident.person.created_at
    )

    assert [p.pk for p in own.own_people(resident)] == [resident.person.pk]
    assert [r.subject for r in own.own_consent_records(resident)] == ["cityos:AIZU-TEST-0001"]
    assert own.own_accesses(resident) == []
    assert [a.evacuee_id for a in own.own_accesses(other_resident)] == [other_resident.person.pk]
    assert own.own_data(resident).consents.subject == "cityos:AIZU-TEST-0001"


def test_someone_elses_receipt_or_person_is_not_visible(resident, other_resident, hq):
    record = consents_record(
        subject="cityos:AIZU-TEST-0002", changes=[Change("basic", "hq", "peacetime", "given")], method=Method.DESK
    )

    with pytest.raises(NotVisible):
        own.own_consent_record(resident, record.receipt_id)
    with pytest.raises(NotVisible):
        own.own_person_by_id(resident, other_resident.person.pk)
    with pytest.raises(NotVisible):
        own.own_person_by_id(resident, "1 OR 1=1")


@pytest.mark.parametrize("function", [own.own_people, own.own_consents, own.own_accesses, own.own_data])
def test_nothing_for_a_user_without_a_city_os_id(function, manager_a, hq):
    for user in (manager_a, hq):
        with pytest.raises(NotVisible):
            function(user)
