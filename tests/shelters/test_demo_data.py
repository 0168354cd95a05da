"""The Aizuwakamatsu sample data: what it loads, that all of it is labelled sample, and that it reloads."""

import re
from datetime import date
from decimal import Decimal
from io import StringIO

import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Q
from django.test import Client
from django.utils import timezone, translation

from access.models import PersonalDataAccess
from common.models import AuditEntry
from shelters.demo import PUBLISHED_PASSWORD, demo_load, demo_passwords, sample_households
from shelters.models import (
    CheckIn,
    DataSource,
    Disaster,
    Evacuee,
    Household,
    Role,
    Shelter,
    ShelterKind,
    ShelterStatus,
    ShelterStatusChange,
    Stay,
    StayMode,
    SupportNeed,
    User,
)
from shelters.services import PersonData, household_register, stay_check_in, stay_check_out
from supply.demo import supply_demo_load
from supply.models import Request, Stock, SupplyTask
from supply.services import supply_plan_open_requests
from surveys.models import FollowUp, ReportDay, Response

pytestmark = pytest.mark.django_db

OPEN_STATUSES = (ShelterStatus.OPEN, ShelterStatus.FULL)
DEMO_USERNAMES = ("hq", "manager", "official", "admin")
# The test profile gives every demo account this one password (config/settings/test.py).
DEMO_PASSWORD = django_settings.DEMO_PASSWORD


@pytest.fixture(scope="module")
def loaded_once(django_db_setup, django_db_blocker):
    """Load once for the module, in a transaction rolled back at its end; each test runs in a savepoint."""
    with django_db_blocker.unblock(), transaction.atomic():
        yield demo_load()
        transaction.set_rollback(True)


@pytest.fixture
def loaded(loaded_once, db):
    return loaded_once


def _row_counts() -> dict[str, int]:
    models = (
        Shelter,
        ShelterStatusChange,
        Household,
        Evacuee,
        SupportNeed,
        CheckIn,
        Stay,
        AuditEntry,
        User,
        Response,
        FollowUp,
        Request,
        ReportDay,
    )
    return {model.__name__: model.objects.count() for model in models}


def _age(birth_date: date) -> int:
    today = timezone.localdate()
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _assert_counts_equal_open_stays() -> None:
    for shelter in Shelter.objects.all():
        open_stays = Stay.objects.filter(shelter=shelter, checked_out_at__isnull=True)
        assert shelter.occupancy == open_stays.filter(mode=StayMode.INSIDE).count(), shelter.code
        assert shelter.outside_count == open_stays.exclude(mode=StayMode.INSIDE).count(), shelter.code


def test_loading_creates_about_thirty_shelters_all_labelled_sample(loaded):
    shelters = Shelter.objects.all()
    assert 28 <= shelters.count() <= 32
    assert set(shelters.values_list("source", flat=True)) == {DataSource.SAMPLE}
    assert all(re.fullmatch(r"SAMPLE-AIZU-\d{3}", code) for code in shelters.values_list("code", flat=True))
    assert loaded.shelters == shelters.count()


def test_shelters_keep_their_real_names_and_sit_in_aizuwakamatsu(loaded):
    shelters = list(Shelter.objects.prefetch_related("facilities"))
    assert len(shelters) == loaded.shelters > 0
    for shelter in shelters:
        assert "サンプル" not in shelter.name and "sample" not in shelter.name.lower()
        assert shelter.name_kana and shelter.name_en
        assert shelter.municipality_code == "072028"
        assert shelter.address.startswith("福島県会津若松市")
        assert shelter.hazard_earthquake
        assert Decimal("37.35") <= shelter.latitude <= Decimal("37.60"), shelter.name
        assert Decimal("139.85") <= shelter.longitude <= Decimal("140.05"), shelter.name
        assert shelter.capacity_text == f"屋内{shelter.capacity}人"
        assert shelter.facilities.all()
    assert Shelter.objects.filter(name="会津若松市立鶴城小学校").exists()
    assert Shelter.objects.filter(kind=ShelterKind.WELFARE).count() == 2


