"""One request, many check-ins, walk-ins, check-outs and transfers: the batch endpoint a desk sends
its queue through (after a rush, or when the network comes back).

Every item is validated before any is applied (a malformed item is a 400 naming it,
`items[3].evacuees`, and nothing is done). Then the items are applied in order, each in its own
transaction, by the same services and under the same permissions as the single endpoints
(shelters/api.py); one item refused does not undo the others, and each is answered on its own: its
status, and its result or its error in the one error shape (common/errors.py). Every item has an
idempotency key, so a batch sent again (the desk did not get the answer) answers the same for
each item and does nothing twice: check-ins and walk-ins keep the key on CheckIn, check-outs and
transfers on StayChangeKey (services/stay_keys.py).

The answer carries ids and figures only, never a name: nothing of a person is shown, so no read
is recorded (as the single endpoints now); the desk already has the names it queued.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import OperationalError
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import APIException
from rest_framework.response import Response
from rest_framework.views import APIView

from access import people
from access.errors import NotVisible
from common.errors import ApplicationError, api_exception_handler, database_busy
from common.parsers import BoundedJSONParser
from common.permissions import HasRole
from shelters import services
from shelters.api import MaySeePersonalData, _require_operator
from shelters.batch_serializers import CHECK_IN, CHECK_OUT, TRANSFER, WALK_IN, BatchAnswer, BatchInput
from shelters.models import Stay

# What an item may fail with, answered for that item: the domain's refusals, the policy's, and a
# database that would not wait (503, nothing done). Anything else is a bug and a 500 for the batch;
# the items before it are done and a retry with the same keys answers them without redoing them.
ITEM_ERRORS = (ApplicationError, APIException, Http404, DjangoPermissionDenied)


def _time(value):
    return None if value is None else timezone.localtime(value).isoformat()


def _stay(stay: Stay, *, closed: bool) -> dict:
    """A stay as the item's action left it: a retry answers the same even if the stay was closed
    since (the first answer said open)."""
    return {
        "id": stay.pk,
        "evacuee": stay.evacuee_id,
        "shelter": stay.shelter_id,
        "mode": stay.mode,
        "checked_in_at": _time(stay.checked_in_at),
        "checked_out_at": _time(stay.checked_out_at) if closed else None,
        "destination": stay.destination if closed else "",
    }


def _result(
    *, shelter_id: int, stays, closed: bool = False, check_in_id=None, from_stay_id=None, not_recorded=()
) -> dict:
    return {
        "shelter": shelter_id,
        "check_in": check_in_id,
        "from_stay": from_stay_id,
        "stays": [_stay(stay, closed=closed) for stay in stays],
        "not_recorded": sorted(not_recorded),
    }


def _key_reused() -> ApplicationError:
    return ApplicationError(
        _("This idempotency key was already used for a different action."),
        code="idempotency_key_reused",
        field="idempotency_key",
        status_code=409,
    )


class _Batch:
    """Applies one request's items for one user; remembers the shelters it has checked they operate."""

    def __init__(self, user):
        self.user = user
        self.operated: set[int] = set()

    def operate(self, shelter_id: int) -> None:
        if shelter_id not in self.operated:
            _require_operator(self.user, shelter_id)
            self.operated.add(shelter_id)

    def answer(self, index: int, item: dict) -> dict:
        answer = {"index": index, "type": item["type"], "idempotency_key": item["idempotency_key"]}
        try:
            status, replayed, result = KINDS[item["type"]](self, item)
        except OperationalError as error:
            if database_busy(error) is None:
                raise
            return {**answer, **_failed(error)}
        except ITEM_ERRORS as error:
            return {**answer, **_failed(error)}
        return {**answer, "status": status, "replayed": replayed, "result": result, "error": None}

    def check_in(self, item: dict):
        # As /api/check-ins/: the service checks that the user operates the shelter and locks the
        # people through the ones they may name, in its one statement; a household is looked up first.
        evacuee_ids = item["evacuees"]
        if item["household"] is not None:
            self.operate(item["shelter"])
            evacuee_ids = people.evacuees_for_check_in(
                self.user, evacuee_ids=evacuee_ids, household_id=item["household"], lookup=item["lookup"]
            )
        result = services.stay_check_in(
            shelter_id=item["shelter"],
            evacuee_ids=evacuee_ids,
            actor=self.user,
            mode=item["mode"],
            idempotency_key=item["idempotency_key"],
            among=people.check_in_candidates(self.user, lookup=item["lookup"]),
            operator=self.user,
        )
        return _checked_in(result)

    def walk_in(self, item: dict):
        # As the desk's walk-in form: at a shelter the user operates. A retry racing the first
        # attempt is answered by the service with the check-in the key made.
        self.operate(item["shelter"])
        result = services.walk_in_register_and_check_in(
            shelter_id=item["shelter"],
            members=[services.PersonData(**member) for member in item["members"]],
            actor=self.user,
            mode=item["mode"],
            idempotency_key=item["idempotency_key"],
            consent_answers=item["consent_answers"],
        )
        if result.replayed and result.check_in.shelter_id != item["shelter"]:
            raise _key_reused()
        return _checked_in(result)

    def stay_id_of(self, item: dict) -> int:
        """The item's stay: named, or the person's. The service finds it only among the stays the
        user may move (access.people.stays_to_move), as /api/stays/<id>/check-out/ does."""
        if item["stay"] is not None:
            return item["stay"]
        # By person: on a retry, the stay this key already changed (closed by now); else their open stay.
        changed = services.stay_changed_by_key(idempotency_key=item["idempotency_key"])
        if changed is not None:
            stay_id, evacuee_id = changed
            if evacuee_id != item["evacuee"]:
                raise _key_reused()
            return stay_id
        stay_id = (
            self.movable()
            .filter(evacuee_id=item["evacuee"], checked_out_at__isnull=True)
            .values_list("pk", flat=True)
            .first()
        )
        if stay_id is None:
            raise NotVisible(field="evacuee")
        return stay_id

    def movable(self):
        return people.stays_to_move(self.user)

    def check_out(self, item: dict):
        done = services.stay_check_out_once(
            idempotency_key=item["idempotency_key"],
            stay_id=self.stay_id_of(item),
            actor=self.user,
            destination=item["destination"],
            among=self.movable(),
        )
        return 200, done.replayed, _result(shelter_id=done.stay.shelter_id, stays=[done.stay], closed=True)

    def transfer(self, item: dict):
        # From a stay the user may move, to any open shelter, as /api/stays/<id>/transfer/.
        done = services.stay_transfer_once(
            idempotency_key=item["idempotency_key"],
            stay_id=self.stay_id_of(item),
            to_shelter_id=item["to_shelter"],
            actor=self.user,
            mode=item["mode"],
            among=self.movable(),
        )
        status = 200 if done.replayed else 201
        result = _result(shelter_id=done.stay.shelter_id, stays=[done.stay], from_stay_id=done.from_stay_id)
        return status, done.replayed, result


