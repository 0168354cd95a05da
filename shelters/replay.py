"""A replay of the real evacuee counts of Nanao City (七尾市) after the 2024 Noto Peninsula earthquake.

Data: CC BY 4.0. Compiled in the repository raokiey/R06-Noto-Peninsula-EQ-open-shelter-Nanao from the
open-shelter notices on Nanao City's web site, with positions and attributes from 「指定緊急避難所一覧」
(Ishikawa Prefecture) and 「10_指定緊急避難所施設一覧」 (Nanao City), both CC BY 4.0. Keep this
attribution wherever the data, or anything derived from it, is shown (`ATTRIBUTION`).

Each snapshot (`history/open_shelter_Nanao-shi_YYYY-MM-DD-HHMM.csv`) lists the shelters open at that
time with their number of evacuees (人数). Applying one brings the replay shelters to it through the
same services a person at the desk uses: a shelter in the snapshot is opened, arrivals are fictional
households registered and checked in, departures are checked out, and a shelter missing from the
snapshot is emptied and closed. So the live dashboards, which listen to the services' events, draw
the real occupancy curve, compressed into minutes.

Everything made here is labelled `source=replay`: the shelters carry their real names under codes
such as `NANAO-CC0000000504` that cannot collide with real ones, and the people are fictional
(「再現避難者 0001」). `replay_clear()` removes all of it, as the demo's reset removes sample data.
"""

import csv
import io
import random
import re
import time
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import models, transaction
from django.db.models import Count, F, Sum
from django.utils import timezone

from common.sources import DataSource, source_rows_remove
from shelters import events
from shelters.importers import ShelterRecord, _decode, _header_key, parse_shelter_file
from shelters.models import (
    Destination,
    Evacuee,
    ReplayRun,
    Shelter,
    ShelterStatus,
    Stay,
)
from shelters.services import (
    PersonData,
    household_register,
    shelter_registry_import,
    shelter_status_change,
    stay_check_in,
    stay_check_out,
)

ATTRIBUTION = (
    "出典: 七尾市の開設避難所と避難者数 (2024年1月9日〜9月2日), CC BY 4.0. "
    "raokiey/R06-Noto-Peninsula-EQ-open-shelter-Nanao が七尾市ウェブサイトの開設避難所情報から作成; "
    "位置と属性は石川県「指定緊急避難所一覧」・七尾市「10_指定緊急避難所施設一覧」 (CC BY 4.0) による。\n"
    "Data: open shelters and evacuee counts of Nanao City, Ishikawa Prefecture (2024-01-09 to 2024-09-02), "
    "CC BY 4.0, compiled in raokiey/R06-Noto-Peninsula-EQ-open-shelter-Nanao from Nanao City's open-shelter "
    "notices, with positions and attributes from Ishikawa Prefecture's and Nanao City's shelter lists (CC BY 4.0). "
    "The evacuees are fictional; only their numbers are real."
)

REPLAY_NAME = "nanao-2024"
CODE_PREFIX = "NANAO-"
SEED = 20240101
DEFAULT_SPEED = 1440.0  # simulated seconds per real second: a day a minute
TOKYO = ZoneInfo("Asia/Tokyo")
REFERENCE_FILE = "reference_data.csv"
HISTORY_DIR = "history"
SNAPSHOT_FILE = re.compile(r"open_shelter_Nanao-shi_(\d{4})-(\d{2})-(\d{2})-(\d{2})(\d{2})\.csv")
# The first snapshot names its column 人数_令和6年1月9日午後6時時点, the others 人数.
COUNT_HEADER = "人数"
OPEN_STATUSES = (ShelterStatus.OPEN, ShelterStatus.FULL)

EVACUEE_NAME = "再現避難者 {number:04d}"
EVACUEE_KANA = "サイゲンヒナンシャ {number:04d}"
# Household sizes of arrivals, roughly as in a Japanese town where many elderly live alone or in pairs.
HOUSEHOLD_SIZES = ((1, 35), (2, 35), (3, 18), (4, 12))
DESTINATIONS = ((Destination.HOME, 60), (Destination.RELATIVES, 20), (Destination.UNKNOWN, 20))


class ReplayDataError(Exception):
    """The replay's files are missing or cannot be read; nothing has been written."""


def default_data_dir() -> Path:
    return Path(settings.BASE_DIR) / "data" / "nanao-2024"


