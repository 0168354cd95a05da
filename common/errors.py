"""One error type for the domain and one JSON shape for every API error.

Every API error body is {"error": {"code": ..., "message": ..., "fields": {name: [messages]}}}.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import OperationalError
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler


class ApplicationError(Exception):
    """A request the domain refuses, with a message a shelter manager can act on."""

    def __init__(
        self,
        message,
        *,
        code: str = "invalid",
        field: str | None = None,
        fields: dict[str, list[str]] | None = None,
        status_code: int = 400,
    ):
        super().__init__(str(message))
        self.message = message
        self.code = code
        self.field = field
        self.fields = {name: [str(m) for m in messages] for name, messages in (fields or {}).items()}
        self.status_code = status_code


API_PREFIX = "/api/"


def is_api_request(request) -> bool:
    """Errors on these paths are answered in the JSON shape; elsewhere with a page."""
    return request.path_info.startswith(API_PREFIX)


def error_body(code: str, message, fields: dict[str, list[str]] | None = None) -> dict:
    return {"error": {"code": code, "message": str(message), "fields": fields or {}}}


# PostgreSQL's lock_timeout and statement_timeout (settings DB_LOCK_TIMEOUT_MS, DB_STATEMENT_TIMEOUT_MS).
_BUSY_SQLSTATES = {"55P03", "57014"}
BUSY_RETRY_AFTER_SECONDS = 5


def database_busy(exc: BaseException) -> ApplicationError | None:
    """The error to answer when the database refused to wait any longer, else None.

    A row lock held too long, a statement over its time, no free connection in the pool (all of
    them bounded on purpose, docs/operations.md) or SQLite's busy timeout: the request did nothing
    and may be sent again, so the client gets 503 with Retry-After, not a 500.
    """
    if not isinstance(exc, OperationalError):
        return None
    cause = exc.__cause__
    if (
        getattr(cause, "sqlstate", None) in _BUSY_SQLSTATES
        or type(cause).__name__ == "PoolTimeout"
        or "database is locked" in str(exc)
    ):
        return ApplicationError(
            _("The database is busy; nothing was changed. Try again in a few seconds."), code="busy", status_code=503
        )
    return None


def _child(prefix: str, key) -> str:
    if isinstance(key, int):
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else str(key)


def _flatten(detail, prefix: str = "") -> dict[str, list[str]]:
    """DRF's nested errors as one level, named as a client writes the field: `members[1].name`.

    A list serializer's errors come as a list with one entry per item (empty for the valid ones)
    or a dict keyed by the item's index; a nested serializer's as a dict.
    """
    if isinstance(detail, dict):
        fields: dict[str, list[str]] = {}
        for key, value in detail.items():
            fields.update(_flatten(value, _child(prefix, key)))
        return fields
    if isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        fields = {}
        for index, item in enumerate(detail):
            fields.update(_flatten(item, _child(prefix, index)) if item else {})
        return fields
    messages = detail if isinstance(detail, list) else [detail]
    return {prefix or "non_field_errors": [str(message) for message in messages]}


def api_exception_handler(exc, context):
    busy = database_busy(exc)
    if busy is not None:
        headers = {"Retry-After": str(BUSY_RETRY_AFTER_SECONDS)}
        return Response(error_body(busy.code, busy.message), status=busy.status_code, headers=headers)
    if isinstance(exc, ApplicationError):
        fields = exc.fields or ({exc.field: [str(exc.message)]} if exc.field else {})
        return Response(error_body(exc.code, exc.message, fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = (
            _flatten(exc.detail) if isinstance(exc.detail, dict) else {"non_field_errors": [str(m) for m in exc.detail]}
        )
        first = next(iter(fields.items()), None)
        message = f"{first[0]}: {first[1][0]}" if first else str(_("Invalid input."))
        response.data = error_body("invalid", message, fields)
        response.status_code = status.HTTP_400_BAD_REQUEST
    else:
        detail = exc.detail if isinstance(exc, exceptions.APIException) else str(exc)
        code = getattr(detail, "code", None) or getattr(exc, "default_code", "error")
        response.data = error_body(code, detail)
    return response
