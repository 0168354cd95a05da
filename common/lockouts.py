"""Password guessing: who is locked out of logging in, the page they see, and HQ lifting it.

django-axes counts failed logins (settings: AXES_*; docs/security.md says why these choices).
A username is locked together with the address it failed from, so nobody can lock a shelter
manager out by guessing at her name from elsewhere; an address is locked on its own only after
many more failures (one password tried across many accounts).
"""

from dataclasses import dataclass
from datetime import datetime

from axes.backends import AxesStandaloneBackend
from axes.handlers.database import AxesDatabaseHandler
from axes.handlers.proxy import AxesProxyHandler
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db import transaction
from django.db.models import Max, Sum
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone

from common.audit import audit_record
from common.roles import is_headquarters


def can_lift_lockouts(user) -> bool:
    """HQ staff and administrators see who is locked out and may lift it."""
    return is_headquarters(user)


def _failures(attempts) -> int:
    return attempts.aggregate(total=Sum("failures_since_start"))["total"] or 0


class LockoutHandler(AxesDatabaseHandler):
    """Locks a (username, address) pair at AXES_FAILURE_LIMIT, an address at its own higher limit.

    axes compares one count against one limit; this count is the pair's failures until the
    address alone has reached LOGIN_FAILURE_LIMIT_PER_ADDRESS (AXES_LOCKOUT_PARAMETERS lists the
    pair first and the address second).
    """

    def get_failures(self, request, credentials=None) -> int:
        by_pair, by_address = (_failures(attempts) for attempts in self.get_user_attempts(request, credentials))
        if by_address >= settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
            return max(by_pair, by_address)
        return by_pair

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        if request is None:  # not over HTTP: nothing to count it against (LockoutBackend)
            return
        super().user_login_failed(sender, credentials, request, **kwargs)

    def reset_user_attempts(self, request, credentials=None) -> int:
        """A successful login forgets its own pair's failures, not those of others at its address."""
        by_pair = self.filter_user_attempts(request, credentials)[0]
        removed, _ = by_pair.delete()
        return removed


class LockoutBackend(AxesStandaloneBackend):
    """axes' check, first in AUTHENTICATION_BACKENDS, for authenticate() calls that come with a request.

    Every login over HTTP has one (the login views, the admin's). A call without one (the test
    client's login(), a management command) is no attempt from an address: there is nothing to
    count it against, so it is left to the other backends instead of raising.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out login gets: 429, in the site's language, saying when to try again."""
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    response = render(request, "registration/locked_out.html", {"cooloff_minutes": minutes}, status=429)
    response["Retry-After"] = str(int(settings.AXES_COOLOFF_TIME.total_seconds()))
    return response


@receiver(user_locked_out, dispatch_uid="common.lockouts.audit")
def _audit_lockout(sender, request, username=None, ip_address=None, **kwargs) -> None:
    """One audit entry when a pair or an address becomes locked, not one per refused attempt."""
    failures = getattr(request, "axes_failures_since_start", None)
    if failures == settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS:
        scope = "address"
    elif failures == settings.AXES_FAILURE_LIMIT:
        scope = "account"
    else:
        return
    audit_record(
        actor=None,
        action="login.lockout",
        object_type="login",
        object_id=(username or "")[:64] if scope == "account" else ip_address,
        details={"scope": scope, "username": username or "", "ip_address": ip_address, "path": request.path},
    )


@dataclass(frozen=True)
class Lockout:
    """A locked (username, address) pair, or an address locked for every username (username None)."""

    username: str | None
    ip_address: str
    failures: int
    until: datetime


def _recent_attempts():
    return AccessAttempt.objects.filter(attempt_time__gte=timezone.now() - settings.AXES_COOLOFF_TIME)


def _locked(rows) -> list[Lockout]:
    return [
        Lockout(
            username=row.get("username"),
            ip_address=row["ip_address"],
            failures=row["failures"],
            until=row["last"] + settings.AXES_COOLOFF_TIME,
        )
        for row in rows
    ]


def login_lockouts_active() -> list[Lockout]:
    """Every lockout in force: addresses first, then pairs, the most recent first within each."""
    recent = _recent_attempts()
    addresses = (
        recent.values("ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.LOGIN_FAILURE_LIMIT_PER_ADDRESS)
        .order_by("-last")
    )
    pairs = (
        recent.values("username", "ip_address")
        .annotate(failures=Sum("failures_since_start"), last=Max("attempt_time"))
        .filter(failures__gte=settings.AXES_FAILURE_LIMIT)
        .order_by("-last")
    )
    return _locked(addresses) + _locked(pairs)


@transaction.atomic
def login_lockout_clear(*, actor, ip_address: str, username: str | None = None) -> int:
    """Lift a lockout early: the pair's failures, or every failure from the address (no username).

    Returns how many attempt rows were removed; 0 when the lockout had already ended.
    """
    removed = AxesProxyHandler.reset_attempts(ip_address=ip_address, username=username)
    audit_record(
        actor=actor,
        action="login.unlock",
        object_type="login",
        object_id=(username or "")[:64] if username else ip_address,
        details={"username": username or "", "ip_address": ip_address, "removed": removed},
    )
    return removed
