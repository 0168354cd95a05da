"""The Nanao 2024 replay: real counts through the desk's services, all of it labelled and removable.

The whole replay (118 snapshots, about 3,100 check-ins and as many check-outs) takes tens of seconds,
so it runs once for the module and records what the tests check after every snapshot; the other
tests replay a few snapshots.
"""

from datetime import datetime
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from access.models import PersonalDataAccess
from common.models import AuditEntry
from shelters import replay
from shelters.models import (
    CheckIn,
    DataSource,
    Evacuee,
    Household,
    ReplayRun,
    Shelter,
    ShelterKind,
    ShelterStatus,
    ShelterStatusChange,
    Stay,
)
from shelters.services import (
    PersonData,
    household_register,
    stay_check_in,
    stay_check_out,
    stay_transfer,
)
from tests.factories import EvacueeFactory, ShelterFactory

pytestmark = pytest.mark.django_db

NANAO = Path(__file__).resolve().parents[2] / "data" / "nanao-2024"
FIRST_SNAPSHOT = NANAO / "history" / "open_shelter_Nanao-shi_2024-01-09-1800.csv"
OPEN_STATUSES = (ShelterStatus.OPEN, ShelterStatus.FULL)

# The totals the data's README gives for checking: (time, open shelters, people).
PUBLISHED_TOTALS = [
    ("2024-01-09 18:00", 29, 1886),
    ("2024-02-01 06:00", 24, 1031),
    ("2024-05-01 06:00", 7, 190),
    ("2024-09-02 18:00", 1, 40),
]


def tokyo(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=replay.TOKYO)


def figures() -> dict:
    """What a dashboard would show for the replay, and what the stays say."""
    replay_shelters = Shelter.objects.filter(source=DataSource.REPLAY)
    shown = replay_shelters.filter(status__in=OPEN_STATUSES).aggregate(shelters=Count("pk"), people=Sum("occupancy"))
    counted = replay_shelters.annotate(
        open_stays=Count("stays", filter=Q(stays__checked_out_at__isnull=True)),
    )
    return {
        "shelters": shown["shelters"],
        "people": shown["people"] or 0,
        "open_replay_stays": Stay.objects.filter(source=DataSource.REPLAY, checked_out_at__isnull=True).count(),
        "occupancy_off": [s.code for s in counted if s.occupancy != s.open_stays],
    }


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("replay_nanao", *args, stdout=out)
    return out.getvalue()


@pytest.fixture(scope="class")
def full_replay(django_db_setup, django_db_blocker):
    """The whole replay once, in a transaction rolled back at the class's end; each test runs in a savepoint."""
    after_each: dict[datetime, dict] = {}

    def record(outcome: replay.SnapshotOutcome) -> None:
        after_each[outcome.snapshot.at] = {**figures(), "outcome": outcome}

    with django_db_blocker.unblock(), transaction.atomic():
        started = timezone.now()
        replay.replay_nanao(speed=0, on_snapshot=record)
        yield {"started": started, "after_each": after_each}
        transaction.set_rollback(True)


@pytest.fixture
def replayed(full_replay, db):
    return full_replay


# --- The full replay ----------------------------------------------------------------------------


