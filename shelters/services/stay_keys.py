"""Check-outs and transfers done once per idempotency key, for the batch endpoint (api_batch.py).

A check-in carries its key on CheckIn, and `stay_check_in` answers a retry itself. A check-out or
a transfer has no row of its own to carry one, so its key is a StayChangeKey written in the same
transaction as the change: a retry finds it and answers what was done (not "already checked out"),
and two retries racing each other wait on its unique index, so exactly one of them acts. The
changes themselves are `stay_check_out` and `stay_transfer`, unchanged.

Locking order: the key's row (its unique index) first, then what the stay services lock.
"""

from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from common.errors import ApplicationError
from shelters.models import Stay, StayChangeKey, User
from shelters.services.stays import stay_check_out, stay_transfer


@dataclass(frozen=True)
class StayChangeResult:
    stay: Stay  # the stay checked out, or the transfer's new stay
    from_stay_id: int | None  # a transfer's stay it closed
    replayed: bool  # True when the key was already used for this change


def stay_changed_by_key(*, idempotency_key: str) -> tuple[int, int] | None:
    """(The stay, its person) a check-out or transfer with this key changed, if one did: a retry
    that names the person finds it here, after its first attempt closed the person's open stay."""
    return (
        StayChangeKey.objects.filter(idempotency_key=idempotency_key).values_list("stay_id", "stay__evacuee_id").first()
    )


def _claim(*, idempotency_key: str, kind: str, stay_id: int) -> tuple[int | None, StayChangeKey | None]:
    """Claim the key in the caller's transaction: (the new record's id, None), or (None, the earlier
    record). A concurrent claim of the same key blocks on the unique index until the first commits
    (then it is the earlier record) or rolls back (then this one claims it)."""
    keys = StayChangeKey.objects.select_related("stay", "new_stay")
    earlier = keys.filter(idempotency_key=idempotency_key).first()
    if earlier is not None:
        return None, earlier
    try:
        with transaction.atomic():
            record = StayChangeKey.objects.create(
                idempotency_key=idempotency_key, kind=kind, stay_id=stay_id, created_at=timezone.now()
            )
    except IntegrityError:
        return None, keys.get(idempotency_key=idempotency_key)
    return record.pk, None


def _replay(
    earlier: StayChangeKey,
    *,
    kind: str,
    stay_id: int,
    among: QuerySet[Stay] | None,
    to_shelter_id: int | None = None,
) -> StayChangeResult:
    if among is not None and not among.filter(pk=earlier.stay_id).exists():
        # Someone else's key: their stay is not found, as it would not be for a first attempt.
        raise ApplicationError(_("Stay not found."), code="not_found", status_code=404)
    same = earlier.kind == kind and earlier.stay_id == stay_id
    if kind == StayChangeKey.Kind.TRANSFER:
        same = same and earlier.new_stay is not None and earlier.new_stay.shelter_id == to_shelter_id
        if same:
            return StayChangeResult(stay=earlier.new_stay, from_stay_id=earlier.stay_id, replayed=True)
    elif same:
        return StayChangeResult(stay=earlier.stay, from_stay_id=None, replayed=True)
    raise ApplicationError(
        _("This idempotency key was already used for a different action."),
        code="idempotency_key_reused",
        field="idempotency_key",
        status_code=409,
    )


@transaction.atomic
def stay_check_out_once(
    *,
    idempotency_key: str,
    stay_id: int,
    actor: User | None,
    destination: str,
    among: QuerySet[Stay] | None = None,
) -> StayChangeResult:
    """`stay_check_out`, or the answer of the check-out this key already made. `among`: the stays
    the caller may move (access.people.stays_to_move), any when None; a retry is answered only
    for one of them."""
    _claimed, earlier = _claim(idempotency_key=idempotency_key, kind=StayChangeKey.Kind.CHECK_OUT, stay_id=stay_id)
    if earlier is not None:
        return _replay(earlier, kind=StayChangeKey.Kind.CHECK_OUT, stay_id=stay_id, among=among)
    stay = stay_check_out(stay_id=stay_id, actor=actor, destination=destination, among=among)
    return StayChangeResult(stay=stay, from_stay_id=None, replayed=False)


@transaction.atomic
def stay_transfer_once(
    *,
    idempotency_key: str,
    stay_id: int,
    to_shelter_id: int,
    actor: User | None,
    mode: str | None = None,
    among: QuerySet[Stay] | None = None,
) -> StayChangeResult:
    """`stay_transfer`, or the answer of the transfer this key already made. `among`: as for a
    check-out."""
    claimed, earlier = _claim(idempotency_key=idempotency_key, kind=StayChangeKey.Kind.TRANSFER, stay_id=stay_id)
    if earlier is not None:
        return _replay(
            earlier, kind=StayChangeKey.Kind.TRANSFER, stay_id=stay_id, among=among, to_shelter_id=to_shelter_id
        )
    new_stay = stay_transfer(stay_id=stay_id, to_shelter_id=to_shelter_id, actor=actor, mode=mode, among=among)
    StayChangeKey.objects.filter(pk=claimed).update(new_stay=new_stay)
    return StayChangeResult(stay=new_stay, from_stay_id=stay_id, replayed=False)
