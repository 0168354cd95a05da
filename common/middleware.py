"""Refuse hostile input before any view sees it, and give every error the one shape.

- NUL characters in a query string, a form or a JSON body (key or value): PostgreSQL's text cannot
  hold them, so they would reach the database as a 500. Refused with a 400 naming the field.
- JSON nested deeper than MAX_JSON_DEPTH (Python's parser dies of recursion at about 1,000 levels).
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 (Django answers it with a bare 400).
- An error a view answers with an empty body (a 405 from `require_POST`, a bare 404): the JSON shape
  on /api/, the error page elsewhere (common/error_pages.py).
"""

import json

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError
from django.utils.translation import gettext_lazy as _

from common import error_pages
from common.error_pages import refusal
from common.errors import database_busy
from common.limits import MAX_JSON_DEPTH, NUL_MESSAGE

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


def _too_deep() -> str:
    return _("Nested too deeply (at most %(depth)d levels).") % {"depth": MAX_JSON_DEPTH}


class Refused(Exception):
    def __init__(self, field: str, message):
        self.field, self.message = field, message


def _shown(name: str) -> str:
    return name.replace("\x00", "\\0")


def _check_query(querydict) -> None:
    for name, values in querydict.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise Refused(_shown(name), NUL_MESSAGE)


def _check_json(value, path: str = "", depth: int = 0) -> None:
    """Walk a parsed JSON body; `path` names a field as the API's errors do (`members[0].name`)."""
    if depth > MAX_JSON_DEPTH:
        raise Refused(path or "body", _too_deep())
    if isinstance(value, str):
        if "\x00" in value:
            raise Refused(path or "body", NUL_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{_shown(key)}" if path else _shown(key)
            if "\x00" in key:
                raise Refused(name, NUL_MESSAGE)
            _check_json(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_json(item, f"{path}[{index}]", depth + 1)


def _check_body(request) -> None:
    if request.method not in _BODY_METHODS:
        return
    if request.content_type in _FORM_TYPES:
        _check_query(request.POST)
    elif request.content_type == "application/json" or request.content_type.endswith("+json"):
        try:
            body = json.loads(request.body)
        except RecursionError:
            raise Refused("body", _too_deep()) from None
        except ValueError:
            return  # not JSON: the view's parser says so in its own words
        _check_json(body)


class HostileInputMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            _check_query(request.GET)
            _check_body(request)
        except Refused as refused:
            return refusal(
                request,
                400,
                message=f"{refused.field}: {refused.message}",
                fields={refused.field: [str(refused.message)]},
            )
        except (RequestDataTooBig, TooManyFieldsSent):
            return refusal(request, 413)
        except MultiPartParserError:
            return refusal(request, 400)  # a form without a boundary, or broken: no field to name
        response = self.get_response(request)
        if response.status_code >= 400 and not response.streaming and not response.content:
            shaped = refusal(request, response.status_code)
            for header in ("Allow", "Retry-After"):
                if header in response:
                    shaped[header] = response[header]
            return shaped
        return response


class DatabaseBusyMiddleware:
    """A bounded database wait (lock, statement, pool; docs/operations.md) is a 503, not a 500."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        error = database_busy(exception)
        return None if error is None else error_pages.database_busy(request, error)