class TestTheFullReplay:
    """One run of all 118 snapshots, shared by the tests of this class only."""

    @pytest.mark.parametrize(("moment", "shelters", "people"), PUBLISHED_TOTALS)
    def test_the_totals_after_a_snapshot_equal_the_published_ones(self, replayed, moment, shelters, people):
        after = replayed["after_each"][tokyo(moment)]

        assert (after["shelters"], after["people"]) == (shelters, people)
        assert after["open_replay_stays"] == people
        assert (after["outcome"].snapshot.shelters, after["outcome"].snapshot.people) == (shelters, people)

    def test_all_118_snapshots_are_applied_in_order_and_each_matches_its_file(self, replayed):
        after_each = replayed["after_each"]

        assert len(after_each) == 118
        assert list(after_each) == sorted(after_each)
        assert min(after_each) == tokyo("2024-01-09 18:00") and max(after_each) == tokyo("2024-09-02 18:00")
        for moment, after in after_each.items():
            snapshot = after["outcome"].snapshot
            assert (after["shelters"], after["people"]) == (snapshot.shelters, snapshot.people), moment
            assert after["open_replay_stays"] == snapshot.people, moment

    def test_every_shelters_occupancy_equals_its_open_stays_after_every_snapshot(self, replayed):
        assert len(replayed["after_each"]) == 118  # a replay that applied nothing checks nothing
        for moment, after in replayed["after_each"].items():
            assert after["occupancy_off"] == [], moment

    def test_each_shelter_holds_the_number_of_people_its_row_gives(self, replayed):
        last = replay.read_snapshots()[-1]
        assert last.counts and sum(last.counts.values()) > 0
        for code, people in last.counts.items():
            shelter = Shelter.objects.get(code=replay.replay_code(code))
            assert shelter.occupancy == people
            assert shelter.status in OPEN_STATUSES

    def test_replay_data_is_labelled_replay_and_its_people_are_fictional(self, replayed):
        assert Shelter.objects.filter(source=DataSource.REPLAY).count() == 112
        assert not Shelter.objects.exclude(source=DataSource.REPLAY).exists()
        assert not Shelter.objects.exclude(code__startswith="NANAO-").exists()
        for model in (Evacuee, Household, Stay):
            assert set(model.objects.values_list("source", flat=True)) == {DataSource.REPLAY}, model.__name__
        names = list(Evacuee.objects.order_by("pk").values_list("name", flat=True))
        assert names[:2] == ["再現避難者 0001", "再現避難者 0002"]
        assert len(set(names)) == len(names) > 3000
        assert all(name.startswith("再現避難者 ") for name in names)
        sizes = set(Household.objects.annotate(size=Count("members")).values_list("size", flat=True))
        assert sizes == {1, 2, 3, 4}

    def test_the_shelters_keep_their_real_names_under_codes_that_cannot_collide(self, replayed):
        shelter = Shelter.objects.get(code="NANAO-CC0000000504")
        assert shelter.name == "御祓地区コミュニティセンター"
        assert shelter.district == "御祓"  # from the snapshots; the reference file has no 地区
        assert shelter.capacity == 191
        welfare = Shelter.objects.get(code="NANAO-NEW002")
        assert (welfare.name, welfare.kind) == ("白南風", ShelterKind.WELFARE)

    def test_the_changes_are_stamped_with_wall_clock_time_and_name_the_snapshot(self, replayed):
        started = replayed["started"]
        assert not Stay.objects.filter(checked_in_at__lt=started).exists()
        first_opening = ShelterStatusChange.objects.filter(to_status=ShelterStatus.OPEN, automatic=False).last()
        assert first_opening.reason == "再現: 七尾市 2024-01-09 18:00"
        assert first_opening.changed_at >= started
        assert first_opening.changed_by is None

    def test_a_shelter_over_its_capacity_turns_full_by_itself_and_open_again(self, replayed):
        shelter = Shelter.objects.get(code="NANAO-CC0000000561")
        assert shelter.capacity == 100
        automatic = list(
            shelter.status_changes.filter(automatic=True)
            .order_by("changed_at", "pk")
            .values_list("to_status", flat=True)
        )
        assert automatic[:2] == [ShelterStatus.FULL, ShelterStatus.OPEN]

    def test_shelters_missing_from_a_snapshot_are_emptied_and_closed(self, replayed):
        ever_open = {code for snapshot in replay.read_snapshots() for code in snapshot.counts}
        closed = Shelter.objects.filter(status=ShelterStatus.CLOSED)
        assert closed.count() == len(ever_open) - 1 == 33  # one is still open
        assert set(closed.values_list("occupancy", flat=True)) == {0}
        assert not Stay.objects.filter(shelter__in=closed, checked_out_at__isnull=True).exists()
        never_opened = Shelter.objects.filter(status=ShelterStatus.STANDBY)
        assert never_opened.count() == 112 - len(ever_open)
        assert not ShelterStatusChange.objects.filter(shelter__in=never_opened).exists()

    def test_the_run_records_the_last_snapshot_applied(self, replayed):
        run = ReplayRun.objects.get()
        assert run.name == "nanao-2024"
        assert run.simulated_at == tokyo("2024-09-02 18:00")
        assert run.snapshots_applied == 118
        assert run.started_at >= replayed["started"]
        assert run.finished_at >= run.started_at

    def test_clear_removes_everything_the_replay_made_and_leaves_sample_and_real_data(self, replayed):
        last_replay_audit = AuditEntry.objects.order_by("pk").last().pk
        real_shelter = ShelterFactory(source=DataSource.REAL)
        sample_shelter = ShelterFactory(source=DataSource.SAMPLE)
        real_person = household_register(members=[PersonData(name="会津 花子")], actor=None).representative
        sample_person = EvacueeFactory(source=DataSource.SAMPLE)
        stay_check_in(shelter_id=real_shelter.pk, evacuee_ids=[real_person.pk], actor=None)
        stay_check_in(
            shelter_id=sample_shelter.pk, evacuee_ids=[sample_person.pk], actor=None, source=DataSource.SAMPLE
        )
        PersonalDataAccess.objects.create(
            viewer=None,
            evacuee=Evacuee.objects.filter(source=DataSource.REPLAY).first(),
            purpose="test",
            at=timezone.now(),
        )
        not_replay_audit = set(AuditEntry.objects.filter(pk__gt=last_replay_audit).values_list("pk", flat=True))

        output = run_command("--clear")

        assert "112" in output
        assert list(Shelter.objects.order_by("pk")) == [real_shelter, sample_shelter]
        assert set(Evacuee.objects.values_list("pk", flat=True)) == {real_person.pk, sample_person.pk}
        assert Stay.objects.count() == CheckIn.objects.count() == 2
        assert Household.objects.count() == 1
        assert not ShelterStatusChange.objects.exists()
        assert not PersonalDataAccess.objects.exists()
        assert not ReplayRun.objects.exists()
        assert set(AuditEntry.objects.values_list("pk", flat=True)) == not_replay_audit
        for shelter in (real_shelter, sample_shelter):
            shelter.refresh_from_db()
            assert (shelter.status, shelter.occupancy) == (ShelterStatus.OPEN, 1)

    def test_clear_checks_out_a_replay_person_seated_at_a_real_shelter_so_its_figures_stay_right(self, replayed):
        real_shelter = ShelterFactory(source=DataSource.REAL)
        replay_stay = Stay.objects.filter(source=DataSource.REPLAY, checked_out_at__isnull=True).first()
        stay_check_out(stay_id=replay_stay.pk, actor=None, destination="home")
        stay_check_in(shelter_id=real_shelter.pk, evacuee_ids=[replay_stay.evacuee_id], actor=None)

        replay.replay_clear()

        real_shelter.refresh_from_db()
        assert real_shelter.occupancy == 0
        assert not Stay.objects.exists()
        assert not CheckIn.objects.exists()

    def test_clear_takes_a_real_persons_stay_at_a_replay_shelter_with_it_but_not_the_person(self, replayed):
        real_shelter = ShelterFactory(source=DataSource.REAL)
        person = EvacueeFactory()
        stay_check_in(shelter_id=real_shelter.pk, evacuee_ids=[person.pk], actor=None)
        first_stay = Stay.objects.get(evacuee=person)
        stay_transfer(
            stay_id=first_stay.pk, to_shelter_id=Shelter.objects.get(code="NANAO-CC0000000537").pk, actor=None
        )

        replay.replay_clear()

        assert list(Stay.objects.filter(evacuee=person)) == [first_stay]
        first_stay.refresh_from_db()
        assert (first_stay.destination, first_stay.destination_shelter) == ("other_shelter", None)
        assert Evacuee.objects.filter(pk=person.pk).exists()
        real_shelter.refresh_from_db()
        assert real_shelter.occupancy == 0


