"""REST API: validate, ask the policy, call one service or selector, serialize.

People, households and stays come from `access.people` only, which checks and records the read.
"""

import hmac

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, mixins, permissions, status, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.decorators import action
from rest_framework.exceptions import AuthenticationFailed, NotFound, PermissionDenied, Throttled, ValidationError
from rest_framework.response import Response

from access import consent, people, policy
from access.errors import object_id
from common import limits
from common.errors import ApplicationError
from common.permissions import HasRole
from common.throttles import FailedTokenThrottle
from consent import links
from consent import services as consent_services
from consent.models import subject_of
from consent.rules import Method
from shelters import selectors, services
from shelters.models import CheckIn, DataSource, Evacuee, Household, Shelter, ShelterStatus, Stay, StayMode
from shelters.serializers import (
    CheckInInput,
    CheckOutInput,
    CityOSShelterSerializer,
    DeskAnswersInput,
    DeskAnswersResult,
    DeskQuestionsQuery,
    EvacueeListSerializer,
    EvacueeSerializer,
    EvacueeUpdateInput,
    HouseholdInput,
    HouseholdSerializer,
    MovedStaySerializer,
    PersonInput,
    PersonQuestionsSerializer,
    ShelterSerializer,
    ShelterStatusChangeSerializer,
    StatusChangeInput,
    StaySerializer,
    TransferInput,
)


class MaySeePersonalData(permissions.BasePermission):
    def has_permission(self, request, view):
        return policy.may_see_personal_data(request.user)


def _require_operator(user, shelter_id: int) -> None:
    if not policy.can_operate_shelter(user, shelter_id):
        # Not 404: the shelter registry is public knowledge, the refusal is about operating it.
        raise PermissionDenied(_("You do not operate this shelter."))


class ShelterFilter(filters.FilterSet):
    status = filters.ChoiceFilter(choices=ShelterStatus.choices)
    q = filters.CharFilter(method="search", label=_("Name, kana, ID or district"), max_length=limits.SEARCH_MAX_LENGTH)

    class Meta:
        model = Shelter
        fields = ["status", "kind", "source"]

    def search(self, queryset, name, value):
        return selectors.shelter_list(user=self.request.user, query=value).filter(pk__in=queryset.values("pk"))


class ShelterViewSet(viewsets.ReadOnlyModelViewSet):
    """Shelters with status and occupancy. Managers see their own shelters only."""

    serializer_class = ShelterSerializer
    permission_classes = [HasRole]
    filterset_class = ShelterFilter

    def get_queryset(self):
        return policy.shelters_visible_to(self.request.user).prefetch_related("facilities").order_by("code")

    @extend_schema(parameters=[OpenApiParameter("q", limits.SEARCH_SCHEMA)])
    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        shelter = self.get_object()
        self._page_ids = [shelter.pk]
        return Response(self.get_serializer(shelter).data)

    @extend_schema(request=StatusChangeInput, responses=ShelterSerializer)
    @action(detail=True, methods=["post"], url_path="status")
    def change_status(self, request, pk=None):
        shelter = self.get_object()
        _require_operator(request.user, shelter.pk)
        data = StatusChangeInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.shelter_status_change(
            shelter_id=shelter.pk,
            to_status=data.validated_data["status"],
            actor=request.user,
            reason=data.validated_data["reason"],
        )
        shelter.refresh_from_db()
        return Response(self.get_serializer(shelter).data)

    @extend_schema(responses=ShelterStatusChangeSerializer(many=True))
    @action(detail=True, methods=["get"], url_path="status-changes", filter_backends=[])
    def status_changes(self, request, pk=None):
        shelter = self.get_object()
        # Paged like every list of the API (the schema always said so; it answered a bare list).
        page = self.paginate_queryset(selectors.shelter_status_history(shelter=shelter, limit=None))
        return self.get_paginated_response(ShelterStatusChangeSerializer(page, many=True).data)

    @extend_schema(responses=StaySerializer(many=True), parameters=[OpenApiParameter("q", limits.SEARCH_SCHEMA)])
    @action(detail=True, methods=["get"], permission_classes=[HasRole, MaySeePersonalData], filter_backends=[])
    def residents(self, request, pk=None):
        shelter = self.get_object()
        _require_operator(request.user, shelter.pk)
        page = people.shelter_residents(
            user=request.user,
            shelter=shelter,
            filters=people.ResidentFilters(query=limits.text_param(request, "q")),
            paginate=self.paginate_queryset,
            purpose="api.residents",
        )
        return self.get_paginated_response(StaySerializer(page, many=True).data)


class EvacueeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """People. Officials get none; managers list their residents, and find a person who stays
    nowhere only by an exact `search` (City OS ID or QR, exact phone, or name with birth date).
    The list leaves out address and phone: they are in a person's detail, whose every read is logged."""

    serializer_class = EvacueeSerializer
    permission_classes = [HasRole, MaySeePersonalData]
    queryset = Evacuee.objects.none()  # for the schema only; every read goes through access.people

    def get_serializer_class(self):
        return EvacueeListSerializer if self.action == "list" else EvacueeSerializer

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "search",
                limits.SEARCH_SCHEMA,
                description=_(
                    "Name, kana, phone, ID or QR payload. People staying at none of a manager's shelters "
                    "match only an exact City OS ID or QR payload, phone number, or name with birth date."
                ),
            )
        ]
    )
    def list(self, request, *args, **kwargs):
        search = limits.text_param(request, "search")
        page = people.evacuees_for_list(
            user=request.user,
            search=search,
            paginate=self.paginate_queryset,
            purpose="api.evacuee_search" if search.strip() else "api.evacuee_list",
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        evacuee = people.access_evacuee_by_id(request.user, kwargs["pk"], purpose="api.evacuee_detail")
        return Response(self.get_serializer(evacuee).data)

    @extend_schema(request=PersonInput, responses={201: EvacueeSerializer})
    def create(self, request):
        data = PersonInput(data=request.data)
        data.is_valid(raise_exception=True)
        evacuee = services.evacuee_register(person=data.to_person(), actor=request.user)
        evacuee.open_stays = []  # just registered: staying nowhere yet
        return Response(self.get_serializer(evacuee).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EvacueeUpdateInput, responses=EvacueeSerializer)
    def partial_update(self, request, pk=None):
        evacuee = people.access_evacuee_by_id(request.user, pk, purpose="api.evacuee_update")
        data = EvacueeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        refused = consent.withheld_fields(evacuee, data.validated_data)
        if refused:
            # Overwriting what the reader may not see would be writing blind, against the person's choice.
            raise ApplicationError(
                _("These data are withheld from you; you cannot change them."),
                fields={name: [_("Withheld from you.")] for name in refused},
                code="withheld",
                status_code=403,
            )
        services.evacuee_update(evacuee_id=evacuee.pk, actor=request.user, changes=dict(data.validated_data))
        # The answer shows the person as changed: the same read, recorded once above.
        evacuee = people.access_evacuee_by_id(request.user, evacuee.pk, purpose=None)
        return Response(self.get_serializer(evacuee).data)


class HouseholdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Households, each with the members the user may see."""

    serializer_class = HouseholdSerializer
    permission_classes = [HasRole, MaySeePersonalData]
    queryset = Household.objects.none()  # for the schema only; every read goes through access.people

    def list(self, request, *args, **kwargs):
        page = people.households_for_list(
            user=request.user, paginate=self.paginate_queryset, purpose="api.household_list"
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        household = people.access_household_by_id(request.user, pk, purpose="api.household_detail")
        return Response(self.get_serializer(household).data)

    @extend_schema(request=HouseholdInput, responses={201: HouseholdSerializer})
    def create(self, request):
        data = HouseholdInput(data=request.data)
        data.is_valid(raise_exception=True)
        household = services.household_register(members=data.to_members(), actor=request.user)
        household = people.household_registered(request.user, household, purpose="api.household_register")
        return Response(self.get_serializer(household).data, status=status.HTTP_201_CREATED)


class StayFilter(filters.FilterSet):
    """Validates the list's query and describes it in the schema; access.people applies it."""

    shelter = filters.NumberFilter(min_value=1, max_value=limits.BIGINT_MAX)
    evacuee = filters.NumberFilter(min_value=1, max_value=limits.BIGINT_MAX)
    mode = filters.ChoiceFilter(choices=StayMode.choices)
    source = filters.ChoiceFilter(choices=DataSource.choices)
    open = filters.BooleanFilter(label=_("Only open stays"))

    class Meta:
        model = Stay
        fields = ["shelter", "evacuee", "mode", "source", "open"]


class StayViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stays: check-ins, check-outs and transfers. A manager sees the stays at their shelters; where a
    person went after one ends in a transfer is shown only to those who operate that shelter too."""

    serializer_class = StaySerializer
    permission_classes = [HasRole, MaySeePersonalData]
    filterset_class = StayFilter
    queryset = Stay.objects.none()  # for the schema only; every read goes through access.people

    @extend_schema(
        parameters=[OpenApiParameter("shelter", limits.ID_SCHEMA), OpenApiParameter("evacuee", limits.ID_SCHEMA)]
    )
    def list(self, request, *args, **kwargs):
        query = StayFilter(request.query_params, queryset=self.queryset)
        if not query.is_valid():
            raise ValidationError(query.errors)
        values = query.form.cleaned_data
        page = people.stays_for_list(
            user=request.user,
            filters=people.StayFilters(
                shelter_id=values.get("shelter"),
                evacuee_id=values.get("evacuee"),
                mode=values.get("mode") or "",
                source=values.get("source") or "",
                open=values.get("open"),
            ),
            paginate=self.paginate_queryset,
            purpose="api.stay_list",
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._stay(pk, purpose="api.stay_detail")).data)

    def _stay(self, pk, *, purpose: str) -> Stay:
        return people.access_stay_by_id(self.request.user, pk, purpose=purpose)

    @extend_schema(request=CheckOutInput, responses=MovedStaySerializer)
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        """The stay as closed, as ids: nothing personal is read for the answer."""
        stay_id = object_id(pk, field="stay")
        data = CheckOutInput(data=request.data)
        data.is_valid(raise_exception=True)
        stay = services.stay_check_out(
            stay_id=stay_id,
            actor=request.user,
            destination=data.validated_data["destination"],
            among=people.stays_to_move(request.user),
        )
        return Response(MovedStaySerializer(stay).data)

    @extend_schema(request=TransferInput, responses={201: MovedStaySerializer})
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        """The new stay, as ids: nothing personal is read for the answer."""
        stay_id = object_id(pk, field="stay")
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        new_stay = services.stay_transfer(
            stay_id=stay_id,
            to_shelter_id=data.validated_data["to_shelter"],
            actor=request.user,
            mode=data.validated_data["mode"],
            among=people.stays_to_move(request.user),
        )
        return Response(MovedStaySerializer(new_stay).data, status=status.HTTP_201_CREATED)


IDEMPOTENCY_KEY_LENGTH = CheckIn._meta.get_field("idempotency_key").max_length


def _idempotency_key(request) -> str:
    key = request.headers.get("Idempotency-Key", "")
    return limits.text_within(key, name="Idempotency-Key", max_length=IDEMPOTENCY_KEY_LENGTH)


class CheckInViewSet(viewsets.GenericViewSet):
    """Check one person or a whole household in. Send an Idempotency-Key header (or field) so a
    retried request returns the first result instead of checking anyone in twice. A manager
    checking in people who stay nowhere sends the exact `lookup` that found them."""

    permission_classes = [HasRole, MaySeePersonalData]
    serializer_class = CheckInInput

    @extend_schema(
        request=CheckInInput,
        responses={201: MovedStaySerializer(many=True), 200: MovedStaySerializer(many=True)},
        parameters=[
            OpenApiParameter(
                "Idempotency-Key", {"type": "string", "maxLength": IDEMPOTENCY_KEY_LENGTH}, OpenApiParameter.HEADER
            )
        ],
    )
    def create(self, request):
        """The stays made, as ids and figures: the desk knows whom it checked in, so nothing
        personal is read for the answer (and nothing recorded)."""
        data = CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        evacuee_ids = values["evacuees"]
        if values["household"] is not None:
            _require_operator(request.user, values["shelter"])
            evacuee_ids = people.evacuees_for_check_in(
                request.user, evacuee_ids=evacuee_ids, household_id=values["household"], lookup=values["lookup"]
            )
        result = services.stay_check_in(
            shelter_id=values["shelter"],
            evacuee_ids=evacuee_ids,
            actor=request.user,
            mode=values["mode"],
            idempotency_key=_idempotency_key(request) or values["idempotency_key"] or None,
            among=people.check_in_candidates(request.user, lookup=values["lookup"]),
            operator=request.user,
        )
        return Response(
            MovedStaySerializer(result.stays, many=True).data,
            status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED,
        )


class DeskAskingViewSet(viewsets.GenericViewSet):
    """The desk's questions to people just checked in, by each one's timing (consent/asking.py), and
    their answers. The check-in never waits on these: check in first (`/api/check-ins/`), then ask;
    "later" records nothing. Only people staying at the shelter now are asked."""

    permission_classes = [HasRole, MaySeePersonalData]
    serializer_class = DeskAnswersInput
    # At most a household at a time, answered whole: no pages, no filters.
    pagination_class = None
    filter_backends: list = []

    @extend_schema(
        parameters=[
            OpenApiParameter("shelter", limits.ID_SCHEMA, required=True),
            OpenApiParameter(
                "evacuees",
                {"type": "array", "items": limits.ID_SCHEMA, "maxItems": people.MAX_PEOPLE_TO_ASK},
                required=True,
            ),
        ],
        responses=PersonQuestionsSerializer(many=True),
    )
    @action(detail=False, methods=["get"])
    def questions(self, request):
        query = DeskQuestionsQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        shelter_id = query.validated_data["shelter"]
        _require_operator(request.user, shelter_id)
        found = selectors.desk_questions(
            user=request.user,
            shelter_id=shelter_id,
            evacuee_ids=query.validated_data["evacuees"],
            purpose="api.desk_questions",
        )
        rows = [
            {
                "person": entry.person,
                "questions": entry.questions,
                "own_device_url": request.build_absolute_uri(links.own_device_path(entry.subject)),
            }
            for entry in found
        ]
        return Response(PersonQuestionsSerializer(rows, many=True).data)

    @extend_schema(request=DeskAnswersInput, responses={200: DeskAnswersResult(many=True)})
    @action(detail=False, methods=["post"])
    def answers(self, request):
        data = DeskAnswersInput(data=request.data)
        data.is_valid(raise_exception=True)
        shelter_id = data.validated_data["shelter"]
        _require_operator(request.user, shelter_id)
        given = {row["evacuee"]: row["answers"] for row in data.validated_data["answers"]}
        asked = people.people_to_ask(request.user, shelter_id=shelter_id, evacuee_ids=list(given), purpose=None)
        subjects = {subject_of(person): person.pk for person in asked}
        records = consent_services.desk_answers_record(
            answers={subject: given[pk] for subject, pk in subjects.items()},
            method=Method.DESK,
            collected_by=request.user,
        )
        return Response(
            DeskAnswersResult(
                [{"evacuee": subjects[record.subject], "receipt_id": record.receipt_id} for record in records],
                many=True,
            ).data
        )


# --- The City OS's shelter information API ------------------------------------------------------


class CityOSTokenAuthentication(BaseAuthentication):
    """The City OS presents CITYOS_SHELTER_API_TOKEN as `Authorization: Bearer <token>`, compared in
    constant time. A wrong one is a 401 and counts against the address (common.throttles)."""

    keyword = "Bearer"

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if len(words) != 2 or words[0].lower() != self.keyword.lower().encode():
            return None
        throttle = FailedTokenThrottle()
        if throttle.over_limit(request):
            raise Throttled(wait=throttle.wait(), detail=gettext("Too many wrong API tokens from this address."))
        expected = settings.CITYOS_SHELTER_API_TOKEN.encode()
        if not expected or not hmac.compare_digest(words[1], expected):
            throttle.allow_request(request, None)
            raise AuthenticationFailed(gettext("Invalid token."))
        return (AnonymousUser(), CITY_OS)

    def authenticate_header(self, request):
        return self.keyword


CITY_OS = "city_os"


class IsCityOS(permissions.BasePermission):
    def has_permission(self, request, view):
        return request.auth == CITY_OS


class CityOSShelterList(generics.ListAPIView):
    """Our shelters' live status for the City OS (its shelter information API): the registry entry,
    status, occupancy against capacity, whether full, position and when it last changed. No person.

    Off (404) unless CITYOS_SHELTER_API_TOKEN is set; paged with `limit` (1–500) and `offset`.
    """

    serializer_class = CityOSShelterSerializer
    authentication_classes = [CityOSTokenAuthentication]
    permission_classes = [IsCityOS]
    filter_backends = []

    def initial(self, request, *args, **kwargs):
        if not settings.CITYOS_SHELTER_API_TOKEN:
            raise NotFound()
        super().initial(request, *args, **kwargs)

    def get_queryset(self):
        return selectors.shelters_for_city_os()


class CityOSTokenScheme(OpenApiAuthenticationExtension):
    """The schema names the City OS's bearer token as the endpoint's security."""

    target_class = "shelters.api.CityOSTokenAuthentication"
    name = "cityOSToken"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "description": "CITYOS_SHELTER_API_TOKEN"}
