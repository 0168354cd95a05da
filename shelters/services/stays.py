"""Every write to shelters, evacuees and stays. Views, the API, commands and tasks call these.

Locking order, to stay free of deadlocks: the people being checked in, transferred or changed (in
id order), then shelters (in id order), then stays, then what moves with a person (their open
follow-up cases and supply requests, see services/moves.py). A check-out locks no person. Whoever
opens a stay holds the person: a second check-in of them waits on that lock, never on the open
stay's unique index while holding a shelter another is waiting for.

Each shelter's live figures (occupancy, outside count, support counts) are counters that change
only here, in the same transaction as the stays they count and under that shelter's row lock
(services/counters.py). A staying person's support needs change only under the lock of the shelter
where they stay, so whoever holds that lock reads them as the counters hold them.

Check-in, check-out and transfer go the lean way first: the fewest statements, uniqueness and
idempotency left to the database's indexes, the event built from the counters' UPDATE … RETURNING.
Anything unusual there (a retry, someone staying elsewhere, a closed shelter, a person unknown or
anonymised, no right to operate the shelter) rolls the lean attempt back and the careful way, which
checks everything in turn, does the work or says exactly what is wrong.
"""

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from access.consent import current_context
from access.errors import NotVisible
from access.policy import can_operate_shelter
from common.audit import audit_record, audit_records
from common.errors import ApplicationError
from consent import asking
from consent.models import subject_of, subject_of_city_os_id
from consent.rules import Category, Method, Recipient
from consent.services import consents_record
from shelters import events
from shelters.models import (
    CheckIn,
    DataSource,
    Destination,
    Evacuee,
    Household,
    Shelter,
    ShelterStatus,
    ShelterStatusChange,
    Stay,
    StayMode,
    SupportCategory,
    SupportNeed,
    User,
)
from shelters.selectors import STATE_COLUMNS, state_of
from shelters.services import asking as desk_asking
from shelters.services.counters import Figures, codes_of, figures_of, shelter_figures_move
from shelters.services.moves import move_pending, people_moved

# Allowed manual status changes. 満員 is also set and lifted automatically by occupancy.
STATUS_TRANSITIONS: dict[str, set[str]] = {
    ShelterStatus.STANDBY: {ShelterStatus.OPEN, ShelterStatus.CLOSED},
    ShelterStatus.OPEN: {ShelterStatus.FULL, ShelterStatus.CLOSED},
    ShelterStatus.FULL: {ShelterStatus.OPEN, ShelterStatus.CLOSED},
    ShelterStatus.CLOSED: {ShelterStatus.OPEN, ShelterStatus.STANDBY},
}


def shelters_lock(shelter_ids: Iterable[int]) -> dict[int, Shelter]:
    """Lock shelters in id order (the locking order above); not found if any is gone."""
    ids = sorted(set(shelter_ids))
    shelters = {s.pk: s for s in Shelter.objects.select_for_update().filter(pk__in=ids).order_by("pk")}
    missing = set(ids) - shelters.keys()
    if missing:
        raise ApplicationError(_("Shelter not found."), code="not_found", field="shelter", status_code=404)
    return shelters


# --- Shelter status -----------------------------------------------------------------------------


def _apply_status(
    *, shelter: Shelter, to_status: str, actor: User | None, reason: str, automatic: bool, at: datetime
) -> ShelterStatusChange:
    """Record a status change on a shelter the caller has locked."""
    change = ShelterStatusChange.objects.create(
        shelter=shelter,
        from_status=shelter.status,
        to_status=to_status,
        changed_by=actor,
        changed_at=at,
        reason=reason,
        automatic=automatic,
    )
    fields = ["status", "updated_at"]
    if to_status == ShelterStatus.OPEN and shelter.status in (ShelterStatus.STANDBY, ShelterStatus.CLOSED):
        shelter.opened_at = at
        shelter.closed_at = None
        fields += ["opened_at", "closed_at"]
    elif to_status == ShelterStatus.CLOSED:
        shelter.closed_at = at
        fields.append("closed_at")
    shelter.status = to_status
    shelter.version += 1
    shelter.save(update_fields=[*fields, "version"])
    events.shelters_changed([shelter.pk])
    audit_record(
        actor=actor,
        action="shelter.status_change",
        object_type="shelter",
        object_id=shelter.pk,
        details={"from": change.from_status, "to": to_status, "automatic": automatic},
    )
    return change


@transaction.atomic
def shelter_status_change(
    *, shelter_id: int, to_status: str, actor: User | None, reason: str = "", at: datetime | None = None
) -> ShelterStatusChange:
    shelter = shelters_lock([shelter_id])[shelter_id]
    if to_status not in ShelterStatus.values:
        raise ApplicationError(_("Unknown status."), field="status")
    if to_status not in STATUS_TRANSITIONS[shelter.status]:
        raise ApplicationError(
            _("A shelter cannot go from %(from)s to %(to)s.")
            % {"from": ShelterStatus(shelter.status).label, "to": ShelterStatus(to_status).label},
            code="invalid_transition",
            field="status",
        )
    return _apply_status(
        shelter=shelter, to_status=to_status, actor=actor, reason=reason, automatic=False, at=at or timezone.now()
    )


def _adjust_counts(shelter: Shelter, figures: Figures, *, actor: User | None, at: datetime) -> None:
    """Move a locked shelter's counters, set or lift 満員 automatically, and send its state."""
    if not figures:
        automatic_full_apply(shelter=shelter, actor=actor, at=at)
        return
    state = shelter_figures_move(shelter.pk, figures, at=at)
    for name in ("occupancy", "outside_count", "support_people", "support_counts", "version"):
        setattr(shelter, name, state[name])
    _figures_moved(shelter, state, actor=actor, at=at)