# --- A few snapshots ----------------------------------------------------------------------------


def test_the_command_with_no_wait_and_until_runs_and_prints_each_snapshot():
    output = run_command("--no-wait", "--from", "2024-08-19T00:00", "--until", "2024-08-31T13:00")

    assert "CC BY 4.0" in output and "raokiey/R06-Noto-Peninsula-EQ-open-shelter-Nanao" in output
    assert "2024-08-19 18:00  open   1 (file   1)  people    40 (file    40)  +40 -0" in output
    assert "2024-08-31 13:00  open   1 (file   1)  people    40 (file    40)  +0 -0" in output
    assert "\n2024-09-02" not in output
    assert figures()["people"] == 40
    run = ReplayRun.objects.get()
    assert (run.simulated_at, run.snapshots_applied) == (tokyo("2024-08-31 13:00"), 4)


def test_from_starts_at_a_later_snapshot_and_a_rerun_brings_the_figures_back_to_the_file():
    output = run_command("--no-wait", "--from", "2024-06-14T00:00", "--until", "2024-06-20T12:00")
    assert [line[:16] for line in output.splitlines() if line.startswith("2024-")] == [
        "2024-06-14 12:00",
        "2024-06-16 12:00",
        "2024-06-17 12:00",
        "2024-06-18 12:00",
        "2024-06-20 12:00",
    ]
    assert (figures()["shelters"], figures()["people"]) == (3, 54)

    run_command("--speed", "0", "--from", "2024-06-14T12:00", "--until", "2024-06-14T12:00")

    assert (figures()["shelters"], figures()["people"]) == (4, 93)
    assert figures()["occupancy_off"] == []
    assert ReplayRun.objects.get().snapshots_applied == 1


