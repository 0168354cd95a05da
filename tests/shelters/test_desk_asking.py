"""The desk asks the resident (consent/asking.py) and never holds up the check-in on it."""

import re

import pytest
from django.urls import reverse

from common.errors import ApplicationError
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject, subject_of
from consent.rules import Method, Timing
from consent.services import Change, consents_record
from shelters import services
from shelters.models import Disaster, Evacuee, Stay, SupportNeed
from shelters.services.asking import HEADCOUNT_NAME
from tests.factories import EvacueeFactory, HouseholdFactory

pytestmark = pytest.mark.django_db


def walk_in(client, shelter, members, **answers):
    data = {
        "address": "会津若松市追手町1-1",
        "mode": "inside",
        "idempotency_key": "",
        "member-TOTAL_FORMS": str(len(members)),
        "member-INITIAL_FORMS": "0",
        "member-MIN_NUM_FORMS": "1",
        "member-MAX_NUM_FORMS": "20",
    }
    for index, member in enumerate(members):
        for field, value in {"sex": "unknown", **member}.items():
            data[f"member-{index}-{field}"] = value
    data.update({f"ask-{category}": value for category, value in answers.items()})
    return client.post(reverse("shelters:desk_walk_in", args=[shelter.pk]), data, follow=True)


def messages_of(response) -> str:
    return " ".join(str(m) for m in response.context["messages"])


def checked_in(shelter):
    return Stay.objects.filter(shelter=shelter, checked_out_at__isnull=True)


# --- A walk-in: the answers come with the form ----------------------------------------------------


def test_refused_support_needs_typed_at_the_desk_are_not_saved_and_the_desk_says_so(
    as_user, manager_a, shelter_a, support_categories
):
    response = walk_in(
        as_user(manager_a),
        shelter_a,
        [{"name": "磐梯 桜", "phone": "0242-11-2222", "support_needs": "infant", "requires_evacuation_support": "on"}],
        basic="given",
        contact="given",
        support="refused",
    )

    person = Evacuee.objects.get(name="磐梯 桜")
    assert checked_in(shelter_a).filter(evacuee=person).exists()
    assert not SupportNeed.objects.filter(evacuee=person).exists()
    assert person.requires_evacuation_support is False
    assert person.phone == "0242-11-2222"
    assert "支援が必要なこと" in messages_of(response) or "support needs" in messages_of(response)
    record = ConsentRecord.objects.get(subject=subject_of(person))
    assert record.method == Method.DESK and record.collected_by == manager_a
    assert {(c["category"], c["recipient"], c["decision"]) for c in record.changes} == {
        ("basic", "shelter_staff", "given"),
        ("basic", "hq", "given"),
        ("contact", "shelter_staff", "given"),
        ("contact", "hq", "given"),
        ("support", "shelter_staff", "refused"),
        ("support", "hq", "refused"),
    }


def test_a_refused_phone_number_is_not_saved(as_user, manager_a, shelter_a):
    walk_in(as_user(manager_a), shelter_a, [{"name": "磐梯 次郎", "phone": "0242-33-4444"}], contact="refused")

    assert Evacuee.objects.get(name="磐梯 次郎").phone == ""


def test_refusing_the_basic_items_checks_the_person_in_as_a_headcount(as_user, manager_a, shelter_a):
    response = walk_in(
        as_user(manager_a),
        shelter_a,
        [{"name": "秘密 花子", "name_kana": "ヒミツ", "birth_date": "1950-04-01"}],
        basic="refused",
    )

    assert not Evacuee.objects.filter(name="秘密 花子").exists()
    person = Evacuee.objects.get(name=HEADCOUNT_NAME)
    assert (person.name_kana, person.birth_date, person.address) == ("", None, "")
    assert checked_in(shelter_a).filter(evacuee=person).exists()
    shelter_a.refresh_from_db()
    assert shelter_a.occupancy == 1
    assert HEADCOUNT_NAME in messages_of(response)