def _figures_moved(shelter: Shelter, state: dict, *, actor: User | None, at: datetime) -> None:
    """After a shelter's counters moved: 満員 set or lifted when occupancy says so, and the event,
    built from `state` (what the counters' UPDATE handed back) unless the status changed too."""
    status = shelter.status
    automatic_full_apply(shelter=shelter, actor=actor, at=at)
    if shelter.status == status:
        events.shelter_state_changed(state_of(state))
    # else _apply_status noted the shelter: it is read again after commit, with its new status.


def _state_moved(state: dict, *, actor: User | None, at: datetime) -> None:
    """`_figures_moved` for a lean path, which holds the shelter's lock but only its returned state."""
    _figures_moved(Shelter(**{name: state[name] for name in STATE_COLUMNS}), state, actor=actor, at=at)


def automatic_full_apply(*, shelter: Shelter, actor: User | None, at: datetime) -> None:
    """Set or lift 満員 on a locked shelter from its occupancy and capacity.

    An open shelter at or over its capacity turns full; a full one below it (or whose capacity was
    removed) opens again, but only when occupancy had set 満員: a manager who declared the shelter
    full meant it.
    """
    if shelter.status == ShelterStatus.OPEN and shelter.capacity and shelter.occupancy >= shelter.capacity:
        _apply_status(
            shelter=shelter,
            to_status=ShelterStatus.FULL,
            actor=actor,
            reason=_("Capacity reached."),
            automatic=True,
            at=at,
        )
    elif shelter.status == ShelterStatus.FULL and (not shelter.capacity or shelter.occupancy < shelter.capacity):
        last = shelter.status_changes.order_by("-changed_at", "-id").first()
        if last is not None and last.automatic:
            _apply_status(
                shelter=shelter,
                to_status=ShelterStatus.OPEN,
                actor=actor,
                reason=_("Below capacity again."),
                automatic=True,
                at=at,
            )


@transaction.atomic
def shelter_counts_recount(*, shelter_ids: Iterable[int], actor: User | None) -> None:
    """Set shelters' counters from their open stays, after stays were removed rather than checked
    out (removing sample or replay data), and set or lift 満員 to match."""
    from access.figures import occupancy_by_shelter, support_counts_by_shelter, support_people_by_shelter

    at = timezone.now()
    shelters = shelters_lock(shelter_ids)
    occupancy = occupancy_by_shelter(shelter_ids=list(shelters))
    support_counts = support_counts_by_shelter(shelter_ids=list(shelters))
    support_people = support_people_by_shelter(shelter_ids=list(shelters))
    for shelter in shelters.values():
        inside, outside = occupancy.get(shelter.pk, (0, 0))
        counts = support_counts.get(shelter.pk, {})
        held = shelter.support_counts or {}
        _adjust_counts(
            shelter,
            Figures(
                inside=inside - shelter.occupancy,
                outside=outside - shelter.outside_count,
                support_people=support_people.get(shelter.pk, 0) - shelter.support_people,
                support={code: counts.get(code, 0) - held.get(code, 0) for code in set(counts) | set(held)},
            ),
            actor=actor,
            at=at,
        )


# --- Stays --------------------------------------------------------------------------------------


class _NotLean(Exception):
    """The lean way met something unusual: its transaction is rolled back, the careful way goes."""


def _lean_failed(shelter_ids: Iterable[int]) -> None:
    """A lean attempt rolled back inside a larger transaction may have left its shelters' states
    with the transaction's events: read them again after commit instead."""
    if transaction.get_connection().in_atomic_block:
        events.shelters_changed(shelter_ids)


@dataclass(frozen=True)
class CheckInResult:
    check_in: CheckIn
    stays: list[Stay]
    replayed: bool  # True when an idempotency key matched an earlier check-in
    # What the resident refused at the desk and was therefore not written (a walk-in's categories).
    not_recorded: frozenset[str] = frozenset()


def stay_check_in(
    *,
    shelter_id: int,
    evacuee_ids: Sequence[int],
    actor: User | None,
    mode: str = StayMode.INSIDE,
    idempotency_key: str | None = None,
    at: datetime | None = None,
    source: str = DataSource.REAL,
    among: QuerySet[Evacuee] | None = None,
    operator: User | None = None,
) -> CheckInResult:
    """Check one person or a whole household into a shelter in one action.

    `among`: the people the caller may name (access.people.check_in_candidates), anyone when None;
    `operator`: whose right to operate the shelter is checked (a request's user), nobody's when None.
    """
    evacuee_ids = list(dict.fromkeys(evacuee_ids))
    if not evacuee_ids:
        raise ApplicationError(_("Choose at least one person to check in."), field="evacuees")
    if mode not in StayMode.values:
        raise ApplicationError(_("Unknown stay mode."), field="mode")
    arguments = {
        "shelter_id": shelter_id,
        "evacuee_ids": evacuee_ids,
        "actor": actor,
        "mode": mode,
        "idempotency_key": idempotency_key or None,
        "at": at or timezone.now(),
        "source": source,
        "among": among,
        "operator": operator,
    }
    try:
        return _check_in_lean(**arguments)
    except (_NotLean, IntegrityError):
        _lean_failed([shelter_id])
    # A retry is answered inside `_check_in`, under the shelter's lock, where it also sees a first
    # attempt that committed while this one waited.
    try:
        return _check_in(**arguments)
    except IntegrityError as error:
        # Lost a race: the same request committed first (idempotency key), or one of these people
        # was checked in elsewhere at the same moment (one open stay per person).
        if arguments["idempotency_key"]:
            earlier = _earlier_check_in(arguments["idempotency_key"], shelter_id=shelter_id, evacuee_ids=evacuee_ids)
            if earlier:
                return earlier
        raise ApplicationError(
            _("Someone in this group was checked in elsewhere at the same moment. Search again."),
            code="already_checked_in",
            field="evacuees",
            status_code=409,
        ) from error


