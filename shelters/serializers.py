"""API shapes. Input serializers validate; output serializers present. No writes here."""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from access.people import MAX_PEOPLE_TO_ASK
from common import limits
from consent.asking import DESK_CATEGORIES, LATER
from consent.rules import Decision
from shelters.models import (
    HAZARD_FIELDS,
    Destination,
    Evacuee,
    Household,
    Sex,
    Shelter,
    ShelterStatus,
    ShelterStatusChange,
    Stay,
    StayMode,
)
from shelters.services import PersonData

# A household checked in together, or registered at once: a large family, never thousands.
MAX_MEMBERS = 100


class ShelterSerializer(serializers.ModelSerializer):
    facilities = serializers.SlugRelatedField(many=True, read_only=True, slug_field="code")
    hazards = serializers.SerializerMethodField()
    support_counts = serializers.SerializerMethodField()

    class Meta:
        model = Shelter
        fields = [
            "id",
            "code",
            "common_id",
            "name",
            "name_kana",
            "name_en",
            "municipality_code",
            "address",
            "district",
            "latitude",
            "longitude",
            "elevation",
            "phone",
            "kind",
            "capacity",
            "capacity_text",
            "target_associations",
            "facilities",
            "hazards",
            "status",
            "opened_at",
            "closed_at",
            "occupancy",
            "outside_count",
            "support_counts",
            "source",
        ]

    def get_hazards(self, shelter: Shelter) -> list[str]:
        return [field.removeprefix("hazard_") for field in HAZARD_FIELDS if getattr(shelter, field)]

    def get_support_counts(self, shelter: Shelter) -> dict[str, int]:
        """People per support need among those staying: the shelter's counters."""
        return {code: people for code, people in shelter.support_counts.items() if people}


class StatusChangeInput(serializers.Serializer):
    status = serializers.ChoiceField(choices=ShelterStatus.choices)
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class ShelterStatusChangeSerializer(serializers.ModelSerializer):
    changed_by = serializers.SlugRelatedField(read_only=True, slug_field="username")

    class Meta:
        model = ShelterStatusChange
        fields = ["id", "from_status", "to_status", "changed_by", "changed_at", "reason", "automatic"]


class SupportNeedField(serializers.Serializer):
    category = serializers.CharField(source="category.code")
    notes = serializers.CharField(allow_blank=True, required=False, default="")


class OpenStaySummary(serializers.Serializer):
    id = serializers.IntegerField()
    shelter = serializers.IntegerField(source="shelter_id")
    shelter_name = serializers.CharField(source="shelter.name")
    mode = serializers.CharField()
    checked_in_at = serializers.DateTimeField()


# The OpenAPI shape of `withheld`: category -> why. The categories are consent.rules.Category.
WITHHELD_SCHEMA = {
    "type": "object",
    "description": (
        "Data categories withheld from this reader, each with why: `refused` (the person refused "
        "these data to this kind of recipient) or `not_asked` (no consent and no legal rule now). "
        "Their fields are blank or empty and must not be read as 'none'; show that the data are "
        "withheld and why. Categories: basic (name, kana, birth date, sex, address), contact "
        "(phone), household, support (support needs and the roster flag), stays (stay history), "
        "survey. Empty when nothing is withheld."
    ),
    "additionalProperties": {"type": "string", "enum": ["refused", "not_asked"]},
    "example": {"basic": "refused"},
}


