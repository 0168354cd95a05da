"""The API of HQ's disaster pages (shelters/hq_views.py): disasters and legal-basis releases.

Thin: validate, ask the policy, call one service or selector. Releases are listed to HQ and
officials (rule, article, scope, period; the reason only to HQ, as it is free text); only HQ
declares, revokes, and declares or closes disasters.
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.generics import GenericAPIView, ListAPIView
from rest_framework.response import Response

from access import policy
from common import limits
from common.permissions import HasRole
from consent import selectors as consent_selectors
from consent import services as consent_services
from consent.rules import Category, Recipient, ReleaseScope
from shelters import selectors, services
from shelters.models import Disaster


class DisasterSerializer(serializers.ModelSerializer):
    class Meta:
        model = Disaster
        fields = ["id", "name", "started_at", "closed_at", "source"]


class DisasterInput(serializers.Serializer):
    name = serializers.CharField(max_length=services.disasters.DISASTER_NAME_MAX_LENGTH)


class ReleaseSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="release.pk")
    disaster = serializers.IntegerField(source="release.disaster_id")
    rule = serializers.CharField(source="release.rule")
    rule_name = serializers.CharField(read_only=True)
    article = serializers.CharField(source="release.article")
    categories = serializers.ListField(child=serializers.CharField(), source="release.categories")
    recipients = serializers.ListField(child=serializers.CharField(), source="release.recipients")
    scope = serializers.CharField(source="release.scope")
    shelters = serializers.SerializerMethodField()
    declared_at = serializers.DateTimeField(source="release.declared_at")
    expires_at = serializers.DateTimeField(source="release.expires_at")
    revoked_at = serializers.DateTimeField(source="release.revoked_at", allow_null=True)
    status = serializers.ChoiceField(choices=["active", "expired", "revoked", "disaster_closed"])
    reason = serializers.SerializerMethodField(help_text="HQ only (free text); null for officials.")

    def get_shelters(self, item) -> list[int]:
        return sorted(shelter.pk for shelter in item.release.shelters.all())

    def get_reason(self, item) -> str | None:
        return item.release.reason if self.context.get("hq") else None


class ReleaseInput(serializers.Serializer):
    disaster = limits.id_field()
    rule = serializers.CharField(max_length=32)
    categories = serializers.ListField(
        child=serializers.ChoiceField(choices=Category.values), max_length=len(Category.values)
    )
    recipients = serializers.ListField(
        child=serializers.ChoiceField(choices=Recipient.values), max_length=len(Recipient.values)
    )
    scope = serializers.ChoiceField(choices=ReleaseScope.values)
    shelters = serializers.ListField(
        child=limits.id_field(), max_length=consent_services.RELEASE_MAX_SHELTERS, required=False, default=list
    )
    reason = serializers.CharField(max_length=consent_services.RELEASE_REASON_MAX_LENGTH)
    hours = serializers.IntegerField(
        min_value=1, max_value=consent_services.RELEASE_MAX_HOURS, required=False, allow_null=True, default=None
    )
    expires_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


def _path_id(pk) -> int:
    if not limits.is_id(str(pk)):
        raise NotFound()
    return int(pk)


def _hq_only(user) -> None:
    if not policy.can_manage_disasters(user):
        raise PermissionDenied(_("Only HQ declares disasters and releases."))


class DisasterListView(ListAPIView):
    """Disasters, open first (HQ). POST declares one."""

    permission_classes = [HasRole]
    serializer_class = DisasterSerializer
    filter_backends = []

    def get_queryset(self):
        _hq_only(self.request.user)
        return selectors.disasters_for_list()

    @extend_schema(request=DisasterInput, responses={201: DisasterSerializer})
    def post(self, request):
        _hq_only(request.user)
        data = DisasterInput(data=request.data)
        data.is_valid(raise_exception=True)
        disaster = services.disaster_declare(name=data.validated_data["name"], actor=request.user)
        return Response(DisasterSerializer(disaster).data, status=status.HTTP_201_CREATED)


class DisasterCloseView(GenericAPIView):
    permission_classes = [HasRole]
    serializer_class = DisasterSerializer

    @extend_schema(request=None, responses=DisasterSerializer)
    def post(self, request, pk: int):
        _hq_only(request.user)
        disaster = services.disaster_close(disaster_id=_path_id(pk), actor=request.user)
        return Response(DisasterSerializer(disaster).data)


class ReleaseListView(ListAPIView):
    """Legal-basis releases, active first (HQ and officials). POST declares one (HQ)."""

    permission_classes = [HasRole]
    serializer_class = ReleaseSerializer
    filter_backends = []

    def get_queryset(self):
        if not policy.can_view_releases(self.request.user):
            raise PermissionDenied(_("You may not see legal-basis releases."))
        return consent_selectors.releases_for_list()

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "hq": policy.can_manage_disasters(self.request.user)}

    @extend_schema(request=ReleaseInput, responses={201: ReleaseSerializer})
    def post(self, request):
        _hq_only(request.user)
        data = ReleaseInput(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        release = consent_services.release_declare(
            disaster_id=values["disaster"],
            rule=values["rule"],
            categories=values["categories"],
            recipients=values["recipients"],
            scope=values["scope"],
            shelter_ids=values["shelters"],
            reason=values["reason"],
            hours=values["hours"],
            expires_at=values["expires_at"],
            actor=request.user,
        )
        return Response(_release_data(release), status=status.HTTP_201_CREATED)


class ReleaseRevokeView(GenericAPIView):
    permission_classes = [HasRole]
    serializer_class = ReleaseSerializer

    @extend_schema(request=None, responses=ReleaseSerializer)
    def post(self, request, pk: int):
        _hq_only(request.user)
        release = consent_services.release_revoke(release_id=_path_id(pk), actor=request.user)
        return Response(_release_data(release))


def _release_data(release) -> dict:
    return ReleaseSerializer(consent_selectors.release_shown(release), context={"hq": True}).data