def _stays_open(
    *,
    shelter_id: int,
    evacuee_ids: list[int],
    actor: User | None,
    mode: str,
    idempotency_key: str | None,
    at: datetime,
    source: str,
) -> tuple[CheckIn, list[Stay]]:
    """The check-in and its stays, inserted (two statements; their unique indexes refuse a reused
    key and a second open stay), and the audit entry of the check-in."""
    check_in = CheckIn.objects.create(
        idempotency_key=idempotency_key, shelter_id=shelter_id, performed_by=actor, performed_at=at
    )
    stays = Stay.objects.bulk_create(
        Stay(
            evacuee_id=evacuee_id,
            shelter_id=shelter_id,
            check_in=check_in,
            mode=mode,
            checked_in_at=at,
            checked_in_by=actor,
            source=source,
        )
        for evacuee_id in evacuee_ids
    )
    audit_record(
        actor=actor,
        action="stay.check_in",
        object_type="check_in",
        object_id=check_in.pk,
        details={"shelter": shelter_id, "evacuees": evacuee_ids, "mode": mode},
    )
    return check_in, stays


@transaction.atomic
def _check_in_lean(
    *,
    shelter_id: int,
    evacuee_ids: list[int],
    actor: User | None,
    mode: str,
    idempotency_key: str | None,
    at: datetime,
    source: str,
    among: QuerySet[Evacuee] | None,
    operator: User | None,
) -> CheckInResult:
    """Five statements whatever the household's size: lock the people (reading what moves the
    counters, and whether anything of theirs moves with them), move the shelter's counters (its
    lock, its state, the operator's right and whether it takes check-ins, in one UPDATE), insert the
    check-in (its idempotency key unique) and the stays (one open stay per person), audit
    (`_stays_open`)."""
    people = (among if among is not None else Evacuee.objects.all()).filter(pk__in=evacuee_ids)
    columns = ["pk", "anonymised_at", "requires_evacuation_support", "support_codes"]
    pending = move_pending()
    if pending is not None:
        people = people.annotate(moving=pending)
        columns.append("moving")
    found = {row[0]: row for row in people.select_for_update(of=("self",)).order_by("pk").values_list(*columns)}
    if len(found) != len(evacuee_ids) or any(row[1] is not None for row in found.values()):
        raise _NotLean
    figures = figures_of((mode, row[2], row[3]) for row in found.values())
    state = shelter_figures_move(shelter_id, figures, at=at, accepting_only=True, operator=operator)
    if state is None:
        raise _NotLean
    check_in, stays = _stays_open(
        shelter_id=shelter_id,
        evacuee_ids=evacuee_ids,
        actor=actor,
        mode=mode,
        idempotency_key=idempotency_key,
        at=at,
        source=source,
    )
    moving = [pk for pk, row in found.items() if pending is not None and row[-1]]
    if moving:
        people_moved(evacuee_ids=moving, to_shelter_id=shelter_id, actor=actor)
    _state_moved(state, actor=actor, at=at)
    return CheckInResult(check_in=check_in, stays=stays, replayed=False)


def _earlier_check_in(key: str, *, shelter_id: int, evacuee_ids: list[int]) -> CheckInResult | None:
    check_in = CheckIn.objects.filter(idempotency_key=key).first()
    if check_in is None:
        return None
    stays = list(check_in.stays.select_related("evacuee", "shelter").order_by("id"))
    if check_in.shelter_id != shelter_id or sorted(s.evacuee_id for s in stays) != sorted(evacuee_ids):
        raise ApplicationError(
            _("This idempotency key was already used for a different check-in."),
            code="idempotency_key_reused",
            field="idempotency_key",
            status_code=409,
        )
    return CheckInResult(check_in=check_in, stays=stays, replayed=True)


def _refuse_unless_operator(operator: User | None, shelter_id: int) -> None:
    if operator is not None and not can_operate_shelter(operator, shelter_id):
        # Not 404: the shelter registry is public knowledge, the refusal is about operating it.
        raise ApplicationError(
            _("You do not operate this shelter."), code="permission_denied", field="shelter", status_code=403
        )