def test_about_twelve_shelters_are_opened_through_the_status_service(loaded):
    opened = Shelter.objects.filter(status__in=OPEN_STATUSES)
    assert 10 <= opened.count() <= 14
    assert loaded.open_shelters == opened.count()
    assert all(shelter.opened_at for shelter in opened)
    changes = ShelterStatusChange.objects.filter(to_status=ShelterStatus.OPEN, reason="サンプルデータ")
    assert set(changes.values_list("shelter_id", flat=True)) == set(opened.values_list("pk", flat=True))
    assert opened.filter(kind=ShelterKind.WELFARE).count() == 2


@pytest.mark.parametrize(
    ("username", "role"),
    [("hq", Role.HQ), ("manager", Role.MANAGER), ("official", Role.OFFICIAL), ("admin", Role.ADMIN)],
)
def test_each_demo_user_has_one_role_and_logs_in_with_the_configured_password(loaded, username, role):
    assert User.objects.get(username=username).role == role
    assert Client().login(username=username, password=DEMO_PASSWORD)


def test_only_the_admin_demo_user_is_staff_and_superuser(loaded):
    staff = User.objects.filter(Q(is_staff=True) | Q(is_superuser=True))
    assert list(staff.values_list("username", "is_staff", "is_superuser")) == [("admin", True, True)]


def test_the_demo_manager_manages_two_open_shelters(loaded):
    managed = User.objects.get(username="manager").managed_shelters.all()
    assert {shelter.name for shelter in managed} == {"会津若松市立鶴城小学校", "会津若松市立第一中学校"}
    assert {shelter.status for shelter in managed} == {ShelterStatus.OPEN}


def test_a_few_hundred_fictional_evacuees_are_registered_in_households_of_one_to_five(loaded):
    evacuees = Evacuee.objects.all()
    assert 250 <= evacuees.count() <= 350
    assert set(evacuees.values_list("source", flat=True)) == {DataSource.SAMPLE}
    households = Household.objects.annotate(size=Count("members"))
    assert 100 <= households.count() <= 120
    assert set(households.values_list("source", flat=True)) == {DataSource.SAMPLE}
    assert {household.size for household in households} == {1, 2, 3, 4, 5}
    assert all(household.representative.household_id == household.pk for household in households)
    for person in evacuees:
        assert person.address.startswith("福島県会津若松市") and person.address.endswith("（サンプル）")
        assert person.phone == "" or re.fullmatch(r"0242-00-\d{4}", person.phone)
        assert person.city_os_id is None or re.fullmatch(r"AIZU-SAMPLE-\d{6}|AIZU-SANDBOX-\d{4}", person.city_os_id)
        assert person.name_kana
    assert 0.25 <= evacuees.exclude(city_os_id=None).count() / evacuees.count() <= 0.42
    ages = [_age(person.birth_date) for person in evacuees]
    assert min(ages) <= 1 and max(ages) >= 88


def test_some_evacuees_need_support_chosen_by_age(loaded):
    evacuees = Evacuee.objects.all()
    with_needs = evacuees.filter(support_needs__isnull=False).distinct()
    assert 0.10 <= with_needs.count() / evacuees.count() <= 0.22
    assert 0.02 <= evacuees.filter(requires_evacuation_support=True).count() / evacuees.count() <= 0.08
    assert not SupportNeed.objects.filter(notes="").exists()
    for person in evacuees.prefetch_related("support_needs__category"):
        codes = {need.category.code for need in person.support_needs.all()}
        assert ("infant" in codes) == (_age(person.birth_date) < 2)
        if "elderly" in codes:
            assert _age(person.birth_date) >= 75


