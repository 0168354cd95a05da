"""The desk's one tap for a resident who showed their City OS QR code: the people the City OS shares
(the resident and the family they share) registered or brought up to date by their common ID, put
in one household, and checked in together.

The caller (shelters.views) asked the City OS; this module never does: it takes what the desk
confirmed, as PersonData with a city_os_id each. Locking order as in stays.py: the shelter first,
then the people (by City OS ID), then the stays (stay_check_in).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from common.audit import audit_record
from common.errors import ApplicationError
from shelters.models import CheckIn, DataSource, Evacuee, Household, Sex, ShelterStatus, Stay, StayMode, User
from shelters.services.stays import (
    CheckInResult,
    PersonData,
    _create_evacuee,
    shelters_lock,
    stay_check_in,
)

# What the desk takes from the City OS for each person: the four basic items (name, birth date,
# sex, address) and the kana. Phone numbers are contact data the resident gives the desk itself.
CITY_OS_FIELDS = ("name", "name_kana", "birth_date", "sex", "address")
# A household the City OS shares is a family, not a town: more than this is not one tap.
MAX_HOUSEHOLD = 20


@dataclass(frozen=True)
class CityOSCheckIn:
    result: CheckInResult | None  # None when everyone was already staying somewhere
    created: int  # people registered for the first time
    already_staying: int  # people left out because they have an open stay (here or elsewhere)


def _validated(members: Sequence[PersonData]) -> list[PersonData]:
    if not members:
        raise ApplicationError(_("Choose at least one person to check in."), field="members")
    if len(members) > MAX_HOUSEHOLD:
        raise ApplicationError(_("Too many people for one check-in."), field="members")
    seen = set()
    for index, person in enumerate(members):
        city_os_id = (person.city_os_id or "").strip()
        if not city_os_id or len(city_os_id) > 64:
            raise ApplicationError(_("A City OS ID is needed."), field=f"members[{index}].city_os_id")
        if city_os_id in seen:
            raise ApplicationError(_("This person is listed twice."), field=f"members[{index}].city_os_id")
        seen.add(city_os_id)
        if not person.name.strip():
            raise ApplicationError(_("Enter a name."), field=f"members[{index}].name")
        if person.sex not in Sex.values:
            person.sex = Sex.UNKNOWN
    return list(members)


def city_os_person_upsert(*, person: PersonData, household: Household | None) -> tuple[Evacuee, bool]:
    """The person with this City OS ID, created or brought up to date with what the City OS holds
    (CITY_OS_FIELDS); joins `household` when they have none. (evacuee, created). Caller holds a
    transaction; the row is locked."""
    evacuee = Evacuee.objects.select_for_update().filter(city_os_id=person.city_os_id).first()
    if evacuee is None:
        return _create_evacuee(person, household=household, source=DataSource.REAL), True
    changed = []
    for name in CITY_OS_FIELDS:
        value = getattr(person, name)
        value = value.strip() if isinstance(value, str) else value
        if value in ("", None) or (name == "sex" and value == Sex.UNKNOWN):
            continue  # the City OS said nothing: keep what the desk knows
        if getattr(evacuee, name) != value:
            setattr(evacuee, name, value)
            changed.append(name)
    if household is not None and evacuee.household_id is None:
        evacuee.household = household
        changed.append("household")
    if changed:
        evacuee.save(update_fields=[*changed, "updated_at"])
    return evacuee, False


def city_os_check_in(
    *,
    shelter_id: int,
    members: Sequence[PersonData],
    actor: User | None,
    mode: str = StayMode.INSIDE,
    idempotency_key: str | None = None,
) -> CityOSCheckIn:
    """Register or update `members` (the first is the resident who showed the code) by City OS ID,
    keep them in one household, and check in those not staying anywhere, in one transaction.

    A retry with the same idempotency key returns the first check-in and writes nothing; people
    with an open stay are left out and counted (where they stay is not said here).
    """
    members = _validated(members)
    if mode not in StayMode.values:
        raise ApplicationError(_("Unknown stay mode."), field="mode")
    try:
        return _city_os_check_in(
            shelter_id=shelter_id, members=members, actor=actor, mode=mode, idempotency_key=idempotency_key or None
        )
    except IntegrityError as error:
        # Another desk registered one of them or checked them in at the same moment.
        raise ApplicationError(
            _("Someone in this group was checked in elsewhere at the same moment. Search again."),
            code="already_checked_in",
            field="members",
            status_code=409,
        ) from error


@transaction.atomic
def _city_os_check_in(
    *, shelter_id: int, members: list[PersonData], actor: User | None, mode: str, idempotency_key: str | None
) -> CityOSCheckIn:
    # The shelter's lock first: a second tap waits here and then finds the first one's check-in.
    shelter = shelters_lock([shelter_id])[shelter_id]
    if idempotency_key:
        earlier = CheckIn.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            if earlier.shelter_id != shelter_id:
                raise ApplicationError(
                    _("This idempotency key was already used for a different check-in."),
                    code="idempotency_key_reused",
                    field="idempotency_key",
                    status_code=409,
                )
            stays = list(earlier.stays.select_related("evacuee", "shelter").order_by("id"))
            return CityOSCheckIn(
                result=CheckInResult(check_in=earlier, stays=stays, replayed=True), created=0, already_staying=0
            )
    if not shelter.accepts_check_ins:
        # Said before anyone is registered.
        raise ApplicationError(
            _("%(shelter)s is %(status)s and does not accept check-ins.")
            % {"shelter": shelter.name, "status": ShelterStatus(shelter.status).label},
            code="shelter_not_open",
            field="shelter",
        )
    existing = dict(
        Evacuee.objects.filter(city_os_id__in=[m.city_os_id for m in members], household__isnull=False)
        .order_by("pk")
        .values_list("city_os_id", "household_id")
    )
    household_id = existing.get(members[0].city_os_id) or next(iter(existing.values()), None)
    household = Household.objects.get(pk=household_id) if household_id else None
    evacuees: list[Evacuee] = []
    created = 0
    for person in sorted(members, key=lambda m: m.city_os_id):
        if household is None:
            household = Household.objects.create(source=DataSource.REAL)
        evacuee, new = city_os_person_upsert(person=person, household=household)
        created += new
        evacuees.append(evacuee)
    by_city_os_id = {e.city_os_id: e for e in evacuees}
    ordered = [by_city_os_id[m.city_os_id] for m in members]
    if household.representative_id is None:
        household.representative = ordered[0]
        household.save(update_fields=["representative"])
    staying = set(
        Stay.objects.filter(evacuee_id__in=[e.pk for e in ordered], checked_out_at__isnull=True).values_list(
            "evacuee_id", flat=True
        )
    )
    to_check_in = [e.pk for e in ordered if e.pk not in staying]
    result = None
    if to_check_in:
        result = stay_check_in(
            shelter_id=shelter_id, evacuee_ids=to_check_in, actor=actor, mode=mode, idempotency_key=idempotency_key
        )
    audit_record(
        actor=actor,
        action="evacuee.city_os_check_in",
        object_type="check_in" if result else "shelter",
        object_id=result.check_in.pk if result else shelter_id,
        # Ids and counts only: never a name or a City OS ID in the audit trail.
        details={
            "shelter": shelter_id,
            "evacuees": [e.pk for e in ordered],
            "created": created,
            "already_staying": len(staying),
        },
    )
    return CityOSCheckIn(result=result, created=created, already_staying=len(staying))


class ScanOutcome:
    """What came of a City OS QR code scanned at the desk (the audit trail's words)."""

    SHARED = "shared"  # verified, and the City OS shared the resident's attributes
    NOT_SHARED = "not_shared"  # verified, but the resident does not share them with shelters
    BAD_CODE = "bad_code"  # a bad signature, another audience, or expired
    UNAVAILABLE = "unavailable"  # the City OS did not answer


def city_os_scan_record(*, shelter_id: int, actor: User | None, outcome: str, people: int = 0) -> None:
    """Audit a City OS scan at the desk: who, where, the outcome and how many people the City OS
    shared. Never the resident's ID or name."""
    audit_record(
        actor=actor,
        action="desk.city_os_scan",
        object_type="shelter",
        object_id=shelter_id,
        details={"outcome": outcome, "people": people},
    )
