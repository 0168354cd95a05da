"""The supply API: shelters file and follow requests and confirm deliveries; HQ runs the tasks
and the stock; HQ and officials read the supply board. Thin views over services and selectors."""

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from access import people, policy
from access import supply_requests as request_access
from common import limits
from common.permissions import HasRole
from consent.rules import Category
from shelters.models import Shelter
from supply import selectors, services
from supply.models import Depot, Item, Request, SupplyTask, Urgency


class RunsSupplies(BasePermission):
    def has_permission(self, request, view):
        return policy.can_run_supplies(request.user)


class WatchesSupplies(BasePermission):
    def has_permission(self, request, view):
        return policy.can_watch_supplies(request.user)


class OperatesShelters(BasePermission):
    """HQ and shelter managers: the people who may see who asked for what."""

    def has_permission(self, request, view):
        return policy.may_see_personal_data(request.user)


class RequestSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    urgency_label = serializers.CharField(source="get_urgency_display", read_only=True)
    promised_at = serializers.DateTimeField(source="task.promised_at", read_only=True, default=None, allow_null=True)
    evacuee = serializers.SerializerMethodField()

    class Meta:
        model = Request
        fields = [
            "id",
            "shelter",
            "evacuee",
            "item",
            "item_name",
            "quantity",
            "urgency",
            "urgency_label",
            "detail",
            "status",
            "status_label",
            "origin",
            "task",
            "promised_at",
            "created_at",
        ]
        read_only_fields = fields

    def get_evacuee(self, request: Request) -> int | None:
        # Whom a request is for says what they need: only where the reader has a basis for that
        # person's support needs (access.supply_requests decided it; `withheld` says otherwise).
        person = request.evacuee
        if person is None or Category.SUPPORT in getattr(person, "withheld", {}):
            return None
        return person.pk


class RequestInput(serializers.Serializer):
    shelter = limits.id_field()
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    quantity = limits.quantity_field(min_value=1, required=False, allow_null=True, default=None)
    urgency = serializers.ChoiceField(choices=Urgency.choices, default=Urgency.NORMAL)
    evacuee = limits.id_field(required=False, allow_null=True, default=None)
    detail = serializers.CharField(required=False, allow_blank=True, max_length=500, default="")


class RequestViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """A shelter's requests. They may name a person: read through access.supply_requests only."""

    permission_classes = [HasRole, OperatesShelters]
    serializer_class = RequestSerializer
    queryset = Request.objects.none()  # for the schema only

    @extend_schema(parameters=[OpenApiParameter("shelter", limits.ID_SCHEMA, required=False)])
    def list(self, request, *args, **kwargs):
        page = request_access.supply_requests_for_list(
            user=request.user,
            shelter_id=limits.id_param(request, "shelter"),
            paginate=self.paginate_queryset,
            purpose="api.supply_request_list",
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._request(pk, purpose="api.supply_request_detail")).data)

    def _request(self, pk, *, purpose: str) -> Request:
        return request_access.access_supply_request_by_id(self.request.user, pk, purpose=purpose)

    @extend_schema(request=RequestInput, responses={201: RequestSerializer})
    def create(self, request):
        data = RequestInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        if not policy.can_request_supplies(request.user, values["shelter"]):
            raise PermissionDenied(_("You do not operate this shelter."))
        shelter = get_object_or_404(Shelter, pk=values["shelter"])
        evacuee = None
        if values["evacuee"] is not None:
            evacuee = people.access_evacuee_by_id(request.user, values["evacuee"], purpose="api.supply_request_create")
        created = services.request_create(
            shelter=shelter,
            item=values["item"],
            actor=request.user,
            quantity=values["quantity"],
            urgency=values["urgency"],
            evacuee=evacuee,
            detail=values["detail"],
        )
        return Response(RequestSerializer(created).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RequestSerializer)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        supply_request = self._request(pk, purpose="api.supply_request_cancel")
        if not policy.can_request_supplies(request.user, supply_request.shelter_id):
            raise PermissionDenied(_("You do not operate this shelter."))
        services.request_cancel(request_id=supply_request.pk, actor=request.user)
        return Response(RequestSerializer(self._request(pk, purpose="api.supply_request_cancel")).data)