@extend_schema_field(WITHHELD_SCHEMA)
class WithheldField(serializers.Field):
    """The categories the access layer withheld from this reader, each with why (`refused`,
    `not_asked`): their fields are empty and must not be read as "none". Reads the person the
    serializer shows (`source="*"`), or another (`source="evacuee"`)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("source", "*")
        super().__init__(read_only=True, **kwargs)

    def to_representation(self, person: Evacuee) -> dict[str, str]:
        return dict(getattr(person, "withheld", {}))


class EvacueeSerializer(serializers.ModelSerializer):
    support_needs = SupportNeedField(many=True, read_only=True)
    current_stay = serializers.SerializerMethodField()
    withheld = WithheldField()

    class Meta:
        model = Evacuee
        fields = [
            "id",
            "city_os_id",
            "walk_in_id",
            "name",
            "name_kana",
            "birth_date",
            "sex",
            "address",
            "phone",
            "household",
            "requires_evacuation_support",
            "support_needs",
            "current_stay",
            "source",
            "withheld",
        ]

    def get_current_stay(self, evacuee: Evacuee) -> dict | None:
        # `open_stays` comes with the person from access.people; there is no reading it here.
        return OpenStaySummary(evacuee.open_stays[0]).data if evacuee.open_stays else None


class EvacueeListSerializer(EvacueeSerializer):
    """A row of a list: enough to tell people apart. Address and phone are in the detail only."""

    class Meta(EvacueeSerializer.Meta):
        fields = [f for f in EvacueeSerializer.Meta.fields if f not in ("address", "phone")]


class PersonInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    name_kana = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    birth_date = limits.bounded_date_field(required=False, allow_null=True, default=None)
    sex = serializers.ChoiceField(choices=Sex.choices, required=False, default=Sex.UNKNOWN)
    address = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, default="")
    city_os_id = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True, default=None)
    requires_evacuation_support = serializers.BooleanField(required=False, default=False)
    support_needs = serializers.DictField(
        child=serializers.CharField(allow_blank=True, max_length=500),
        required=False,
        default=dict,
        help_text=_("Support need category code -> notes."),
    )

    def to_person(self) -> PersonData:
        return PersonData(**self.validated_data)


class EvacueeUpdateInput(PersonInput):
    """A partial update: only the fields sent change."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, partial=True, **kwargs)
        for field in self.fields.values():
            field.default = serializers.empty


class HouseholdInput(serializers.Serializer):
    members = PersonInput(many=True, allow_empty=False, max_length=MAX_MEMBERS)

    def to_members(self) -> list[PersonData]:
        return [PersonData(**member) for member in self.validated_data["members"]]


class HouseholdMemberSerializer(serializers.ModelSerializer):
    withheld = WithheldField()

    class Meta:
        model = Evacuee
        fields = ["id", "name", "name_kana", "withheld"]


class HouseholdSerializer(serializers.ModelSerializer):
    members = serializers.SerializerMethodField()

    class Meta:
        model = Household
        fields = ["id", "representative", "members", "source"]

    def get_members(self, household: Household) -> list[dict]:
        # `visible_members` comes with the household from access.people: the members the user may see.
        members = sorted(household.visible_members, key=lambda m: (m.pk != household.representative_id, m.pk))
        return [HouseholdMemberSerializer(member).data for member in members]


# A stay as ids and times; StaySerializer adds the person's name where the reader may see it.
MOVED_STAY_FIELDS = [
    "id",
    "evacuee",
    "shelter",
    "mode",
    "checked_in_at",
    "checked_out_at",
    "destination",
    "destination_shelter",
    "source",
]