def replay_code(published_code: str) -> str:
    return CODE_PREFIX + published_code


# --- Reading the files --------------------------------------------------------------------------


@dataclass(frozen=True)
class Snapshot:
    at: datetime  # the time in the file name, Asia/Tokyo
    path: Path
    counts: dict[str, int]  # shelter ID as published -> 人数, in file order
    records: tuple[ShelterRecord, ...]  # the registry fields the file carries, by `parse_shelter_file`

    @property
    def shelters(self) -> int:
        return len(self.counts)

    @property
    def people(self) -> int:
        return sum(self.counts.values())


def snapshot_time(path: Path) -> datetime | None:
    match = SNAPSHOT_FILE.fullmatch(path.name)
    if match is None:
        return None
    year, month, day, hour, minute = map(int, match.groups())
    return datetime(year, month, day, hour, minute, tzinfo=TOKYO)


def _count(value: str) -> int | None:
    text = unicodedata.normalize("NFKC", value).strip().replace(",", "")
    text = re.sub(r"(\.0+)?人?$", "", text)
    return int(text) if text.isdigit() else None


def read_snapshot(path: Path) -> Snapshot:
    at = snapshot_time(path)
    if at is None:
        raise ReplayDataError(f"{path}: the name does not carry a time (open_shelter_Nanao-shi_YYYY-MM-DD-HHMM.csv)")
    data = path.read_bytes()
    try:
        # The same tolerance as the importer: UTF-8 with or without BOM, or Shift_JIS (CP932).
        text = _decode(data)
    except UnicodeDecodeError as error:
        raise ReplayDataError(f"{path}: neither UTF-8 nor Shift_JIS") from error
    reader = csv.reader(io.StringIO(text, newline=""))
    headers = [_header_key(header) for header in next(reader, [])]
    id_column = headers.index("id") if "id" in headers else None
    count_column = next((i for i, h in enumerate(headers) if h.startswith(_header_key(COUNT_HEADER))), None)
    if id_column is None or count_column is None:
        raise ReplayDataError(f"{path}:1: needs the columns ID and {COUNT_HEADER}")
    counts: dict[str, int] = {}
    for values in reader:
        line = reader.line_num
        if not any(value.strip() for value in values):
            continue
        code = unicodedata.normalize("NFKC", values[id_column]).strip() if id_column < len(values) else ""
        count = _count(values[count_column]) if count_column < len(values) else None
        if not code or count is None:
            raise ReplayDataError(f"{path}:{line}: needs an ID and a number of people")
        if code in counts:
            raise ReplayDataError(f"{path}:{line}: {code} appears twice")
        counts[code] = count
    return Snapshot(at=at, path=path, counts=counts, records=tuple(parse_shelter_file(data).records))


def read_snapshots(directory: Path | None = None) -> list[Snapshot]:
    history = Path(directory or default_data_dir()) / HISTORY_DIR
    if not history.is_dir():
        raise ReplayDataError(f"{history}: no such directory")
    paths = [path for path in history.iterdir() if snapshot_time(path) is not None]
    if not paths:
        raise ReplayDataError(f"{history}: no open_shelter_Nanao-shi_YYYY-MM-DD-HHMM.csv files")
    return [read_snapshot(path) for path in sorted(paths, key=snapshot_time)]


def read_reference(directory: Path | None = None) -> list[ShelterRecord]:
    path = Path(directory or default_data_dir()) / REFERENCE_FILE
    try:
        result = parse_shelter_file(path)
    except OSError as error:
        raise ReplayDataError(f"{path}: {error}") from error
    if result.errors:
        raise ReplayDataError("\n".join(f"{path}:{error}" for error in result.errors))
    return result.records


# --- Shelters -----------------------------------------------------------------------------------


def replay_shelters_import(*, reference: list[ShelterRecord], snapshots: list[Snapshot]) -> dict[str, int]:
    """Create or update the replay's shelters; returns {shelter ID as published: Shelter pk}.

    The reference file gives the registry; the snapshots add the 地区 and which are welfare shelters
    (「白南風（福祉避難所）」), and any shelter only they name.
    """
    known = {record.code for record in reference}
    records = [replace(record, code=replay_code(record.code)) for record in reference]
    for snapshot in snapshots:
        for record in snapshot.records:
            if record.code in known:
                present = frozenset({"code"} | ({"district", "kind"} & record.present))
                records.append(replace(record, code=replay_code(record.code), present=present))
            else:
                records.append(replace(record, code=replay_code(record.code)))
    described = known | {record.code for snapshot in snapshots for record in snapshot.records}
    missing = sorted({code for snapshot in snapshots for code in snapshot.counts} - described)
    if missing:
        raise ReplayDataError(f"No registry row for shelter(s) {', '.join(missing)}")
    shelter_registry_import(records=records, actor=None, source=DataSource.REPLAY)
    codes = {replay_code(code): code for code in described}
    return {codes[code]: pk for code, pk in Shelter.objects.filter(code__in=codes).values_list("code", "pk")}


