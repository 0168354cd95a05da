import pytest

from common.errors import ApplicationError
from common.models import AuditEntry
from shelters import services
from shelters.models import CheckIn, ShelterStatus, ShelterStatusChange, Stay, StayMode
from tests.factories import EvacueeFactory, HouseholdFactory, ShelterFactory

pytestmark = pytest.mark.django_db


def open_stays(shelter):
    return Stay.objects.filter(shelter=shelter, checked_out_at__isnull=True)


def test_it_checks_a_whole_household_in_with_one_action(shelter_a, manager_a):
    household = HouseholdFactory(members=3)
    ids = list(household.members.values_list("id", flat=True))

    result = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=ids, actor=manager_a)

    shelter_a.refresh_from_db()
    assert len(result.stays) == 3
    assert shelter_a.occupancy == 3 == open_stays(shelter_a).count()
    assert CheckIn.objects.count() == 1
    assert AuditEntry.objects.filter(action="stay.check_in", actor=manager_a).count() == 1


def test_it_refuses_a_person_who_already_has_an_open_stay(shelter_a, shelter_b, hq):
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    with pytest.raises(ApplicationError) as error:
        services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[person.pk], actor=hq)

    assert error.value.code == "already_checked_in"
    assert shelter_a.name in str(error.value.message)
    shelter_b.refresh_from_db()
    assert shelter_b.occupancy == 0


def test_a_household_with_one_member_already_in_a_shelter_is_refused_whole(shelter_a, shelter_b, hq):
    household = HouseholdFactory(members=3)
    first, *others = household.members.order_by("id")
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[first.pk], actor=hq)

    with pytest.raises(ApplicationError):
        services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[first.pk, *[o.pk for o in others]], actor=hq)

    assert not open_stays(shelter_b).exists()


def test_a_retried_check_in_with_the_same_key_returns_the_first_stays(shelter_a, hq):
    person = EvacueeFactory()
    first = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq, idempotency_key="k-1")
    second = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq, idempotency_key="k-1")

    assert second.replayed and not first.replayed
    assert [s.pk for s in second.stays] == [s.pk for s in first.stays]
    shelter_a.refresh_from_db()
    assert shelter_a.occupancy == 1


def test_an_idempotency_key_reused_for_other_people_is_refused(shelter_a, hq):
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq, idempotency_key="k")

    with pytest.raises(ApplicationError) as error:
        services.stay_check_in(
            shelter_id=shelter_a.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq, idempotency_key="k"
        )

    assert error.value.code == "idempotency_key_reused"


@pytest.mark.parametrize("status", [ShelterStatus.CLOSED, ShelterStatus.STANDBY])
def test_check_in_to_a_shelter_that_is_not_open_is_refused_with_a_clear_message(status, hq):
    shelter = ShelterFactory(status=status)

    with pytest.raises(ApplicationError) as error:
        services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq)

    assert error.value.code == "shelter_not_open"
    assert shelter.name in str(error.value.message)
    assert not Stay.objects.exists()


def test_reaching_capacity_makes_the_shelter_full_and_over_capacity_is_still_accepted(hq):
    shelter = ShelterFactory(capacity=2)
    people = EvacueeFactory.create_batch(3)

    services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[p.pk for p in people[:2]], actor=hq)
    shelter.refresh_from_db()
    assert shelter.status == ShelterStatus.FULL
    assert ShelterStatusChange.objects.get(shelter=shelter, to_status=ShelterStatus.FULL).automatic

    services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[people[2].pk], actor=hq)
    shelter.refresh_from_db()
    assert shelter.occupancy == 3
    assert shelter.status == ShelterStatus.FULL


def test_checking_out_below_capacity_reopens_a_shelter_that_filled_up_by_itself(hq):
    shelter = ShelterFactory(capacity=1)
    result = services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq)

    services.stay_check_out(stay_id=result.stays[0].pk, actor=hq, destination="home")

    shelter.refresh_from_db()
    assert (shelter.status, shelter.occupancy) == (ShelterStatus.OPEN, 0)


def test_a_shelter_declared_full_by_hand_stays_full_after_check_outs(hq):
    shelter = ShelterFactory(capacity=10)
    result = services.stay_check_in(shelter_id=shelter.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq)
    services.shelter_status_change(shelter_id=shelter.pk, to_status=ShelterStatus.FULL, actor=hq, reason="水不足")

    services.stay_check_out(stay_id=result.stays[0].pk, actor=hq, destination="home")

    shelter.refresh_from_db()
    assert shelter.status == ShelterStatus.FULL


def test_people_outside_the_shelter_are_counted_apart_from_those_inside(shelter_a, hq):
    inside, in_car = EvacueeFactory.create_batch(2)
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[inside.pk], actor=hq)
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[in_car.pk], actor=hq, mode=StayMode.IN_CAR)

    shelter_a.refresh_from_db()
    assert (shelter_a.occupancy, shelter_a.outside_count) == (1, 1)