def test_a_refused_household_registers_each_person_on_their_own(as_user, manager_a, shelter_a):
    walk_in(as_user(manager_a), shelter_a, [{"name": "喜多方 一"}, {"name": "喜多方 二"}], household="refused")

    assert list(Evacuee.objects.filter(name__startswith="喜多方").values_list("household", flat=True)) == [None, None]
    assert checked_in(shelter_a).count() == 2


def test_skipped_questions_leave_the_ledger_unchanged_and_the_check_in_done(as_user, manager_a, shelter_a):
    response = walk_in(
        as_user(manager_a),
        shelter_a,
        [{"name": "会津 一家", "phone": "0242-55-6666"}, {"name": "会津 二郎"}],
        basic="later",
    )

    assert checked_in(shelter_a).count() == 2
    assert not ConsentRecord.objects.exists() and not ConsentDecision.objects.exists()
    assert Evacuee.objects.get(name="会津 一家").phone == "0242-55-6666"
    # The desk offers the questions again, with the own-phone code, from its message.
    assert "?ask=" in messages_of(response)


def test_a_bad_answer_is_an_error_on_the_form_and_nothing_is_written(as_user, manager_a, shelter_a):
    response = walk_in(as_user(manager_a), shelter_a, [{"name": "会津 三郎"}], support="perhaps")

    assert response.status_code == 400
    assert not Evacuee.objects.exists() and not ConsentRecord.objects.exists()


def test_a_check_in_the_shelter_refuses_leaves_neither_the_person_nor_their_answers(manager_a, shelter_a):
    shelter_a.status = "closed"
    shelter_a.save()

    with pytest.raises(ApplicationError):
        services.walk_in_register_and_check_in(
            shelter_id=shelter_a.pk,
            members=[services.PersonData(name="会津 四郎")],
            actor=manager_a,
            consent_answers={"basic": "given"},
        )

    assert not Evacuee.objects.exists() and not ConsentRecord.objects.exists()


def test_a_city_os_resident_who_refused_support_before_has_it_left_out_without_being_asked_again(
    manager_a, shelter_a, support_categories
):
    consents_record(
        subject="cityos:AIZU-0001",
        changes=[Change("support", "shelter_staff", "peacetime", "refused")],
        method=Method.RESIDENT_PAGE,
    )

    result = services.walk_in_register_and_check_in(
        shelter_id=shelter_a.pk,
        members=[services.PersonData(name="会津 五郎", city_os_id="AIZU-0001", support_needs={"infant": ""})],
        actor=manager_a,
    )

    person = Evacuee.objects.get(city_os_id="AIZU-0001")
    assert not SupportNeed.objects.filter(evacuee=person).exists()
    assert result.not_recorded == {"support"}
    assert len(result.stays) == 1


# --- Someone already registered: checked in first, then asked -------------------------------------


def ask_panel(client, shelter, people):
    return client.get(reverse("shelters:desk", args=[shelter.pk]), {"ask": ",".join(str(p.pk) for p in people)})


def test_a_check_in_leads_to_the_questions_for_the_people_checked_in(as_user, manager_a, shelter_a):
    household = HouseholdFactory(members=2)
    people = list(household.members.order_by("id"))
    client = as_user(manager_a)

    response = client.post(
        reverse("shelters:desk_check_in", args=[shelter_a.pk]),
        {"evacuees": [p.pk for p in people], "mode": "inside", "q": people[0].walk_in_id},
    )

    assert checked_in(shelter_a).count() == 2
    assert response.status_code == 302 and response["Location"].endswith(f"?ask={people[0].pk},{people[1].pk}")
    panel = client.get(response["Location"])
    assert [entry["person"].pk for entry in panel.context["ask_panel"]] == [p.pk for p in people]
    html = panel.content.decode()
    assert f'name="ask-{people[0].pk}-support"' in html and "/consent/ask/" in html


