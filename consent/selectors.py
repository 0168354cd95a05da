"""Reads of the consent app that name no resident: legal-basis releases as HQ and officials see them."""

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import LegalRelease
from consent.rules import LEGAL_RULES, RULE_NAMES, LegalRule

RELEASE_LIST_LIMIT = 200


@dataclass(frozen=True)
class ReleaseShown:
    release: LegalRelease
    status: str  # active, expired, revoked, disaster_closed
    status_label: str

    @property
    def active(self) -> bool:
        return self.status == "active"

    @property
    def rule_name(self) -> str:
        return rule_name(self.release.rule)


def rule_name(code: str) -> str:
    """A legal rule's plain name (its code, for a rule this deployment no longer names)."""
    return str(RULE_NAMES.get(code, code))


def release_status(release: LegalRelease, now: datetime) -> tuple[str, str]:
    """Active exactly when access.consent.active_releases would use it."""
    if release.revoked_at is not None and release.revoked_at <= now:
        return "revoked", _("Revoked")
    if release.expires_at <= now:
        return "expired", _("Expired")
    if release.disaster.closed_at is not None:
        return "disaster_closed", _("Disaster closed")
    return "active", _("Active")


def release_shown(release: LegalRelease, now: datetime | None = None) -> ReleaseShown:
    """One release with its status now, as the list shows it."""
    return ReleaseShown(release, *release_status(release, now or timezone.now()))


def releases_for_list(*, now: datetime | None = None, limit: int = RELEASE_LIST_LIMIT) -> list[ReleaseShown]:
    """The newest releases, active first: rule, article, scope, period; no resident."""
    now = now or timezone.now()
    releases = (
        LegalRelease.objects.select_related("disaster", "declared_by", "revoked_by")
        .prefetch_related("shelters")
        .order_by("-declared_at", "-id")[:limit]
    )
    shown = [release_shown(release, now) for release in releases]
    return sorted(shown, key=lambda item: not item.active)


def release_rules() -> list[LegalRule]:
    """The rules HQ may declare a release under in this deployment."""
    return [
        LEGAL_RULES[code]
        for code in settings.CONSENT_RELEASE_RULES
        if code in LEGAL_RULES and not LEGAL_RULES[code].standing
    ]