def test_check_out_records_the_destination_and_keeps_the_history(shelter_a, hq):
    person = EvacueeFactory()
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq).stays[0]

    services.stay_check_out(stay_id=stay.pk, actor=hq, destination="hospital")
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq)

    stays = list(person.stays.order_by("id"))
    assert [(s.destination, s.checked_out_at is None) for s in stays] == [("hospital", False), ("", True)]
    shelter_a.refresh_from_db()
    assert shelter_a.occupancy == 1


def test_checking_out_twice_is_refused(shelter_a, hq):
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq).stays[0]
    services.stay_check_out(stay_id=stay.pk, actor=hq, destination="home")

    with pytest.raises(ApplicationError) as error:
        services.stay_check_out(stay_id=stay.pk, actor=hq, destination="home")

    assert error.value.code == "already_checked_out"
    shelter_a.refresh_from_db()
    assert shelter_a.occupancy == 0


def test_a_transfer_moves_the_person_and_both_occupancies_in_one_step(shelter_a, shelter_b, hq):
    person = EvacueeFactory()
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=hq).stays[0]

    new_stay = services.stay_transfer(stay_id=stay.pk, to_shelter_id=shelter_b.pk, actor=hq)

    stay.refresh_from_db()
    shelter_a.refresh_from_db()
    shelter_b.refresh_from_db()
    assert (stay.destination, stay.destination_shelter_id) == ("other_shelter", shelter_b.pk)
    assert new_stay.shelter_id == shelter_b.pk and new_stay.is_open
    assert (shelter_a.occupancy, shelter_b.occupancy) == (0, 1)


def test_a_transfer_to_a_closed_shelter_changes_nothing(shelter_a, hq):
    closed = ShelterFactory(status=ShelterStatus.CLOSED)
    stay = services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[EvacueeFactory().pk], actor=hq).stays[0]

    with pytest.raises(ApplicationError):
        services.stay_transfer(stay_id=stay.pk, to_shelter_id=closed.pk, actor=hq)

    stay.refresh_from_db()
    assert stay.is_open


def test_status_changes_are_logged_with_who_when_and_why_and_set_opened_and_closed_times(hq):
    shelter = ShelterFactory(status=ShelterStatus.STANDBY, opened_at=None)

    services.shelter_status_change(shelter_id=shelter.pk, to_status="open", actor=hq, reason="震度6弱")
    services.shelter_status_change(shelter_id=shelter.pk, to_status="closed", actor=hq, reason="避難者ゼロ")

    shelter.refresh_from_db()
    changes = list(
        shelter.status_changes.order_by("id").values_list("from_status", "to_status", "changed_by", "reason")
    )
    assert changes == [("standby", "open", hq.pk, "震度6弱"), ("open", "closed", hq.pk, "避難者ゼロ")]
    assert shelter.opened_at and shelter.closed_at and shelter.closed_at >= shelter.opened_at


def test_an_impossible_status_change_is_refused(hq):
    shelter = ShelterFactory(status=ShelterStatus.STANDBY)

    with pytest.raises(ApplicationError) as error:
        services.shelter_status_change(shelter_id=shelter.pk, to_status="full", actor=hq)

    assert error.value.field == "status"


def test_walk_in_registration_makes_a_household_with_its_representative_and_checks_it_in(shelter_a, manager_a):
    members = [
        services.PersonData(name="会津 花子", name_kana="アイヅ ハナコ", support_needs={"wheelchair": "電動"}),
        services.PersonData(name="会津 一郎", name_kana="アイヅ イチロウ"),
    ]

    result = services.walk_in_register_and_check_in(
        shelter_id=shelter_a.pk, members=members, actor=manager_a, idempotency_key="walk-1"
    )
    again = services.walk_in_register_and_check_in(
        shelter_id=shelter_a.pk, members=members, actor=manager_a, idempotency_key="walk-1"
    )

    household = result.stays[0].evacuee.household
    assert household.representative.name == "会津 花子"
    assert household.members.count() == 2
    assert again.replayed and household.members.count() == 2
    assert household.representative.support_needs.get().notes == "電動"


def test_a_walk_in_with_an_unknown_support_need_registers_nobody(shelter_a, manager_a):
    members = [services.PersonData(name="会津 花子"), services.PersonData(name="会津 次郎", support_needs={"x": ""})]

    with pytest.raises(ApplicationError) as error:
        services.walk_in_register_and_check_in(shelter_id=shelter_a.pk, members=members, actor=manager_a)

    assert error.value.field == "members[1].support_needs"
    assert not Stay.objects.exists()