@transaction.atomic
def _check_in(
    *,
    shelter_id: int,
    evacuee_ids: list[int],
    actor: User | None,
    mode: str,
    idempotency_key: str | None,
    at: datetime,
    source: str,
    among: QuerySet[Evacuee] | None,
    operator: User | None,
) -> CheckInResult:
    _refuse_unless_operator(operator, shelter_id)
    if among is not None and among.filter(pk__in=evacuee_ids).count() != len(evacuee_ids):
        raise NotVisible(_("Unknown person."), field="evacuees")
    # The people's rows are locked first (the locking order), so that the retention job, which locks
    # a person before anonymising them, never anonymises someone being checked in, and nobody
    # changes their support needs meanwhile.
    found = {
        row[0]: row
        for row in Evacuee.objects.select_for_update()
        .filter(pk__in=evacuee_ids)
        .order_by("pk")
        .values_list("pk", "anonymised_at", "requires_evacuation_support", "support_codes")
    }
    shelter = shelters_lock([shelter_id])[shelter_id]
    if idempotency_key:
        # A retry that waited for the shelter lock sees the first attempt's commit now.
        earlier = _earlier_check_in(idempotency_key, shelter_id=shelter_id, evacuee_ids=evacuee_ids)
        if earlier:
            return earlier
    if not shelter.accepts_check_ins:
        raise ApplicationError(
            _("%(shelter)s is %(status)s and does not accept check-ins.")
            % {"shelter": shelter.name, "status": ShelterStatus(shelter.status).label},
            code="shelter_not_open",
            field="shelter",
        )
    if len(found) != len(evacuee_ids):
        raise ApplicationError(_("Unknown person."), code="not_found", field="evacuees", status_code=404)
    if any(row[1] is not None for row in found.values()):
        raise ApplicationError(
            _("This person's data has been anonymised: register them again."),
            code="anonymised",
            field="evacuees",
        )
    already = list(
        Stay.objects.filter(evacuee_id__in=evacuee_ids, checked_out_at__isnull=True).values_list(
            "evacuee_id", "shelter__name"
        )
    )
    if already:
        evacuee_id, shelter_name = already[0]
        raise ApplicationError(
            _("Person #%(id)s is already checked in at %(shelter)s. Check them out or transfer them first.")
            % {"id": evacuee_id, "shelter": shelter_name},
            code="already_checked_in",
            field="evacuees",
            status_code=409,
        )
    check_in, stays = _stays_open(
        shelter_id=shelter.pk,
        evacuee_ids=evacuee_ids,
        actor=actor,
        mode=mode,
        idempotency_key=idempotency_key,
        at=at,
        source=source,
    )
    figures = figures_of((mode, row[2], row[3]) for row in found.values())
    _adjust_counts(shelter, figures, actor=actor, at=at)
    # Open cases and requests of people who stayed elsewhere before come along to this shelter.
    people_moved(evacuee_ids=evacuee_ids, to_shelter_id=shelter.pk, actor=actor)
    return CheckInResult(check_in=check_in, stays=stays, replayed=False)


def _stay_figures(mode: str, evacuee_id: int) -> Figures:
    """What one person's stay counts for, their support read now (the caller holds the shelter's lock)."""
    requires_support, support_codes = Evacuee.objects.filter(pk=evacuee_id).values_list(
        "requires_evacuation_support", "support_codes"
    )[0]
    return figures_of([(mode, requires_support, support_codes)])


def _lock_open_stay(stay_id: int) -> Stay:
    stay = Stay.objects.select_for_update().filter(pk=stay_id).first()
    if stay is None:
        raise ApplicationError(_("Stay not found."), code="not_found", status_code=404)
    if not stay.is_open:
        raise ApplicationError(_("This person has already been checked out."), code="already_checked_out")
    return stay


def _close_stay(
    stay: Stay,
    *,
    shelter: Shelter,
    actor: User | None,
    destination: str,
    destination_shelter: Shelter | None,
    at: datetime,
) -> None:
    stay.checked_out_at = max(at, stay.checked_in_at)
    stay.checked_out_by = actor
    stay.destination = destination
    stay.destination_shelter = destination_shelter
    stay.save(update_fields=["checked_out_at", "checked_out_by", "destination", "destination_shelter"])
    _adjust_counts(shelter, -_stay_figures(stay.mode, stay.evacuee_id), actor=actor, at=at)


@dataclass(frozen=True)
class _OpenStay:
    """An open stay as the lean ways read it, without locks: checked again once the shelter is locked."""

    evacuee_id: int
    shelter_id: int
    mode: str
    checked_in_at: datetime
    source: str
    requires_support: bool
    support_codes: str

    @property
    def figures(self) -> Figures:
        return figures_of([(self.mode, self.requires_support, self.support_codes)])


def _open_stay(stay_id: int, among: QuerySet[Stay] | None) -> _OpenStay:
    row = (
        (among if among is not None else Stay.objects.all())
        .filter(pk=stay_id, checked_out_at__isnull=True)
        .values_list(
            "evacuee_id",
            "shelter_id",
            "mode",
            "checked_in_at",
            "source",
            "evacuee__requires_evacuation_support",
            "evacuee__support_codes",
        )
        .first()
    )
    if row is None:
        raise _NotLean
    return _OpenStay(*row)


def _person_locked(seen: _OpenStay) -> _OpenStay:
    """Lock the person of a stay about to be moved (the locking order: people first), and read
    their support again under that lock."""
    support = (
        Evacuee.objects.select_for_update()
        .filter(pk=seen.evacuee_id)
        .values_list("requires_evacuation_support", "support_codes")
        .first()
    )
    if support is None:
        raise _NotLean
    return replace(seen, requires_support=support[0], support_codes=support[1])


def _close_open_stay(stay_id: int, seen: _OpenStay, **changes) -> None:
    """Close the stay read as `seen`, under its shelter's lock: the WHERE, read after that lock,
    checks that it is still open there and that the person's support is still what was counted."""
    closed = Stay.objects.filter(
        pk=stay_id,
        checked_out_at__isnull=True,
        shelter_id=seen.shelter_id,
        evacuee__requires_evacuation_support=seen.requires_support,
        evacuee__support_codes=seen.support_codes,
    ).update(**changes)
    if not closed:
        raise _NotLean