@pytest.mark.parametrize(
    "timing,asked_again",
    [
        (Timing.EVERY_TIME, ["basic", "contact", "household", "support"]),
        (Timing.ONCE, []),
        (Timing.NEW_DATA, ["household", "support"]),
    ],
)
def test_the_desk_asks_by_the_residents_timing(timing, asked_again, as_user, manager_a, shelter_a):
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=manager_a)
    context = "peacetime"
    consents_record(
        subject=subject_of(person),
        changes=[Change(c, r, context, "given") for c in ("basic", "contact") for r in ("shelter_staff", "hq")],
        method=Method.RESIDENT_PAGE,
        timing=timing,
    )

    panel = ask_panel(as_user(manager_a), shelter_a, [person]).context["ask_panel"]

    assert [q.category for entry in panel for q in entry["questions"]] == asked_again


def test_the_answers_after_a_check_in_are_recorded_and_refused_support_is_no_longer_shown(
    as_user, manager_a, shelter_a, support_categories
):
    person = EvacueeFactory(requires_evacuation_support=True)
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=manager_a)
    client = as_user(manager_a)

    response = client.post(
        reverse("shelters:desk_consent", args=[shelter_a.pk]),
        {"evacuees": [person.pk], f"ask-{person.pk}-basic": "given", f"ask-{person.pk}-support": "refused"},
        follow=True,
    )

    decisions = dict(
        ConsentDecision.objects.filter(subject=subject_of(person), recipient="shelter_staff").values_list(
            "category", "decision"
        )
    )
    assert decisions == {"basic": "given", "support": "refused"}
    assert ConsentRecord.objects.get(subject=subject_of(person)).method == Method.DESK
    assert "支援" in messages_of(response) or "support" in messages_of(response)
    residents = client.get(reverse("shelters:residents", args=[shelter_a.pk]))
    stay = residents.context["stays"][0]
    assert stay.evacuee.withheld.get("support") == "refused"
    assert stay.evacuee.requires_evacuation_support is False


def test_later_records_nothing(as_user, manager_a, shelter_a):
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=manager_a)

    as_user(manager_a).post(
        reverse("shelters:desk_consent", args=[shelter_a.pk]),
        {"evacuees": [person.pk], f"ask-{person.pk}-basic": "given", "later": "1"},
    )

    assert not ConsentRecord.objects.exists() and not ConsentSubject.objects.exists()


def test_answers_for_someone_not_at_the_shelter_are_ignored(as_user, manager_a, shelter_a):
    elsewhere = EvacueeFactory()

    as_user(manager_a).post(
        reverse("shelters:desk_consent", args=[shelter_a.pk]),
        {"evacuees": [elsewhere.pk], f"ask-{elsewhere.pk}-basic": "refused"},
    )

    assert not ConsentRecord.objects.exists()


def test_another_shelters_manager_cannot_answer_for_residents(as_user, manager_a, manager_b, shelter_a):
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=manager_a)

    response = as_user(manager_b).post(
        reverse("shelters:desk_consent", args=[shelter_a.pk]),
        {"evacuees": [person.pk], f"ask-{person.pk}-basic": "refused"},
    )

    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


def test_the_panel_is_asked_in_the_disaster_context_while_a_disaster_is_open(as_user, manager_a, shelter_a, hq):
    from django.utils import timezone

    Disaster.objects.create(name="テスト地震", started_at=timezone.now(), declared_by=hq)
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=manager_a)

    as_user(manager_a).post(
        reverse("shelters:desk_consent", args=[shelter_a.pk]),
        {"evacuees": [person.pk], f"ask-{person.pk}-contact": "given"},
    )

    assert set(ConsentDecision.objects.values_list("context", flat=True)) == {"disaster"}


def test_the_own_phone_code_on_the_panel_opens_the_same_questions(as_user, manager_a, shelter_a):
    person = EvacueeFactory()
    services.stay_check_in(shelter_id=shelter_a.pk, evacuee_ids=[person.pk], actor=manager_a)
    html = ask_panel(as_user(manager_a), shelter_a, [person]).content.decode()
    url = re.search(r'class="own-phone-url muted">([^<]+)<', html).group(1)

    phone = as_user(None).get(url)

    assert phone.status_code == 200
    assert person.name not in phone.content.decode()
    assert [q.category for q in phone.context["questions"]] == ["basic", "contact", "household", "support"]


