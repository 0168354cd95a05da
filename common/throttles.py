"""API throttles: requests per user and per anonymous address, and wrong tokens per address.

They answer 429 in the one error shape (DRF's Throttled goes through common.errors). When the
cache (Redis) cannot be reached they let the request through: during an outage serving the
shelters matters more than counting.
"""

from django.utils.translation import gettext as _
from redis.exceptions import RedisError
from rest_framework import throttling
from rest_framework.authentication import TokenAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, Throttled

from common.audit import audit_record


class _FailOpen:
    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except (RedisError, OSError):
            return True


class AnonRateThrottle(_FailOpen, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_FailOpen, throttling.UserRateThrottle):
    pass


class FailedTokenThrottle(_FailOpen, throttling.SimpleRateThrottle):
    """Wrong tokens per client address: allow_request() records one failure."""

    scope = "failed_token"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}

    def over_limit(self, request) -> bool:
        """Whether this address has used up its failures, without recording anything."""
        if self.rate is None:
            return False
        try:
            history = self.cache.get(self.get_cache_key(request, None), [])
        except (RedisError, OSError):
            return False
        self.now = self.timer()
        self.history = [moment for moment in history if moment > self.now - self.duration]
        return len(self.history) >= self.num_requests


class ThrottledTokenAuthentication(TokenAuthentication):
    """DRF's token authentication, refusing an address with 429 once it sent too many wrong tokens.

    DRF checks its throttles after authentication, so a wrong token (401) never reached them; here
    the count is kept where the token is checked. A right token from a refused address is refused
    too until the window passes, so guessing learns nothing meanwhile.
    """

    def authenticate(self, request):
        words = get_authorization_header(request).split()
        if not words or words[0].lower() != self.keyword.lower().encode():
            return None
        throttle = FailedTokenThrottle()
        if throttle.over_limit(request):
            raise Throttled(wait=throttle.wait(), detail=_("Too many wrong API tokens from this address."))
        try:
            return super().authenticate(request)
        except AuthenticationFailed:
            throttle.allow_request(request, None)
            if throttle.rate is not None and len(getattr(throttle, "history", [])) == throttle.num_requests:
                _audit_throttled(request, throttle)
            raise


def _audit_throttled(request, throttle: FailedTokenThrottle) -> None:
    audit_record(
        actor=None,
        action="api_token.throttled",
        object_type="address",
        object_id=throttle.get_ident(request),
        details={"path": request.path, "failures": throttle.num_requests},
    )