def stay_check_out(
    *,
    stay_id: int,
    actor: User | None,
    destination: str,
    at: datetime | None = None,
    among: QuerySet[Stay] | None = None,
) -> Stay:
    """Check a person out. `among`: the stays the caller may move (access.people.stays_to_move),
    any when None; another stay is not found."""
    if destination not in Destination.values:
        raise ApplicationError(_("Choose where the person is going."), field="destination")
    if destination == Destination.OTHER_SHELTER:
        raise ApplicationError(_("Use a transfer to move someone to another shelter."), field="destination")
    at = at or timezone.now()
    try:
        return _check_out_lean(stay_id=stay_id, actor=actor, destination=destination, at=at, among=among)
    except _NotLean:
        pass
    return _check_out(stay_id=stay_id, actor=actor, destination=destination, at=at, among=among)


@transaction.atomic
def _check_out_lean(*, stay_id: int, actor: User | None, destination: str, at: datetime, among) -> Stay:
    """Four statements: read the stay, move the shelter's counters (its lock), close the stay if it
    is still as read, audit."""
    seen = _open_stay(stay_id, among)
    state = shelter_figures_move(seen.shelter_id, -seen.figures, at=at)
    if state is None:
        raise _NotLean
    checked_out_at = max(at, seen.checked_in_at)
    _close_open_stay(stay_id, seen, checked_out_at=checked_out_at, checked_out_by=actor, destination=destination)
    _state_moved(state, actor=actor, at=at)
    audit_record(
        actor=actor,
        action="stay.check_out",
        object_type="stay",
        object_id=stay_id,
        details={"shelter": seen.shelter_id, "destination": destination},
    )
    return Stay(
        pk=stay_id,
        evacuee_id=seen.evacuee_id,
        shelter_id=seen.shelter_id,
        mode=seen.mode,
        checked_in_at=seen.checked_in_at,
        checked_out_at=checked_out_at,
        checked_out_by=actor,
        destination=destination,
        source=seen.source,
    )


def _stay_shelter(stay_id: int, among: QuerySet[Stay] | None) -> int:
    stays = among if among is not None else Stay.objects.all()
    shelter_id = stays.filter(pk=stay_id).values_list("shelter_id", flat=True).first()
    if shelter_id is None:
        raise ApplicationError(_("Stay not found."), code="not_found", status_code=404)
    return shelter_id


@transaction.atomic
def _check_out(*, stay_id: int, actor: User | None, destination: str, at: datetime, among) -> Stay:
    shelter_id = _stay_shelter(stay_id, among)
    shelter = shelters_lock([shelter_id])[shelter_id]
    stay = _lock_open_stay(stay_id)
    _close_stay(stay, shelter=shelter, actor=actor, destination=destination, destination_shelter=None, at=at)
    audit_record(
        actor=actor,
        action="stay.check_out",
        object_type="stay",
        object_id=stay.pk,
        details={"shelter": shelter.pk, "destination": destination},
    )
    return stay


def stay_transfer(
    *,
    stay_id: int,
    to_shelter_id: int,
    actor: User | None,
    mode: str | None = None,
    at: datetime | None = None,
    among: QuerySet[Stay] | None = None,
) -> Stay:
    """Move a person to another shelter: closes this stay and opens one there, atomically.
    `among`: as for a check-out."""
    at = at or timezone.now()
    arguments = {"stay_id": stay_id, "to_shelter_id": to_shelter_id, "actor": actor, "mode": mode, "at": at}
    try:
        return _transfer_lean(**arguments, among=among)
    except (_NotLean, IntegrityError):
        _lean_failed([to_shelter_id])
    return _transfer(**arguments, among=among)


def _stay_arrived(
    *, evacuee_id: int, shelter_id: int, mode: str, source: str, actor: User | None, at: datetime
) -> Stay:
    """The transferred person's new stay and the check-in that opens it (no key: the transfer's own)."""
    check_in = CheckIn.objects.create(shelter_id=shelter_id, performed_by=actor, performed_at=at)
    return Stay.objects.create(
        evacuee_id=evacuee_id,
        shelter_id=shelter_id,
        check_in=check_in,
        mode=mode,
        checked_in_at=at,
        checked_in_by=actor,
        source=source,
    )


@transaction.atomic
def _transfer_lean(
    *, stay_id: int, to_shelter_id: int, actor: User | None, mode: str | None, at: datetime, among
) -> Stay:
    seen = _person_locked(_open_stay(stay_id, among))
    if seen.shelter_id == to_shelter_id:
        raise _NotLean
    new_mode = mode or seen.mode
    arriving = figures_of([(new_mode, seen.requires_support, seen.support_codes)])
    moves = {seen.shelter_id: (-seen.figures, False), to_shelter_id: (arriving, True)}
    states = {}
    for shelter_id in sorted(moves):  # the locking order: shelters in id order
        figures, accepting_only = moves[shelter_id]
        states[shelter_id] = shelter_figures_move(shelter_id, figures, at=at, accepting_only=accepting_only)
        if states[shelter_id] is None:
            raise _NotLean
    _close_open_stay(
        stay_id,
        seen,
        checked_out_at=max(at, seen.checked_in_at),
        checked_out_by=actor,
        destination=Destination.OTHER_SHELTER,
        destination_shelter_id=to_shelter_id,
    )
    new_stay = _stay_arrived(
        evacuee_id=seen.evacuee_id, shelter_id=to_shelter_id, mode=new_mode, source=seen.source, actor=actor, at=at
    )
    people_moved(evacuee_ids=[seen.evacuee_id], to_shelter_id=to_shelter_id, actor=actor)
    for state in states.values():
        _state_moved(state, actor=actor, at=at)
    audit_record(
        actor=actor,
        action="stay.transfer",
        object_type="stay",
        object_id=new_stay.pk,
        details={"from_stay": stay_id, "from_shelter": seen.shelter_id, "to_shelter": to_shelter_id},
    )
    return new_stay


