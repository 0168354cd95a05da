"""Refuse hostile input before any view sees it, and give every error the one shape.

- NUL characters in a query string or a form: PostgreSQL's text cannot hold them, so they would
  reach the database as a 500. Refused with a 400 naming the field. (JSON bodies are the API's:
  its parser, common/parsers.py, checks them as it parses them, once.)
- A body over DATA_UPLOAD_MAX_MEMORY_SIZE: 413 (Django answers it with a bare 400).
- An error a view answers with an empty body (a 405 from `require_POST`, a bare 404): the JSON shape
  on /api/, the error page elsewhere (common/error_pages.py).
"""

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.http.multipartparser import MultiPartParserError

from common import error_pages
from common.error_pages import refusal
from common.errors import database_busy
from common.limits import NUL_MESSAGE, shown_name

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")


class Refused(Exception):
    def __init__(self, field: str, message):
        self.field, self.message = field, message


def _check_query(querydict) -> None:
    for name, values in querydict.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise Refused(shown_name(name), NUL_MESSAGE)


def _check_body(request) -> None:
    if request.method not in _BODY_METHODS:
        return
    if request.content_type in _FORM_TYPES:
        _check_query(request.POST)
    else:
        # Read, not parsed: reading holds the body to DATA_UPLOAD_MAX_MEMORY_SIZE, which DRF's
        # parsers, reading the stream themselves, would not. JSON is the API's parser's to check
        # as it parses it (common/parsers.py).
        request.body  # noqa: B018


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