def test_the_wait_before_each_snapshot_is_the_simulated_gap_divided_by_the_speed():
    now = [0.0]
    waits = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    replay.replay_nanao(
        speed=1440, start=tokyo("2024-08-28 18:00"), until=tokyo("2024-09-02 18:00"), sleep=sleep, clock=lambda: now[0]
    )

    # 08-28 18:00 → 08-31 13:00 is 67 hours, → 09-02 18:00 53 hours more; a day a minute.
    assert waits == pytest.approx([67 * 3600 / 1440, 53 * 3600 / 1440])


def test_a_period_without_snapshots_is_an_error():
    with pytest.raises(CommandError, match="No snapshot"):
        run_command("--no-wait", "--until", "2024-01-01T00:00")
    assert not Shelter.objects.exists()


def test_a_missing_data_directory_is_an_error(tmp_path):
    with pytest.raises(CommandError, match=r"reference_data\.csv"):
        run_command("--no-wait", "--data", str(tmp_path))


# --- Reading the files --------------------------------------------------------------------------


def test_the_snapshots_are_read_in_the_order_of_the_times_in_their_names():
    snapshots = replay.read_snapshots()

    assert len(snapshots) == 118
    assert snapshots[0].at == tokyo("2024-01-09 18:00")
    assert snapshots[-1].at == tokyo("2024-09-02 18:00")
    assert [s.at for s in snapshots] == sorted(s.at for s in snapshots)
    # The first file names its column 人数_令和6年1月9日午後6時時点.
    assert (snapshots[0].shelters, snapshots[0].people) == (29, 1886)
    assert snapshots[0].counts["CC0000000518"] == 180


@pytest.mark.parametrize("encoding", ["utf-8-sig", "cp932"])
def test_a_snapshot_reads_the_same_in_shift_jis_or_with_a_bom(tmp_path, encoding):
    copy = tmp_path / FIRST_SNAPSHOT.name
    copy.write_bytes(FIRST_SNAPSHOT.read_text(encoding="utf-8").encode(encoding, errors="replace"))

    assert replay.read_snapshot(copy).counts == replay.read_snapshot(FIRST_SNAPSHOT).counts


def test_a_snapshot_without_a_number_of_people_names_its_line(tmp_path):
    path = tmp_path / "open_shelter_Nanao-shi_2024-01-10-0600.csv"
    path.write_text("ID,名称,人数\nCC0000000504,御祓地区コミュニティセンター,12\nCC0000000505,七尾中学校,\n")

    with pytest.raises(replay.ReplayDataError, match=r":3: "):
        replay.read_snapshot(path)