@transaction.atomic
def _transfer(*, stay_id: int, to_shelter_id: int, actor: User | None, mode: str | None, at: datetime, among) -> Stay:
    from_shelter_id = _stay_shelter(stay_id, among)
    # People first (the locking order): the person of the stay, not the stay itself yet.
    Evacuee.objects.select_for_update(of=("self",)).filter(stays__pk=stay_id).values_list("pk").first()
    if from_shelter_id == to_shelter_id:
        raise ApplicationError(_("The person is already in this shelter."), field="to_shelter")
    shelters = shelters_lock([from_shelter_id, to_shelter_id])
    target = shelters[to_shelter_id]
    if not target.accepts_check_ins:
        raise ApplicationError(
            _("%(shelter)s is %(status)s and does not accept check-ins.")
            % {"shelter": target.name, "status": ShelterStatus(target.status).label},
            code="shelter_not_open",
            field="to_shelter",
        )
    stay = _lock_open_stay(stay_id)
    mode = mode or stay.mode
    _close_stay(
        stay,
        shelter=shelters[from_shelter_id],
        actor=actor,
        destination=Destination.OTHER_SHELTER,
        destination_shelter=target,
        at=at,
    )
    new_stay = _stay_arrived(
        evacuee_id=stay.evacuee_id, shelter_id=target.pk, mode=mode, source=stay.source, actor=actor, at=at
    )
    _adjust_counts(target, _stay_figures(mode, stay.evacuee_id), actor=actor, at=at)
    people_moved(evacuee_ids=[stay.evacuee_id], to_shelter_id=target.pk, actor=actor)
    audit_record(
        actor=actor,
        action="stay.transfer",
        object_type="stay",
        object_id=new_stay.pk,
        details={"from_stay": stay.pk, "from_shelter": from_shelter_id, "to_shelter": to_shelter_id},
    )
    return new_stay


# --- Evacuees and households --------------------------------------------------------------------


def _new_walk_in_id() -> str:
    return "W" + secrets.token_hex(5).upper()


@dataclass
class PersonData:
    name: str
    name_kana: str = ""
    birth_date: date | None = None
    sex: str = "unknown"
    address: str = ""
    phone: str = ""
    city_os_id: str | None = None
    requires_evacuation_support: bool = False
    support_needs: dict[str, str] | None = None  # category code -> notes


def _set_support_needs(evacuee: Evacuee, needs: dict[str, str]) -> None:
    """Write the person's support needs, and their codes on their own row (`support_codes`, which
    the shelters' counters are moved by). A staying person's counters are the caller's business:
    `evacuee_update` holds the shelter's lock."""
    categories = {c.code: c for c in SupportCategory.objects.filter(code__in=needs)}
    unknown = set(needs) - categories.keys()
    if unknown:
        raise ApplicationError(
            _("Unknown support need: %(codes)s") % {"codes": ", ".join(sorted(unknown))}, field="support_needs"
        )
    SupportNeed.objects.filter(evacuee=evacuee).exclude(category__code__in=needs).delete()
    for code, notes in needs.items():
        SupportNeed.objects.update_or_create(
            evacuee=evacuee, category=categories[code], defaults={"notes": (notes or "")[:500]}
        )
    support_codes = ",".join(sorted(needs))
    if evacuee.support_codes != support_codes:
        evacuee.support_codes = support_codes
        evacuee.save(update_fields=["support_codes"])


def _create_evacuee(person: PersonData, *, household: Household | None, source: str) -> Evacuee:
    if not person.name.strip():
        raise ApplicationError(_("Enter a name."), field="name")
    city_os_id = (person.city_os_id or "").strip() or None
    if city_os_id and Evacuee.objects.filter(city_os_id=city_os_id).exists():
        raise ApplicationError(
            _("A person with this City OS ID is already registered. Search for them instead."),
            code="duplicate",
            field="city_os_id",
            status_code=409,
        )
    evacuee = Evacuee.objects.create(
        city_os_id=city_os_id,
        walk_in_id=_new_walk_in_id(),
        name=person.name.strip(),
        name_kana=person.name_kana.strip(),
        birth_date=person.birth_date,
        sex=person.sex,
        address=person.address.strip(),
        phone=person.phone.strip(),
        household=household,
        requires_evacuation_support=person.requires_evacuation_support,
        source=source,
    )
    if person.support_needs:
        _set_support_needs(evacuee, person.support_needs)
    return evacuee