class StaySerializer(serializers.ModelSerializer):
    evacuee_name = serializers.CharField(source="evacuee.name", read_only=True)
    evacuee_withheld = WithheldField(source="evacuee")
    # Where a transferred person went, only when the reader may know it (annotated by access.people).
    destination_shelter = serializers.IntegerField(
        source="shown_destination_shelter_id", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Stay
        fields = [*MOVED_STAY_FIELDS[:2], "evacuee_name", *MOVED_STAY_FIELDS[2:], "evacuee_withheld"]


class MovedStaySerializer(serializers.ModelSerializer):
    """A stay a check-in, check-out or transfer made or closed, as ids and times: the answer to the
    desk, which knows whom it moved. Nothing personal, so nothing read and nothing recorded."""

    destination_shelter = serializers.IntegerField(
        source="destination_shelter_id", read_only=True, allow_null=True, default=None
    )

    class Meta:
        model = Stay
        fields = MOVED_STAY_FIELDS
        read_only_fields = fields


class CheckInInput(serializers.Serializer):
    shelter = limits.id_field()
    evacuees = serializers.ListField(child=limits.id_field(), required=False, default=list, max_length=MAX_MEMBERS)
    household = limits.id_field(required=False, allow_null=True, default=None)
    mode = serializers.ChoiceField(choices=StayMode.choices, required=False, default=StayMode.INSIDE)
    idempotency_key = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    lookup = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        help_text=_(
            "The exact lookup (City OS ID or QR payload, phone number, or name with birth date) that found "
            "people who stay nowhere: a shelter manager needs it to check them in."
        ),
    )

    def validate(self, data):
        if not data["evacuees"] and not data["household"]:
            raise serializers.ValidationError({"evacuees": [_("Give the people to check in, or a household.")]})
        return data


class CheckOutInput(serializers.Serializer):
    destination = serializers.ChoiceField(choices=[c for c in Destination.choices if c[0] != Destination.OTHER_SHELTER])


class TransferInput(serializers.Serializer):
    to_shelter = limits.id_field()
    mode = serializers.ChoiceField(choices=StayMode.choices, required=False, allow_null=True, default=None)


# --- The desk's questions to residents (consent/asking.py) ---------------------------------------


class QuestionSerializer(serializers.Serializer):
    category = serializers.CharField()
    recipients = serializers.ListField(child=serializers.CharField())
    context = serializers.CharField()
    title = serializers.CharField()
    purpose = serializers.CharField()
    yes_label = serializers.CharField()
    no_label = serializers.CharField()


class PersonQuestionsSerializer(serializers.Serializer):
    evacuee = serializers.IntegerField(source="person.pk")
    questions = QuestionSerializer(many=True)
    own_device_url = serializers.CharField(help_text=_("The resident may answer on their own phone here."))


class DeskQuestionsQuery(serializers.Serializer):
    shelter = limits.id_field()
    evacuees = serializers.ListField(child=limits.id_field(), min_length=1, max_length=MAX_PEOPLE_TO_ASK)


class PersonAnswersInput(serializers.Serializer):
    evacuee = limits.id_field()
    answers = serializers.DictField(
        child=serializers.ChoiceField(choices=[*Decision.values, LATER]),
        help_text=_("Category -> given, refused or later (nothing recorded)."),
    )

    def validate_answers(self, value):
        unknown = sorted(set(value) - set(DESK_CATEGORIES))
        if unknown:
            raise serializers.ValidationError(_("Unknown category: %(codes)s") % {"codes": ", ".join(unknown)})
        return {category: decision for category, decision in value.items() if decision != LATER}


class DeskAnswersInput(serializers.Serializer):
    shelter = limits.id_field()
    answers = serializers.ListField(child=PersonAnswersInput(), min_length=1, max_length=MAX_PEOPLE_TO_ASK)


class DeskAnswersResult(serializers.Serializer):
    evacuee = serializers.IntegerField()
    receipt_id = serializers.UUIDField()


class CityOSShelterSerializer(serializers.ModelSerializer):
    """A shelter as the City OS's shelter information API shows it: registry and live status, no person."""

    full = serializers.SerializerMethodField()

    class Meta:
        model = Shelter
        fields = [
            "id",
            "code",
            "common_id",
            "name",
            "name_kana",
            "name_en",
            "kind",
            "status",
            "occupancy",
            "outside_count",
            "capacity",
            "full",
            "latitude",
            "longitude",
            "source",
            "updated_at",
        ]
        read_only_fields = fields

    def get_full(self, shelter: Shelter) -> bool:
        """満員: declared or reached (occupancy at or over capacity)."""
        return shelter.status == ShelterStatus.FULL or bool(shelter.capacity and shelter.occupancy >= shelter.capacity)