class TaskSerializer(serializers.ModelSerializer):
    item = serializers.SlugRelatedField(slug_field="code", read_only=True)
    item_name = serializers.CharField(source="item.name", read_only=True)
    shelter_name = serializers.CharField(source="shelter.name", read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)

    class Meta:
        model = SupplyTask
        fields = [
            "id",
            "key",
            "shelter",
            "shelter_name",
            "item",
            "item_name",
            "quantity",
            "unsourced_quantity",
            "status",
            "status_label",
            "promised_at",
            "dispatched_at",
            "delivered_at",
            "received_at",
            "received_quantity",
            "overdue_since",
        ]
        read_only_fields = fields


class ReceiveInput(serializers.Serializer):
    quantity = limits.quantity_field()


class TaskViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [HasRole]
    serializer_class = TaskSerializer

    def get_queryset(self):
        queryset = selectors.tasks_visible_to(self.request.user).order_by("promised_at", "id")
        shelter_id = limits.id_param(self.request, "shelter")
        return queryset if shelter_id is None else queryset.filter(shelter_id=shelter_id)

    def _step(self, service):
        task = self.get_object()
        if not policy.can_run_supplies(self.request.user):
            raise PermissionDenied(_("Only HQ runs supply tasks."))
        service(task_id=task.pk, actor=self.request.user)
        return Response(TaskSerializer(self.get_queryset().get(pk=task.pk)).data)

    @extend_schema(parameters=[OpenApiParameter("shelter", limits.ID_SCHEMA, required=False)])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"], url_path="dispatch")
    def dispatch_task(self, request, pk=None):
        return self._step(services.supply_task_dispatch)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def deliver(self, request, pk=None):
        return self._step(services.supply_task_deliver)

    @extend_schema(request=None)
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        return self._step(services.supply_task_cancel)

    @extend_schema(request=ReceiveInput)
    @action(detail=True, methods=["post"])
    def receive(self, request, pk=None):
        task = self.get_object()
        if not policy.can_request_supplies(request.user, task.shelter_id):
            raise PermissionDenied(_("You do not operate this shelter."))
        data = ReceiveInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.supply_task_receive(task_id=task.pk, quantity=data.validated_data["quantity"], actor=request.user)
        return Response(TaskSerializer(self.get_queryset().get(pk=task.pk)).data)


class StockAdjustInput(serializers.Serializer):
    depot = serializers.PrimaryKeyRelatedField(queryset=Depot.objects.all())
    item = serializers.SlugRelatedField(slug_field="code", queryset=Item.objects.all())
    change = limits.signed_quantity_field()
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class StockSerializer(serializers.Serializer):
    depot = serializers.IntegerField()
    item = serializers.CharField()
    on_hand = serializers.IntegerField()
    reserved = serializers.IntegerField()


class StockAdjustView(APIView):
    permission_classes = [HasRole, RunsSupplies]

    @extend_schema(request=StockAdjustInput, responses=StockSerializer)
    def post(self, request):
        data = StockAdjustInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        stock = services.stock_adjust(
            depot_id=values["depot"].pk,
            item_id=values["item"].pk,
            change=values["change"],
            actor=request.user,
            reason=values["reason"],
        )
        return Response(
            {"depot": stock.depot_id, "item": values["item"].code, "on_hand": stock.on_hand, "reserved": stock.reserved}
        )


class SupplyBoardView(APIView):
    permission_classes = [HasRole, WatchesSupplies]

    @extend_schema(responses=OpenApiTypes.OBJECT)
    def get(self, request):
        return Response(selectors.supply_board())