def _create_members(members: Sequence[tuple[PersonData, Household | None]], *, source: str) -> list[Evacuee]:
    """Create each person in their household (or none), in bulk: one query for known City OS IDs,
    one for the support categories, one INSERT of the people and one of their needs, whatever the
    household's size. An error names the member: `members[1].name`."""

    def refuse(index: int, error: ApplicationError):
        error.field = f"members[{index}].{error.field}" if error.field else f"members[{index}]"
        return error

    for index, (person, _household) in enumerate(members):
        if not person.name.strip():
            raise refuse(index, ApplicationError(_("Enter a name."), field="name"))
    city_os_ids = [(person.city_os_id or "").strip() or None for person, _household in members]
    known = set(
        Evacuee.objects.filter(city_os_id__in=[i for i in city_os_ids if i]).values_list("city_os_id", flat=True)
    )
    codes = {code for person, _household in members for code in (person.support_needs or {})}
    categories = {c.code: c for c in SupportCategory.objects.filter(code__in=codes)} if codes else {}
    for index, (person, _household) in enumerate(members):
        if city_os_ids[index] in known or (city_os_ids[index] and city_os_ids.index(city_os_ids[index]) != index):
            raise refuse(
                index,
                ApplicationError(
                    _("A person with this City OS ID is already registered. Search for them instead."),
                    code="duplicate",
                    field="city_os_id",
                    status_code=409,
                ),
            )
        unknown = set(person.support_needs or {}) - categories.keys()
        if unknown:
            raise refuse(
                index,
                ApplicationError(
                    _("Unknown support need: %(codes)s") % {"codes": ", ".join(sorted(unknown))},
                    field="support_needs",
                ),
            )
    evacuees = Evacuee.objects.bulk_create(
        Evacuee(
            city_os_id=city_os_ids[index],
            walk_in_id=_new_walk_in_id(),
            name=person.name.strip(),
            name_kana=person.name_kana.strip(),
            birth_date=person.birth_date,
            sex=person.sex,
            address=person.address.strip(),
            phone=person.phone.strip(),
            household=household,
            requires_evacuation_support=person.requires_evacuation_support,
            support_codes=",".join(sorted(person.support_needs or {})),
            source=source,
        )
        for index, (person, household) in enumerate(members)
    )
    needs = [
        SupportNeed(evacuee=evacuee, category=categories[code], notes=(notes or "")[:500])
        for evacuee, (person, _household) in zip(evacuees, members, strict=True)
        for code, notes in (person.support_needs or {}).items()
    ]
    if needs:
        SupportNeed.objects.bulk_create(needs)
    return evacuees


@transaction.atomic
def evacuee_register(*, person: PersonData, actor: User | None, source: str = DataSource.REAL) -> Evacuee:
    evacuee = _create_evacuee(person, household=None, source=source)
    audit_record(actor=actor, action="evacuee.register", object_type="evacuee", object_id=evacuee.pk)
    return evacuee


UPDATABLE_EVACUEE_FIELDS = (
    "name",
    "name_kana",
    "birth_date",
    "sex",
    "address",
    "phone",
    "city_os_id",
    "requires_evacuation_support",
)


@transaction.atomic
def evacuee_update(*, evacuee_id: int, actor: User | None, changes: dict) -> Evacuee:
    evacuee = Evacuee.objects.select_for_update().get(pk=evacuee_id)
    if evacuee.anonymised_at is not None:
        raise ApplicationError(_("This person's data has been anonymised: register them again."), field="evacuee")
    needs = changes.pop("support_needs", None)
    support_before = (evacuee.requires_evacuation_support, evacuee.support_codes)
    changed = []
    for field, value in changes.items():
        if field not in UPDATABLE_EVACUEE_FIELDS:
            raise ApplicationError(_("This field cannot be changed here."), field=field)
        if field == "city_os_id":
            value = (value or "").strip() or None
            if value and Evacuee.objects.filter(city_os_id=value).exclude(pk=evacuee.pk).exists():
                raise ApplicationError(_("Another person has this City OS ID."), code="duplicate", field=field)
        if getattr(evacuee, field) != value:
            setattr(evacuee, field, value)
            changed.append(field)
    if needs is not None and set(needs) != set(codes_of(evacuee.support_codes)):
        # Validate before any lock: an unknown code is refused before a shelter waits on us.
        _support_categories_exist(needs)
    if changed:
        evacuee.save(update_fields=[*changed, "updated_at"])
    support_after = (
        evacuee.requires_evacuation_support,
        ",".join(sorted(needs)) if needs is not None else evacuee.support_codes,
    )
    if support_after != support_before:
        # Their shelter's lock first: its counters move with their support, and a check-out there
        # reads their support as counted.
        _support_changed(evacuee, support_before, support_after, actor=actor)
    if needs is not None:
        _set_support_needs(evacuee, needs)
        changed.append("support_needs")
    audit_record(
        actor=actor, action="evacuee.update", object_type="evacuee", object_id=evacuee.pk, details={"fields": changed}
    )
    return evacuee


def _support_categories_exist(needs) -> None:
    known = set(SupportCategory.objects.filter(code__in=list(needs)).values_list("code", flat=True))
    unknown = set(needs) - known
    if unknown:
        raise ApplicationError(
            _("Unknown support need: %(codes)s") % {"codes": ", ".join(sorted(unknown))}, field="support_needs"
        )


def _support_changed(
    evacuee: Evacuee, before: tuple[bool, str], after: tuple[bool, str], *, actor: User | None
) -> None:
    """Move the counters of the shelter where the (locked) person stays from their support as it
    was to as it is now, under that shelter's lock. A check-out or transfer that got there first
    moved them already: the stay is read again once the shelter is locked."""
    at = timezone.now()
    for _attempt in range(3):
        stay = Stay.objects.filter(evacuee=evacuee, checked_out_at__isnull=True).values_list("shelter_id").first()
        if stay is None:
            return
        shelter = shelters_lock([stay[0]])[stay[0]]
        mode = (
            Stay.objects.filter(evacuee=evacuee, checked_out_at__isnull=True, shelter=shelter)
            .values_list("mode", flat=True)
            .first()
        )
        if mode is not None:
            figures = figures_of([(mode, *after)]) + -figures_of([(mode, *before)])
            _adjust_counts(shelter, figures, actor=actor, at=at)
            return
    raise ApplicationError(_("This person was moved at the same moment. Try again."), code="conflict", status_code=409)


