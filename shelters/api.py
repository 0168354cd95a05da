"""REST API: validate, ask the policy, call one service or selector, serialize."""

from django.db.models import prefetch_related_objects
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.response import Response

from access import policy
from common.permissions import HasRole
from shelters import selectors, services
from shelters.models import Evacuee, Shelter, ShelterStatus, Stay
from shelters.serializers import (
    CheckInInput,
    CheckOutInput,
    EvacueeSerializer,
    EvacueeUpdateInput,
    HouseholdInput,
    HouseholdSerializer,
    PersonInput,
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
    q = filters.CharFilter(method="search", label=_("Name, kana, ID or district"))

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

    def get_serializer_context(self):
        context = super().get_serializer_context()
        page = getattr(self, "_page_ids", None)
        if page is not None:
            context["support_counts"] = selectors.support_counts_by_shelter(shelter_ids=page)
        return context

    def list(self, request, *args, **kwargs):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.paginate_queryset(queryset)
        self._page_ids = [s.pk for s in page]
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
    @action(detail=True, methods=["get"], url_path="status-changes")
    def status_changes(self, request, pk=None):
        shelter = self.get_object()
        changes = selectors.shelter_status_history(shelter=shelter, limit=200)
        return Response(ShelterStatusChangeSerializer(changes, many=True).data)

    @extend_schema(responses=StaySerializer(many=True))
    @action(detail=True, methods=["get"], permission_classes=[HasRole, MaySeePersonalData])
    def residents(self, request, pk=None):
        shelter = self.get_object()
        _require_operator(request.user, shelter.pk)
        stays = selectors.shelter_residents(user=request.user, shelter=shelter, query=request.query_params.get("q", ""))
        page = self.paginate_queryset(stays)
        return self.get_paginated_response(StaySerializer(page, many=True).data)


class EvacueeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """People. Officials get none; managers see their residents and people not staying anywhere."""

    serializer_class = EvacueeSerializer
    permission_classes = [HasRole, MaySeePersonalData]

    def get_queryset(self):
        return selectors.evacuees_with_details(policy.evacuees_visible_to(self.request.user))

    @extend_schema(parameters=[OpenApiParameter("search", str, description=_("Name, kana, phone, ID or QR payload"))])
    def list(self, request, *args, **kwargs):
        search = request.query_params.get("search", "")
        queryset = (
            selectors.evacuee_search(user=request.user, query=search, limit=100) if search else self.get_queryset()
        )
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        evacuee = selectors.evacuee_get(user=request.user, evacuee_id=self._pk(), purpose="api.evacuee_detail")
        if evacuee is None:
            raise NotFound()
        return Response(self.get_serializer(evacuee).data)

    @extend_schema(request=PersonInput, responses={201: EvacueeSerializer})
    def create(self, request):
        data = PersonInput(data=request.data)
        data.is_valid(raise_exception=True)
        evacuee = services.evacuee_register(person=data.to_person(), actor=request.user)
        return Response(self.get_serializer(evacuee).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=EvacueeUpdateInput, responses=EvacueeSerializer)
    def partial_update(self, request, pk=None):
        evacuee = get_object_or_404(policy.evacuees_visible_to(request.user), pk=self._pk())
        data = EvacueeUpdateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.evacuee_update(evacuee_id=evacuee.pk, actor=request.user, changes=dict(data.validated_data))
        evacuee = selectors.evacuees_with_details(Evacuee.objects.filter(pk=evacuee.pk)).get()
        return Response(self.get_serializer(evacuee).data)

    def _pk(self) -> int:
        try:
            return int(self.kwargs["pk"])
        except ValueError:
            raise NotFound() from None


class HouseholdViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    serializer_class = HouseholdSerializer
    permission_classes = [HasRole, MaySeePersonalData]

    def get_queryset(self):
        return policy.households_visible_to(self.request.user).prefetch_related("members").order_by("id")

    def get_serializer_context(self):
        context = super().get_serializer_context()
        context["visible_member_ids"] = _VisibleIds(self.request.user)
        return context

    @extend_schema(request=HouseholdInput, responses={201: HouseholdSerializer})
    def create(self, request):
        data = HouseholdInput(data=request.data)
        data.is_valid(raise_exception=True)
        household = services.household_register(members=data.to_members(), actor=request.user)
        return Response(self.get_serializer(household).data, status=status.HTTP_201_CREATED)


class _VisibleIds:
    """Membership test against the policy, asked once per household list."""

    def __init__(self, user):
        self.user = user
        self._ids = None

    def __contains__(self, evacuee_id):
        if policy.is_headquarters(self.user):
            return True
        if self._ids is None:
            self._ids = set(policy.evacuees_visible_to(self.user).values_list("id", flat=True))
        return evacuee_id in self._ids


class StayFilter(filters.FilterSet):
    open = filters.BooleanFilter(field_name="checked_out_at", lookup_expr="isnull", label=_("Only open stays"))

    class Meta:
        model = Stay
        fields = ["shelter", "evacuee", "mode", "source"]


class StayViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Stays: check-ins, check-outs and transfers, with full history."""

    serializer_class = StaySerializer
    permission_classes = [HasRole, MaySeePersonalData]
    filterset_class = StayFilter

    def get_queryset(self):
        return policy.stays_visible_to(self.request.user).select_related("evacuee").order_by("-checked_in_at", "-id")

    @extend_schema(request=CheckOutInput, responses=StaySerializer)
    @action(detail=True, methods=["post"], url_path="check-out")
    def check_out(self, request, pk=None):
        stay = self.get_object()
        _require_operator(request.user, stay.shelter_id)
        data = CheckOutInput(data=request.data)
        data.is_valid(raise_exception=True)
        stay = services.stay_check_out(
            stay_id=stay.pk, actor=request.user, destination=data.validated_data["destination"]
        )
        return Response(self.get_serializer(stay).data)

    @extend_schema(request=TransferInput, responses={201: StaySerializer})
    @action(detail=True, methods=["post"])
    def transfer(self, request, pk=None):
        stay = self.get_object()
        _require_operator(request.user, stay.shelter_id)
        data = TransferInput(data=request.data)
        data.is_valid(raise_exception=True)
        new_stay = services.stay_transfer(
            stay_id=stay.pk,
            to_shelter_id=data.validated_data["to_shelter"],
            actor=request.user,
            mode=data.validated_data["mode"],
        )
        return Response(self.get_serializer(new_stay).data, status=status.HTTP_201_CREATED)


class CheckInViewSet(viewsets.GenericViewSet):
    """Check one person or a whole household in. Send an Idempotency-Key header (or field) so a
    retried request returns the first result instead of checking anyone in twice."""

    permission_classes = [HasRole, MaySeePersonalData]
    serializer_class = CheckInInput

    @extend_schema(
        request=CheckInInput,
        responses={201: StaySerializer(many=True), 200: StaySerializer(many=True)},
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def create(self, request):
        data = CheckInInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        _require_operator(request.user, values["shelter"])
        evacuee_ids = list(values["evacuees"])
        if values["household"]:
            household = get_object_or_404(policy.households_visible_to(request.user), pk=values["household"])
            evacuee_ids += list(household.members.order_by("id").values_list("id", flat=True))
        visible = set(
            policy.evacuees_visible_to(request.user).filter(pk__in=evacuee_ids).order_by().values_list("id", flat=True)
        )
        if len(visible) != len(set(evacuee_ids)):
            raise NotFound(_("Unknown person."))
        result = services.stay_check_in(
            shelter_id=values["shelter"],
            evacuee_ids=evacuee_ids,
            actor=request.user,
            mode=values["mode"],
            idempotency_key=request.headers.get("Idempotency-Key") or values["idempotency_key"] or None,
        )
        # The names in the response come in one query, not one per person.
        prefetch_related_objects(result.stays, "evacuee")
        return Response(
            StaySerializer(result.stays, many=True).data,
            status=status.HTTP_200_OK if result.replayed else status.HTTP_201_CREATED,
        )