def test_about_seventy_percent_of_households_are_checked_in_and_about_ten_stay_outside(loaded):
    open_stays = Stay.objects.filter(checked_out_at__isnull=True)
    assert set(open_stays.values_list("source", flat=True)) == {DataSource.SAMPLE}
    assert set(open_stays.values_list("shelter__status", flat=True)) <= set(OPEN_STATUSES)
    households = Household.objects.count()
    inside = open_stays.filter(mode=StayMode.INSIDE).values("evacuee__household").distinct().count()
    outside = open_stays.exclude(mode=StayMode.INSIDE).values("evacuee__household").distinct().count()
    assert 0.6 <= inside / households <= 0.8
    assert 8 <= outside <= 12
    assert loaded.checked_in == open_stays.filter(mode=StayMode.INSIDE).count()
    assert loaded.outside == open_stays.exclude(mode=StayMode.INSIDE).count()
    assert len(set(open_stays.values_list("shelter_id", flat=True))) >= 10


def test_welfare_shelters_take_people_who_need_care_each_with_at_most_one_helper(loaded):
    welfare_check_ins = CheckIn.objects.filter(shelter__kind=ShelterKind.WELFARE)
    assert welfare_check_ins.exists()
    for check_in in welfare_check_ins:
        people = Evacuee.objects.filter(stays__check_in=check_in)
        needing = people.filter(Q(requires_evacuation_support=True) | Q(support_needs__isnull=False)).distinct()
        assert needing.exists()
        assert people.count() - needing.count() <= 1


def test_every_shelters_counts_equal_its_open_stays(loaded):
    _assert_counts_equal_open_stays()


def test_loading_twice_creates_and_changes_nothing(loaded):
    before = _row_counts()
    updated_at = dict(Shelter.objects.values_list("code", "updated_at"))

    summary = demo_load()

    assert _row_counts() == before
    assert dict(Shelter.objects.values_list("code", "updated_at")) == updated_at
    assert not summary.created_people
    assert (summary.evacuees, summary.checked_in) == (loaded.evacuees, loaded.checked_in)


def test_loading_again_keeps_a_changed_demo_password(loaded):
    user = User.objects.get(username="hq")
    user.set_password("a-new-password")
    user.save()

    demo_load()

    assert Client().login(username="hq", password="a-new-password")
    assert not Client().login(username="hq", password=DEMO_PASSWORD)


def test_each_installation_generates_its_own_demo_passwords_and_keeps_them(settings, tmp_path):
    settings.DEMO_PASSWORD = ""  # what `make run` does: no password configured
    settings.VAR_DIR = tmp_path / "first"
    first = demo_passwords()
    settings.VAR_DIR = tmp_path / "second"
    second = demo_passwords()

    settings.VAR_DIR = tmp_path / "first"
    assert demo_passwords() == first, "the same installation keeps its passwords across restarts"
    assert set(first) == set(second) == set(DEMO_USERNAMES)
    assert len(set(first.values())) == len(DEMO_USERNAMES), "one password per account"
    assert not set(first.values()) & set(second.values())
    assert PUBLISHED_PASSWORD not in first.values()
    assert (tmp_path / "first" / "demo-logins.json").stat().st_mode & 0o777 == 0o600


def test_the_readme_password_no_longer_opens_any_demo_account(loaded, settings, tmp_path):
    settings.DEMO_PASSWORD = ""
    settings.VAR_DIR = tmp_path
    # An installation made before the passwords were generated: its accounts have the README's.
    for user in User.objects.filter(username__in=DEMO_USERNAMES):
        user.set_password(PUBLISHED_PASSWORD)
        user.save()
    User.objects.filter(username="official").delete()  # and one account is created afresh

    summary = demo_load()

    passwords = demo_passwords()
    assert summary.passwords == passwords
    for username in DEMO_USERNAMES:
        assert not Client().login(username=username, password=PUBLISHED_PASSWORD), username
        assert Client().login(username=username, password=passwords[username]), username