@transaction.atomic
def household_register(
    *, members: Sequence[PersonData], actor: User | None, source: str = DataSource.REAL
) -> Household:
    """Register a new household; the first member is its representative."""
    if not members:
        raise ApplicationError(_("A household needs at least one member."), field="members")
    household = Household.objects.create(source=source)
    evacuees = _create_members([(person, household) for person in members], source=source)
    household.representative = evacuees[0]
    household.save(update_fields=["representative"])
    audit_record(
        actor=actor,
        action="household.register",
        object_type="household",
        object_id=household.pk,
        details={"members": [e.pk for e in evacuees]},
    )
    return household


@transaction.atomic
def household_set_members(
    *, household_id: int, evacuee_ids: Sequence[int], representative_id: int | None, actor: User | None
) -> Household:
    household = Household.objects.select_for_update().get(pk=household_id)
    Evacuee.objects.filter(household=household).exclude(pk__in=evacuee_ids).update(household=None)
    Evacuee.objects.filter(pk__in=evacuee_ids).update(household=household)
    if representative_id is not None and representative_id not in evacuee_ids:
        raise ApplicationError(_("The representative must be a member."), field="representative")
    household.representative_id = representative_id or (evacuee_ids[0] if evacuee_ids else None)
    household.save(update_fields=["representative"])
    audit_record(
        actor=actor,
        action="household.set_members",
        object_type="household",
        object_id=household.pk,
        details={"members": list(evacuee_ids), "representative": household.representative_id},
    )
    return household


def walk_in_register_and_check_in(
    *,
    shelter_id: int,
    members: Sequence[PersonData],
    actor: User | None,
    mode: str = StayMode.INSIDE,
    idempotency_key: str | None = None,
    consent_answers: Mapping[str, str] | None = None,
) -> CheckInResult:
    """The desk's one-form path: see `_walk_in`. A retry (the same idempotency key) registers the
    people again, finds the key taken at the check-in, rolls all of it back and answers with the
    first check-in: the key's unique index decides, no lookup precedes the common case."""
    try:
        return _walk_in(
            shelter_id=shelter_id,
            members=members,
            actor=actor,
            mode=mode,
            idempotency_key=idempotency_key,
            consent_answers=consent_answers,
        )
    except ApplicationError as error:
        earlier = CheckIn.objects.filter(idempotency_key=idempotency_key).first() if idempotency_key else None
        if error.code != "idempotency_key_reused" or earlier is None:
            raise
        return CheckInResult(check_in=earlier, stays=list(earlier.stays.order_by("id")), replayed=True)


@transaction.atomic
def _walk_in(
    *,
    shelter_id: int,
    members: Sequence[PersonData],
    actor: User | None,
    mode: str,
    idempotency_key: str | None,
    consent_answers: Mapping[str, str] | None,
) -> CheckInResult:
    """The desk's one-form path: a new household registered and checked in together.

    `consent_answers` (category -> given | refused) are the resident's answers to the desk's
    questions (consent/asking.py), for every member of the form; what they or their ledger refuse
    to the shelter's staff is not written (services/asking.py). The registration, the consent
    records and the check-in are one transaction: a check-in refused (the shelter closed meanwhile)
    leaves no person and no consent behind. `result.not_recorded` names what was left out.
    """
    if not members:
        raise ApplicationError(_("A household needs at least one member."), field="members")
    answers = dict(consent_answers or {})
    context = current_context()
    # The form asked everyone in it every question (a walk-in is someone new to the desk), so an
    # answer given there counts for every recipient it named, whatever the member's ledger held.
    # (questions_for with no subject: everything, in this context, without reading a ledger.)
    asked = asking.questions_for(None, asking.DESK_CATEGORIES, asking.DESK_RECIPIENTS, context)
    changes = asking.changes_for(asked, answers)
    planned = []  # (the person as written, what they refuse to the shelter's staff)
    not_recorded: set[str] = set()
    for person in members:
        known = (person.city_os_id or "").strip()
        ledger = asking.decisions_of(
            subject_of_city_os_id(known) if known else None, recipient=Recipient.SHELTER_STAFF, context=context
        )
        refused = desk_asking.refused_categories(answers, ledger)
        typed = desk_asking.typed_categories(person) | ({Category.HOUSEHOLD} if len(members) > 1 else set())
        not_recorded |= refused & typed
        planned.append((desk_asking.without_refused(person, refused), refused))
    together = any(Category.HOUSEHOLD not in refused for _person, refused in planned)
    household = Household.objects.create() if together else None
    evacuees = _create_members(
        [(person, None if Category.HOUSEHOLD in refused else household) for person, refused in planned],
        source=DataSource.REAL,
    )
    if changes:
        for evacuee in evacuees:
            consents_record(subject=subject_of(evacuee), changes=changes, method=Method.DESK, collected_by=actor)
    if household is not None:
        household.representative = next(e for e in evacuees if e.household_id == household.pk)
        household.save(update_fields=["representative"])
        audit_record(
            actor=actor,
            action="household.register",
            object_type="household",
            object_id=household.pk,
            details={"members": [e.pk for e in evacuees if e.household_id], "not_recorded": sorted(not_recorded)},
        )
    audit_records(
        actor=actor,
        action="evacuee.register",
        object_type="evacuee",
        entries={
            evacuee.pk: {"not_recorded": sorted(not_recorded)} for evacuee in evacuees if evacuee.household_id is None
        },
    )
    result = stay_check_in(
        shelter_id=shelter_id,
        evacuee_ids=[e.pk for e in evacuees],
        actor=actor,
        mode=mode,
        idempotency_key=idempotency_key,
    )
    return replace(result, not_recorded=frozenset(not_recorded))
