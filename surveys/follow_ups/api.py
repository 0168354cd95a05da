"""REST API of the follow-up list: /api/follow-ups/ (list, detail, `state/` to move a case).

Same policy as the pages: HQ every case, a manager their shelters' cases, officials 403.
Errors have the one shape of common/errors.py.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import permissions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from access import follow_ups as follow_up_access
from access import policy
from common import limits
from common.permissions import HasRole
from surveys import scoring
from surveys.follow_ups import services
from surveys.models import FollowUp, FollowUpChange, FollowUpState

STATE_FILTERS = [follow_up_access.OPEN, follow_up_access.ALL, *FollowUpState.values]


class MayHandleFollowUps(permissions.BasePermission):
    def has_permission(self, request, view):
        return policy.may_handle_follow_ups(request.user)


class FollowUpChangeSerializer(serializers.ModelSerializer):
    # Plain strings: the states' choices are described once, on FollowUp.state.
    from_state = serializers.CharField()
    to_state = serializers.CharField()
    # None when the system made the change (a distressed answer opening the case), not a person.
    changed_by = serializers.CharField(source="changed_by.username", default=None, allow_null=True)

    class Meta:
        model = FollowUpChange
        fields = ["from_state", "to_state", "changed_by", "changed_at", "note"]


class FollowUpSerializer(serializers.ModelSerializer):
    evacuee = serializers.SerializerMethodField()
    shelter = serializers.SerializerMethodField()
    k6_band = serializers.SerializerMethodField()
    state_label = serializers.CharField(source="get_state_display")
    changes = FollowUpChangeSerializer(many=True)

    class Meta:
        model = FollowUp
        fields = [
            "id",
            "evacuee",
            "shelter",
            "k6_score",
            "k6_band",
            "state",
            "state_label",
            "created_at",
            "updated_at",
            "changes",
        ]

    def get_evacuee(self, follow_up) -> dict:
        return {"id": follow_up.evacuee_id, "name": follow_up.evacuee.name, "name_kana": follow_up.evacuee.name_kana}

    def get_shelter(self, follow_up) -> dict:
        return {"id": follow_up.shelter_id, "name": follow_up.shelter.name}

    def get_k6_band(self, follow_up) -> str | None:
        return scoring.k6_band(follow_up.k6_score)


class FollowUpStateInput(serializers.Serializer):
    state = serializers.ChoiceField(choices=FollowUpState.choices)
    note = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class FollowUpViewSet(viewsets.GenericViewSet):
    """Residents whose K6 was 13 or more. `?shelter=<id>&state=open|all|new|contacted|referred|closed`."""

    serializer_class = FollowUpSerializer
    permission_classes = [HasRole, MayHandleFollowUps]
    queryset = FollowUp.objects.none()  # for the schema; every read goes through access.follow_ups

    @extend_schema(
        parameters=[
            OpenApiParameter("shelter", limits.ID_SCHEMA, required=False),
            OpenApiParameter("state", str, required=False, enum=STATE_FILTERS),
        ]
    )
    def list(self, request):
        state = request.query_params.get("state") or follow_up_access.OPEN
        if state not in STATE_FILTERS:
            raise ValidationError({"state": [_("Unknown state.")]})
        page = follow_up_access.follow_ups_for_list(
            user=request.user,
            shelter_id=limits.id_param(request, "shelter"),
            state=state,
            paginate=self.paginate_queryset,
            purpose="api.follow_up_list",
        )
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return Response(self.get_serializer(self._get(pk, purpose="api.follow_up_detail")).data)

    @extend_schema(request=FollowUpStateInput, responses=FollowUpSerializer)
    @action(detail=True, methods=["post"], url_path="state")
    def change_state(self, request, pk=None):
        follow_up = self._get(pk, purpose="api.follow_up_change_state")
        data = FollowUpStateInput(data=request.data)
        data.is_valid(raise_exception=True)
        services.follow_up_change_state(
            follow_up_id=follow_up.pk,
            to_state=data.validated_data["state"],
            actor=request.user,
            note=data.validated_data["note"],
        )
        # Read again to show the new state: the same read, already logged above.
        return Response(self.get_serializer(self._get(pk, purpose=None)).data)

    def _get(self, pk, *, purpose: str | None) -> FollowUp:
        return follow_up_access.access_follow_up_by_id(self.request.user, pk, purpose=purpose)


router = SimpleRouter()
router.register("follow-ups", FollowUpViewSet, basename="follow-up")

urlpatterns = router.urls