@translation.override("en")
def test_the_command_prints_each_password_until_its_user_changes_it(loaded, settings, tmp_path):
    settings.DEMO_PASSWORD = ""
    settings.VAR_DIR = tmp_path
    passwords = demo_passwords()
    for user in User.objects.filter(username__in=DEMO_USERNAMES):
        user.set_password(passwords[user.username])
        user.save()
    hq = User.objects.get(username="hq")
    hq.set_password("changed-by-hq-2026")  # as `manage.py changepassword hq` or the admin does
    hq.save()

    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()

    assert re.search(r"^  hq +\(changed by its user: not shown\)", text, re.MULTILINE)
    assert "changed-by-hq-2026" not in text
    for username in ("manager", "official", "admin"):
        assert re.search(rf"^  {username} +{re.escape(passwords[username])} ", text, re.MULTILINE)


def test_reset_reloads_cleanly_after_a_demo_was_used(loaded):
    before = _row_counts()
    names = sorted(Evacuee.objects.values_list("name", "birth_date"))
    stay = Stay.objects.filter(checked_out_at__isnull=True).first()
    stay_check_out(stay_id=stay.pk, actor=None, destination="home")
    PersonalDataAccess.objects.create(
        viewer=User.objects.get(username="hq"), evacuee=stay.evacuee, purpose="test", at=timezone.now()
    )

    summary = demo_load(reset=True)

    assert _row_counts() == before
    assert sorted(Evacuee.objects.values_list("name", "birth_date")) == names
    assert summary.created_people
    assert not PersonalDataAccess.objects.exists()
    assert ShelterStatusChange.objects.count() == Shelter.objects.filter(status__in=OPEN_STATUSES).count()
    _assert_counts_equal_open_stays()
    existing = {
        "evacuee": set(Evacuee.objects.values_list("pk", flat=True)),
        "household": set(Household.objects.values_list("pk", flat=True)),
        "stay": set(Stay.objects.values_list("pk", flat=True)),
        "check_in": set(CheckIn.objects.values_list("pk", flat=True)),
    }
    entries = list(AuditEntry.objects.filter(object_type__in=existing))
    assert entries, "the reload writes its own audit entries"
    for entry in entries:
        assert int(entry.object_id) in existing[entry.object_type], entry.action


def test_reset_leaves_people_who_are_not_sample_data_where_they_are(loaded):
    shelter = Shelter.objects.get(name="会津若松市立鶴城小学校")
    household = household_register(members=[PersonData(name="会津 花子")], actor=None)
    stay_check_in(shelter_id=shelter.pk, evacuee_ids=[household.representative_id], actor=None)

    demo_load(reset=True)

    real_person = Evacuee.objects.get(source=DataSource.REAL)
    assert real_person.stays.get().checked_out_at is None
    shelter.refresh_from_db()
    assert shelter.status == ShelterStatus.OPEN
    _assert_counts_equal_open_stays()


def test_about_a_third_of_the_sample_residents_answered_the_survey_as_sample_data(loaded):
    responses = Response.objects.all()

    assert loaded.survey_responses == responses.count() and 40 <= responses.count() <= 110
    assert set(responses.values_list("source", flat=True)) == {DataSource.SAMPLE}
    assert responses.filter(respondent__isnull=False).exists() and responses.filter(respondent__isnull=True).exists()
    assert responses.filter(k6_score__gte=13).exists()
    assert FollowUp.objects.count() == responses.filter(k6_score__gte=13, respondent__isnull=False).count() > 0
    assert Request.objects.filter(survey_response__in=responses).exists()
    # The report's rollups agree with the answers they summarise.
    assert sum(ReportDay.objects.values_list("responses", flat=True)) == responses.count()


def test_reset_removes_the_sample_answers_and_what_they_filed_before_loading_them_again(loaded):
    first_keys = set(Response.objects.values_list("submission_key", flat=True))

    demo_load(reset=True)

    # The answers now belong to the new sample stays: none of the old ones is left.
    assert not first_keys & set(Response.objects.values_list("submission_key", flat=True))
    assert Response.objects.count() == loaded.survey_responses
    assert Request.objects.filter(survey_response__isnull=True, source=DataSource.SAMPLE).count() == 0
    assert sum(ReportDay.objects.values_list("responses", flat=True)) == Response.objects.count()


