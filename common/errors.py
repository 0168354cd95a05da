"""One error type for the domain and one JSON shape for every API error.

Every API error body is {"error": {"code": ..., "message": ..., "fields": {name: [messages]}}}.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
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