def test_an_answer_given_in_the_walk_in_form_counts_even_when_the_timing_would_not_have_asked(
    manager_a, shelter_a, support_categories
):
    consents_record(
        subject="cityos:AIZU-0002",
        changes=[Change("support", r, "peacetime", "given") for r in ("shelter_staff", "hq")],
        method=Method.RESIDENT_PAGE,
        timing=Timing.ONCE,
    )

    result = services.walk_in_register_and_check_in(
        shelter_id=shelter_a.pk,
        members=[services.PersonData(name="会津 六郎", city_os_id="AIZU-0002", support_needs={"infant": ""})],
        actor=manager_a,
        consent_answers={"support": "refused"},
    )

    assert not SupportNeed.objects.filter(evacuee__city_os_id="AIZU-0002").exists()
    assert result.not_recorded == {"support"}
    assert set(
        ConsentDecision.objects.filter(subject="cityos:AIZU-0002", category="support").values_list(
            "decision", flat=True
        )
    ) == {"refused"}


# --- The same through the API -------------------------------------------------------------------


def api_check_in(client, shelter, person):
    response = client.post(
        "/api/check-ins/", {"shelter": shelter.pk, "evacuees": [person.pk], "lookup": person.walk_in_id}, format="json"
    )
    assert response.status_code == 201
    return response


def test_the_api_checks_in_first_then_gives_the_questions_and_records_the_answers(api_as, manager_a, shelter_a):
    person = EvacueeFactory(requires_evacuation_support=True)
    client = api_as(manager_a)
    api_check_in(client, shelter_a, person)

    questions = client.get("/api/desk/questions/", {"shelter": shelter_a.pk, "evacuees": [person.pk]}).json()
    answered = client.post(
        "/api/desk/answers/",
        {
            "shelter": shelter_a.pk,
            "answers": [{"evacuee": person.pk, "answers": {"support": "refused", "basic": "later"}}],
        },
        format="json",
    )

    assert [q["category"] for q in questions[0]["questions"]] == ["basic", "contact", "household", "support"]
    assert questions[0]["evacuee"] == person.pk and "/consent/ask/" in questions[0]["own_device_url"]
    assert answered.status_code == 200 and answered.json()[0]["evacuee"] == person.pk
    record = ConsentRecord.objects.get()
    assert str(record.receipt_id) == answered.json()[0]["receipt_id"]
    assert {c["category"] for c in record.changes} == {"support"}
    shown = client.get(f"/api/evacuees/{person.pk}/").json()
    assert shown["withheld"].get("support") == "refused" and shown["requires_evacuation_support"] is False
    # Answered on new data: only what is left is asked next time.
    again = client.get("/api/desk/questions/", {"shelter": shelter_a.pk, "evacuees": [person.pk]}).json()
    assert [q["category"] for q in again[0]["questions"]] == ["basic", "contact", "household"]


def test_the_api_names_a_bad_answer_in_the_one_error_shape(api_as, manager_a, shelter_a):
    person = EvacueeFactory()
    client = api_as(manager_a)
    api_check_in(client, shelter_a, person)

    response = client.post(
        "/api/desk/answers/",
        {"shelter": shelter_a.pk, "answers": [{"evacuee": person.pk, "answers": {"blood_type": "given"}}]},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"answers[0].answers"}
    assert not ConsentRecord.objects.exists()


def test_the_api_asks_about_nobody_outside_the_shelter_and_bounds_the_list(api_as, manager_a, shelter_a):
    elsewhere = EvacueeFactory()
    client = api_as(manager_a)

    assert client.get("/api/desk/questions/", {"shelter": shelter_a.pk, "evacuees": [elsewhere.pk]}).json() == []
    too_many = client.get("/api/desk/questions/", {"shelter": shelter_a.pk, "evacuees": list(range(1, 30))})
    assert too_many.status_code == 400 and "evacuees" in too_many.json()["error"]["fields"]
