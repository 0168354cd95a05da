"""Every write to shelters, evacuees and stays. Views, the API, commands and tasks call these.

Locking order, to stay free of deadlocks: shelters first (in id order), then stays, then what moves
with a person (their open follow-up cases and supply requests, see services/moves.py).
Each shelter's `occupancy` and `outside_count` change only here, in the same transaction as the
stays they count and under that shelter's row lock.
"""

import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from django.db import IntegrityError, transaction
from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from access.consent import current_context
from common.audit import audit_record
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
from shelters.services import asking as desk_asking
from shelters.services.moves import people_moved

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


def _adjust_counts(shelter: Shelter, *, inside: int, outside: int, actor: User | None, at: datetime) -> None:
    """Move a locked shelter's counters and set or lift 満員 automatically."""
    if inside or outside:
        Shelter.objects.filter(pk=shelter.pk).update(
            occupancy=F("occupancy") + inside,
            outside_count=F("outside_count") + outside,
            version=F("version") + 1,
            updated_at=at,
        )
        shelter.occupancy += inside
        shelter.outside_count += outside
        shelter.version += 1
        events.shelters_changed([shelter.pk])
    automatic_full_apply(shelter=shelter, actor=actor, at=at)


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
    at = timezone.now()
    shelters = shelters_lock(shelter_ids)
    counts = {
        row["shelter_id"]: row
        for row in Stay.objects.filter(shelter_id__in=shelters, checked_out_at__isnull=True)
        .values("shelter_id")
        .annotate(
            inside=Count("pk", filter=Q(mode=StayMode.INSIDE)),
            outside=Count("pk", filter=~Q(mode=StayMode.INSIDE)),
        )
    }
    for shelter in shelters.values():
        row = counts.get(shelter.pk, {"inside": 0, "outside": 0})
        _adjust_counts(
            shelter,
            inside=row["inside"] - shelter.occupancy,
            outside=row["outside"] - shelter.outside_count,
            actor=actor,
            at=at,
        )


# --- Stays --------------------------------------------------------------------------------------


def _counts_for(mode: str) -> tuple[int, int]:
    return (1, 0) if mode == StayMode.INSIDE else (0, 1)


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
) -> CheckInResult:
    """Check one person or a whole household into a shelter in one action."""
    evacuee_ids = list(dict.fromkeys(evacuee_ids))
    if not evacuee_ids:
        raise ApplicationError(_("Choose at least one person to check in."), field="evacuees")
    if mode not in StayMode.values:
        raise ApplicationError(_("Unknown stay mode."), field="mode")
    idempotency_key = idempotency_key or None
    # A retry is answered inside `_check_in`, under the shelter's lock, where it also sees a first
    # attempt that committed while this one waited: one lookup, not one before and one after.
    try:
        return _check_in(
            shelter_id=shelter_id,
            evacuee_ids=evacuee_ids,
            actor=actor,
            mode=mode,
            idempotency_key=idempotency_key,
            at=at or timezone.now(),
            source=source,
        )
    except IntegrityError as error:
        # Lost a race: the same request committed first (idempotency key), or one of these people
        # was checked in elsewhere at the same moment (one open stay per person).
        if idempotency_key:
            earlier = _earlier_check_in(idempotency_key, shelter_id=shelter_id, evacuee_ids=evacuee_ids)
            if earlier:
                return earlier
        raise ApplicationError(
            _("Someone in this group was checked in elsewhere at the same moment. Search again."),
            code="already_checked_in",
            field="evacuees",
            status_code=409,
        ) from error


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
) -> CheckInResult:
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
    # The people's rows are locked (after the shelter's, in id order) so that the retention job, which
    # locks a person before anonymising them, never anonymises someone being checked in.
    found = dict(
        Evacuee.objects.select_for_update().filter(pk__in=evacuee_ids).order_by("pk").values_list("pk", "anonymised_at")
    )
    if len(found) != len(evacuee_ids):
        raise ApplicationError(_("Unknown person."), code="not_found", field="evacuees", status_code=404)
    if any(anonymised_at is not None for anonymised_at in found.values()):
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
    check_in = CheckIn.objects.create(
        idempotency_key=idempotency_key, shelter=shelter, performed_by=actor, performed_at=at
    )
    stays = Stay.objects.bulk_create(
        Stay(
            evacuee_id=evacuee_id,
            shelter=shelter,
            check_in=check_in,
            mode=mode,
            checked_in_at=at,
            checked_in_by=actor,
            source=source,
        )
        for evacuee_id in evacuee_ids
    )
    inside, outside = _counts_for(mode)
    _adjust_counts(shelter, inside=inside * len(stays), outside=outside * len(stays), actor=actor, at=at)
    # Open cases and requests of people who stayed elsewhere before come along to this shelter.
    people_moved(evacuee_ids=evacuee_ids, to_shelter_id=shelter.pk, actor=actor)
    audit_record(
        actor=actor,
        action="stay.check_in",
        object_type="check_in",
        object_id=check_in.pk,
        details={"shelter": shelter.pk, "evacuees": evacuee_ids, "mode": mode},
    )
    return CheckInResult(check_in=check_in, stays=stays, replayed=False)


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
    inside, outside = _counts_for(stay.mode)
    _adjust_counts(shelter, inside=-inside, outside=-outside, actor=actor, at=at)