def test_the_sample_people_are_the_same_every_time():
    first = sample_households(today=date(2026, 4, 1))
    assert first == sample_households(today=date(2026, 4, 1))
    assert len({person.city_os_id for household in first for person in household} - {None}) == sum(
        1 for household in first for person in household if person.city_os_id
    )


@translation.override("en")
def test_the_command_prints_a_summary_and_the_logins_and_says_it_is_sample_data():
    out = StringIO()
    call_command("load_demo", stdout=out)
    text = out.getvalue()
    assert "サンプルデータ" in text and "SAMPLE DATA" in text and "not real people" in text
    assert DEMO_PASSWORD in text
    for username in ("hq", "manager", "official", "admin"):
        assert re.search(rf"^  {username} ", text, re.MULTILINE)
    assert f"Evacuees (避難者):          {Evacuee.objects.count()}" in text

    out = StringIO()
    call_command("load_demo", "--reset", stdout=out)
    assert "Removed the previous sample" in out.getvalue()
    assert Evacuee.objects.count() == Evacuee.objects.filter(source=DataSource.SAMPLE).count() > 0


def test_reset_gives_back_the_stock_that_the_sample_answers_requests_had_reserved(loaded):
    supply_demo_load()
    reserved_before = sum(Stock.objects.values_list("reserved", flat=True))
    supply_plan_open_requests()
    assert sum(Stock.objects.values_list("reserved", flat=True)) > reserved_before

    demo_load(reset=True)

    assert sum(Stock.objects.values_list("reserved", flat=True)) == reserved_before
    assert not SupplyTask.objects.exists()


def test_the_city_os_sandboxs_residents_known_to_shelters_are_registered_with_their_common_ids(loaded):
    """One sample file (data/cityos-sandbox/residents.json) for the sandbox and the demo: a desk finds
    these people by the QR code the sandbox shows them; the one who refused sharing is not known here."""
    known = Evacuee.objects.filter(city_os_id__startswith="AIZU-SANDBOX-")

    assert set(known.values_list("city_os_id", flat=True)) == {
        "AIZU-SANDBOX-0001",
        "AIZU-SANDBOX-0002",
        "AIZU-SANDBOX-0003",
        "AIZU-SANDBOX-0004",
        "AIZU-SANDBOX-0006",
    }
    yamada = known.filter(name__startswith="山田")
    assert yamada.values("household").distinct().count() == 1 and yamada.count() == 3
    assert known.get(city_os_id="AIZU-SANDBOX-0004").requires_evacuation_support
    # The Yamada family is checked in together at 鶴城小学校 (the demo manager's); the others are at home.
    assert sorted(
        Stay.objects.filter(evacuee__in=known).values_list("evacuee__city_os_id", "shelter__code", "source")
    ) == [(f"AIZU-SANDBOX-000{n}", "SAMPLE-AIZU-001", DataSource.SAMPLE) for n in (1, 2, 3)]
    assert Stay.objects.filter(evacuee__in=known).values("check_in").distinct().count() == 1


def test_the_demo_runs_in_an_open_sample_disaster_loaded_once_and_removed_with_a_reset(loaded):
    assert list(Disaster.objects.values_list("name", "source", "closed_at")) == [
        ("サンプル: 会津地方の地震（訓練用）", DataSource.SAMPLE, None)
    ]
    sandbox_stays = sorted(
        Stay.objects.filter(evacuee__city_os_id__startswith="AIZU-SANDBOX-").values_list(
            "evacuee__city_os_id", "shelter_id"
        )
    )

    demo_load()
    assert Disaster.objects.count() == 1
    disaster = Disaster.objects.get()

    demo_load(reset=True)
    assert list(Disaster.objects.values_list("name", "source", "closed_at")) == [
        ("サンプル: 会津地方の地震（訓練用）", DataSource.SAMPLE, None)
    ]
    assert Disaster.objects.get().pk != disaster.pk
    assert (
        sorted(
            Stay.objects.filter(evacuee__city_os_id__startswith="AIZU-SANDBOX-").values_list(
                "evacuee__city_os_id", "shelter_id"
            )
        )
        == sandbox_stays
    )