# --- Applying snapshots -------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotOutcome:
    snapshot: Snapshot
    applied_at: datetime  # wall-clock time stamped on the changes
    open_shelters: int  # replay shelters open or full after applying
    people: int  # their occupancy
    opened: int
    closed: int
    checked_in: int
    checked_out: int

    @property
    def matches_file(self) -> bool:
        return (self.open_shelters, self.people) == (self.snapshot.shelters, self.snapshot.people)


class _Replayer:
    def __init__(self, *, shelter_ids: dict[str, int], rng: random.Random):
        self.shelter_ids = shelter_ids
        self.replay_shelter_ids = set(shelter_ids.values())
        self.rng = rng
        # Numbers go on from the replay people already there, so names stay unique across runs.
        self.next_number = Evacuee.objects.filter(source=DataSource.REPLAY).count() + 1

    def apply(self, snapshot: Snapshot) -> SnapshotOutcome:
        at = timezone.now()
        label = f"再現: 七尾市 {snapshot.at:%Y-%m-%d %H:%M}"
        opened = closed = checked_in = checked_out = 0
        # One commit per shelter, not per snapshot: the first snapshot alone is 1,886 people, and
        # holding one transaction that long would block the desks (on SQLite, every desk).
        wanted = {self.shelter_ids[code]: count for code, count in snapshot.counts.items()}
        staying = dict(
            _open_replay_stays()
            .filter(shelter_id__in=self.replay_shelter_ids)
            .values("shelter_id")
            .annotate(people=Count("pk"))
            .values_list("shelter_id", "people")
        )
        for shelter_id in sorted(self.replay_shelter_ids):
            with transaction.atomic():
                # The services lock the shelter again; this lock keeps its status steady meanwhile.
                shelter = Shelter.objects.select_for_update().get(pk=shelter_id)
                if shelter.pk not in wanted:
                    checked_out += self._leave(shelter.pk, staying.get(shelter.pk, 0), at=at)
                    if shelter.status in OPEN_STATUSES:
                        shelter_status_change(
                            shelter_id=shelter.pk, to_status=ShelterStatus.CLOSED, actor=None, reason=label, at=at
                        )
                        closed += 1
                    continue
                # A full shelter is open already: 満員 still takes check-ins.
                if shelter.status not in OPEN_STATUSES:
                    shelter_status_change(
                        shelter_id=shelter.pk, to_status=ShelterStatus.OPEN, actor=None, reason=label, at=at
                    )
                    opened += 1
                change = wanted[shelter.pk] - staying.get(shelter.pk, 0)
                if change > 0:
                    checked_in += self._arrive(shelter.pk, change, at=at)
                elif change < 0:
                    checked_out += self._leave(shelter.pk, -change, at=at)
        ReplayRun.objects.filter(name=REPLAY_NAME).update(
            simulated_at=snapshot.at, snapshots_applied=F("snapshots_applied") + 1
        )
        events.replay_progressed()
        figures = Shelter.objects.filter(pk__in=self.replay_shelter_ids, status__in=OPEN_STATUSES).aggregate(
            shelters=Count("pk"), people=Sum("occupancy")
        )
        return SnapshotOutcome(
            snapshot=snapshot,
            applied_at=at,
            open_shelters=figures["shelters"],
            people=figures["people"] or 0,
            opened=opened,
            closed=closed,
            checked_in=checked_in,
            checked_out=checked_out,
        )

    def _arrive(self, shelter_id: int, people: int, *, at: datetime) -> int:
        sizes, weights = zip(*HOUSEHOLD_SIZES, strict=True)
        remaining = people
        while remaining:
            size = min(remaining, self.rng.choices(sizes, weights)[0])
            members = [self._person() for _ in range(size)]
            household = household_register(members=members, actor=None, source=DataSource.REPLAY)
            stay_check_in(
                shelter_id=shelter_id,
                evacuee_ids=list(household.members.order_by("pk").values_list("pk", flat=True)),
                actor=None,
                at=at,
                source=DataSource.REPLAY,
            )
            remaining -= size
        return people

    def _person(self) -> PersonData:
        number, self.next_number = self.next_number, self.next_number + 1
        return PersonData(name=EVACUEE_NAME.format(number=number), name_kana=EVACUEE_KANA.format(number=number))

    def _leave(self, shelter_id: int, people: int, *, at: datetime) -> int:
        """Check out `people` of the shelter's replay evacuees, whole households at random."""
        if not people:
            return 0
        households: dict[int | None, list[int]] = {}
        stays = _open_replay_stays().filter(shelter_id=shelter_id).order_by("pk")
        for stay_id, household_id in stays.values_list("pk", "evacuee__household_id"):
            households.setdefault(household_id, []).append(stay_id)
        groups = list(households.values())
        self.rng.shuffle(groups)
        destinations, weights = zip(*DESTINATIONS, strict=True)
        leaving = 0
        for group in groups:
            destination = self.rng.choices(destinations, weights)[0]
            for stay_id in group[: people - leaving]:
                stay_check_out(stay_id=stay_id, actor=None, destination=destination, at=at)
                leaving += 1
            if leaving == people:
                break
        return leaving