def _checked_in(result: services.CheckInResult):
    status = 200 if result.replayed else 201
    body = _result(
        shelter_id=result.check_in.shelter_id,
        stays=result.stays,
        check_in_id=result.check_in.pk,
        not_recorded=result.not_recorded,
    )
    return status, result.replayed, body


def _failed(error: Exception) -> dict:
    """The item's error in the one shape, with the status the single endpoint would answer."""
    response = api_exception_handler(error, {})
    return {"status": response.status_code, "replayed": False, "result": None, "error": response.data["error"]}


KINDS = {CHECK_IN: _Batch.check_in, WALK_IN: _Batch.walk_in, CHECK_OUT: _Batch.check_out, TRANSFER: _Batch.transfer}


class BatchView(APIView):
    """Many check-ins, walk-ins (a new household registered and checked in), check-outs and
    transfers in one request, each with its own `idempotency_key`, applied in order, each in its
    own transaction: one refused item does not undo the others. The answer has one entry per item,
    in order: its `status` (what the single endpoint would answer), whether it was `replayed` (its
    key was already used for the same action: nothing was done again), and its `result` (ids and
    figures) or its `error` (the one error shape; `fields` relative to the item). A malformed item
    is a 400 naming it (`items[3].evacuees`) before anything is applied. A check-out or transfer
    names its `stay`, or the `evacuee` whose open stay it is (a desk that queued the check-in
    offline does not know the stay's id). Permissions are the single
    endpoints': a shelter manager acts on their shelters only, and checks in people who stay nowhere
    only with the exact `lookup` that found them."""

    permission_classes = [HasRole, MaySeePersonalData]
    parser_classes = [BoundedJSONParser]  # items nest lists in objects: JSON only

    @extend_schema(request=BatchInput, responses={200: BatchAnswer}, operation_id="batch_apply")
    def post(self, request):
        data = BatchInput(data=request.data)
        data.is_valid(raise_exception=True)
        batch = _Batch(request.user)
        return Response({"items": [batch.answer(i, item) for i, item in enumerate(data.validated_data["items"])]})
