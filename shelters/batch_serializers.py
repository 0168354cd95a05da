"""The batch endpoint's shapes (api_batch.py). Input serializers validate every item before any is
applied; the output serializers describe the answer in the schema (the view builds it as plain
data, cheaply, in the same shape: tests/api/test_batch.py checks it against them)."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from common import limits
from consent.asking import DESK_CATEGORIES, LATER
from consent.rules import Decision
from shelters.models import CheckIn, Destination, StayMode
from shelters.serializers import MAX_MEMBERS, PersonInput

# One request is at most this many items: a desk's queue after a long outage is sent in several.
MAX_BATCH_ITEMS = 100
IDEMPOTENCY_KEY_LENGTH = CheckIn._meta.get_field("idempotency_key").max_length

CHECK_IN, WALK_IN, CHECK_OUT, TRANSFER = "check_in", "walk_in", "check_out", "transfer"

# Where a check-out goes (a transfer is its own action), as /api/stays/<id>/check-out/ takes it:
# one enum in the schema for both (SPECTACULAR_SETTINGS' ENUM_NAME_OVERRIDES names it).
CHECK_OUT_DESTINATIONS = [c for c in Destination.choices if c[0] != Destination.OTHER_SHELTER]


class _Item(serializers.Serializer):
    # Unique per action: the same key sent again answers what was done, and does nothing twice.
    idempotency_key = serializers.CharField(max_length=IDEMPOTENCY_KEY_LENGTH)


class CheckInItem(_Item):
    type = serializers.ChoiceField(choices=[CHECK_IN])
    shelter = limits.id_field()
    evacuees = serializers.ListField(child=limits.id_field(), required=False, default=list, max_length=MAX_MEMBERS)
    household = limits.id_field(required=False, allow_null=True, default=None)
    mode = serializers.ChoiceField(choices=StayMode.choices, required=False, default=StayMode.INSIDE)
    # The exact lookup that found people who stay nowhere, as /api/check-ins/ takes it.
    lookup = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")

    def validate(self, data):
        if not data["evacuees"] and not data["household"]:
            raise serializers.ValidationError({"evacuees": [_("Give the people to check in, or a household.")]})
        return data


class WalkInItem(_Item):
    type = serializers.ChoiceField(choices=[WALK_IN])
    shelter = limits.id_field()
    mode = serializers.ChoiceField(choices=StayMode.choices, required=False, default=StayMode.INSIDE)
    members = PersonInput(many=True, allow_empty=False, max_length=MAX_MEMBERS)
    consent_answers = serializers.DictField(
        child=serializers.ChoiceField(choices=[*Decision.values, LATER]),
        required=False,
        default=dict,
        help_text=_("Category -> given, refused or later (nothing recorded)."),
    )

    def validate_consent_answers(self, value):
        unknown = sorted(set(value) - set(DESK_CATEGORIES))
        if unknown:
            raise serializers.ValidationError(_("Unknown category: %(codes)s") % {"codes": ", ".join(unknown)})
        return {category: decision for category, decision in value.items() if decision != LATER}


class _StayItem(_Item):
    """A change to a stay: named by its id, or by the person whose open stay it is (a desk that
    queued the person's check-in while offline never learnt the stay's id)."""

    stay = limits.id_field(required=False, allow_null=True, default=None)
    evacuee = limits.id_field(required=False, allow_null=True, default=None)

    def validate(self, data):
        if (data["stay"] is None) == (data["evacuee"] is None):
            raise serializers.ValidationError({"stay": [_("Give either the stay or the person.")]})
        return data


class CheckOutItem(_StayItem):
    type = serializers.ChoiceField(choices=[CHECK_OUT])
    destination = serializers.ChoiceField(choices=CHECK_OUT_DESTINATIONS)


class TransferItem(_StayItem):
    type = serializers.ChoiceField(choices=[TRANSFER])
    to_shelter = limits.id_field()
    mode = serializers.ChoiceField(choices=StayMode.choices, required=False, allow_null=True, default=None)


ITEM_SERIALIZERS: dict[str, type[_Item]] = {
    CHECK_IN: CheckInItem,
    WALK_IN: WalkInItem,
    CHECK_OUT: CheckOutItem,
    TRANSFER: TransferItem,
}


@extend_schema_field(
    PolymorphicProxySerializer(
        component_name="BatchItem",
        serializers=ITEM_SERIALIZERS,
        resource_type_field_name="type",
    )
)
class BatchItemField(serializers.Field):
    """One item, validated by the serializer its `type` names; errors keep its fields' names.

    One serializer of each kind validates every item of a request, as a ListSerializer's child
    does: building a serializer per item cost more than the check-in it validates.
    """

    default_error_messages = {"invalid": serializers.Serializer.default_error_messages["invalid"]}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.kind = serializers.ChoiceField(choices=list(ITEM_SERIALIZERS))
        self.items = {kind: serializer() for kind, serializer in ITEM_SERIALIZERS.items()}

    def to_internal_value(self, data):
        if not isinstance(data, dict):
            self.fail("invalid", datatype=type(data).__name__)
        try:
            kind = self.kind.run_validation(data.get("type", serializers.empty))
        except serializers.ValidationError as error:
            raise serializers.ValidationError({"type": error.detail}) from None
        return dict(self.items[kind].run_validation(data))

    def to_representation(self, value):
        return value


class BatchInput(serializers.Serializer):
    items = serializers.ListField(child=BatchItemField(), min_length=1, max_length=MAX_BATCH_ITEMS)

    def validate_items(self, items):
        seen: dict[str, int] = {}
        for index, item in enumerate(items):
            first = seen.setdefault(item["idempotency_key"], index)
            if first != index:
                message = _("The same idempotency key as item %(index)d.") % {"index": first}
                raise serializers.ValidationError({index: {"idempotency_key": [message]}})
        return items


# --- The answer ---------------------------------------------------------------------------------


class BatchStay(serializers.Serializer):
    id = serializers.IntegerField()
    evacuee = serializers.IntegerField()
    shelter = serializers.IntegerField()
    mode = serializers.ChoiceField(choices=StayMode.choices)
    checked_in_at = serializers.DateTimeField()
    checked_out_at = serializers.DateTimeField(allow_null=True)
    destination = serializers.CharField(allow_blank=True)


class BatchItemResult(serializers.Serializer):
    shelter = serializers.IntegerField()  # where the people are now (a check-out: where they were)
    check_in = serializers.IntegerField(allow_null=True)
    from_stay = serializers.IntegerField(allow_null=True)  # the stay a transfer closed
    stays = BatchStay(many=True)
    # A walk-in's data categories the residents refused, and that were therefore not written.
    not_recorded = serializers.ListField(child=serializers.CharField())


class BatchItemError(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class BatchItemAnswer(serializers.Serializer):
    index = serializers.IntegerField()
    type = serializers.ChoiceField(choices=list(ITEM_SERIALIZERS))
    idempotency_key = serializers.CharField()
    status = serializers.IntegerField()  # what the single endpoint would have answered
    replayed = serializers.BooleanField()
    result = BatchItemResult(allow_null=True)
    error = BatchItemError(allow_null=True)


class BatchAnswer(serializers.Serializer):
    items = BatchItemAnswer(many=True)