def _open_replay_stays() -> models.QuerySet[Stay]:
    return Stay.objects.filter(source=DataSource.REPLAY, checked_out_at__isnull=True)


def replay_nanao(
    *,
    directory: Path | None = None,
    speed: float = DEFAULT_SPEED,
    start: datetime | None = None,
    until: datetime | None = None,
    on_snapshot: Callable[[SnapshotOutcome], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[SnapshotOutcome]:
    """Replay the snapshots from `start` to `until` (inclusive) at `speed`; 0 means without waiting.

    Every file is read before anything is written. The wait before each snapshot is measured from
    the first one, so the time spent applying them does not add up into drift.
    """
    reference = read_reference(directory)
    snapshots = read_snapshots(directory)
    chosen = [s for s in snapshots if (start is None or s.at >= start) and (until is None or s.at <= until)]
    if not chosen:
        raise ReplayDataError("No snapshot in the chosen period.")
    shelter_ids = replay_shelters_import(reference=reference, snapshots=snapshots)
    replayer = _Replayer(shelter_ids=shelter_ids, rng=random.Random(SEED))
    ReplayRun.objects.update_or_create(
        name=REPLAY_NAME,
        defaults={"started_at": timezone.now(), "simulated_at": None, "snapshots_applied": 0, "finished_at": None},
    )
    outcomes = []
    began = clock()
    try:
        for snapshot in chosen:
            if speed > 0:
                due = began + (snapshot.at - chosen[0].at).total_seconds() / speed
                if (wait := due - clock()) > 0:
                    sleep(wait)
            outcome = replayer.apply(snapshot)
            outcomes.append(outcome)
            if on_snapshot:
                on_snapshot(outcome)
    finally:
        # Also when interrupted: the run is no longer going on, whatever its simulated time.
        ReplayRun.objects.filter(name=REPLAY_NAME).update(finished_at=timezone.now())
        events.replay_progressed()
    return outcomes


# --- Removing the replay ------------------------------------------------------------------------


@dataclass(frozen=True)
class ClearSummary:
    shelters: int
    evacuees: int
    households: int
    stays: int


def replay_clear() -> ClearSummary:
    """Remove everything a replay made (`source=replay`), leaving sample and real data as they were.

    The removal is `common.sources.source_rows_remove`, the one the demo's reset uses: every app
    removes its replay rows (answers, requests, notifications, then shelters and people). A replay
    person checked in at a non-replay shelter (by hand, on a dashboard) is checked out through the
    service first, so that shelter's figures stay right. A stay of someone else at a replay shelter
    goes with the shelter: it cannot outlive it (PROTECT), and it was replay-world.
    """
    with transaction.atomic():
        counts = source_rows_remove(source=DataSource.REPLAY)
        ReplayRun.objects.all().delete()
        events.replay_progressed()
    return ClearSummary(
        shelters=counts.get("shelters", 0),
        evacuees=counts.get("evacuees", 0),
        households=counts.get("households", 0),
        stays=counts.get("stays", 0),
    )