@transaction.atomic
def stay_check_out(*, stay_id: int, actor: User | None, destination: str, at: datetime | None = None) -> Stay:
    if destination not in Destination.values:
        raise ApplicationError(_("Choose where the person is going."), field="destination")
    if destination == Destination.OTHER_SHELTER:
        raise ApplicationError(_("Use a transfer to move someone to another shelter."), field="destination")
    shelter_id = Stay.objects.filter(pk=stay_id).values_list("shelter_id", flat=True).first()
    if shelter_id is None:
        raise ApplicationError(_("Stay not found."), code="not_found", status_code=404)
    shelter = shelters_lock([shelter_id])[shelter_id]
    stay = _lock_open_stay(stay_id)
    _close_stay(
        stay, shelter=shelter, actor=actor, destination=destination, destination_shelter=None, at=at or timezone.now()
    )
    audit_record(
        actor=actor,
        action="stay.check_out",
        object_type="stay",
        object_id=stay.pk,
        details={"shelter": shelter.pk, "destination": destination},
    )
    return stay


@transaction.atomic
def stay_transfer(
    *, stay_id: int, to_shelter_id: int, actor: User | None, mode: str | None = None, at: datetime | None = None
) -> Stay:
    """Move a person to another shelter: closes this stay and opens one there, atomically."""
    at = at or timezone.now()
    from_shelter_id = Stay.objects.filter(pk=stay_id).values_list("shelter_id", flat=True).first()
    if from_shelter_id is None:
        raise ApplicationError(_("Stay not found."), code="not_found", status_code=404)
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
    check_in = CheckIn.objects.create(shelter=target, performed_by=actor, performed_at=at)
    new_stay = Stay.objects.create(
        evacuee_id=stay.evacuee_id,
        shelter=target,
        check_in=check_in,
        mode=mode,
        checked_in_at=at,
        checked_in_by=actor,
        source=stay.source,
    )
    inside, outside = _counts_for(mode)
    _adjust_counts(target, inside=inside, outside=outside, actor=actor, at=at)
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
    """Create each person in their household (or none); an error names the member: `members[1].name`."""
    evacuees = []
    for index, (person, household) in enumerate(members):
        try:
            evacuees.append(_create_evacuee(person, household=household, source=source))
        except ApplicationError as error:
            error.field = f"members[{index}].{error.field}" if error.field else f"members[{index}]"
            raise
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
    if changed:
        evacuee.save(update_fields=[*changed, "updated_at"])
    if needs is not None:
        _set_support_needs(evacuee, needs)
        changed.append("support_needs")
    if {"support_needs", "requires_evacuation_support"} & set(changed):
        # Support counts are part of the shelter's live figures.
        events.shelters_changed(evacuee.stays.filter(checked_out_at__isnull=True).values_list("shelter_id", flat=True))
    audit_record(
        actor=actor, action="evacuee.update", object_type="evacuee", object_id=evacuee.pk, details={"fields": changed}
    )
    return evacuee


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


@transaction.atomic
def walk_in_register_and_check_in(
    *,
    shelter_id: int,
    members: Sequence[PersonData],
    actor: User | None,
    mode: str = StayMode.INSIDE,
    idempotency_key: str | None = None,
    consent_answers: Mapping[str, str] | None = None,
) -> CheckInResult:
    """The desk's one-form path: a new household registered and checked in together.

    `consent_answers` (category -> given | refused) are the resident's answers to the desk's
    questions (consent/asking.py), for every member of the form; what they or their ledger refuse
    to the shelter's staff is not written (services/asking.py). The registration, the consent
    records and the check-in are one transaction: a check-in refused (the shelter closed meanwhile)
    leaves no person and no consent behind. `result.not_recorded` names what was left out.
    """
    if idempotency_key and CheckIn.objects.filter(idempotency_key=idempotency_key).exists():
        check_in = CheckIn.objects.get(idempotency_key=idempotency_key)
        return CheckInResult(check_in=check_in, stays=list(check_in.stays.order_by("id")), replayed=True)
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
    for evacuee in evacuees:
        if evacuee.household_id is None:
            audit_record(
                actor=actor,
                action="evacuee.register",
                object_type="evacuee",
                object_id=evacuee.pk,
                details={"not_recorded": sorted(not_recorded)},
            )
    result = stay_check_in(
        shelter_id=shelter_id,
        evacuee_ids=[e.pk for e in evacuees],
        actor=actor,
        mode=mode,
        idempotency_key=idempotency_key,
    )
    return replace(result, not_recorded=frozenset(not_recorded))
