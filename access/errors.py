"""The one refusal of the access layer: "not found", whether the object is missing or hidden.

It is both an `ApplicationError` (the API's one JSON shape, status 404, code `not_found`) and an
`Http404` (a page shows the ordinary 404), so a caller never tells the two cases apart and nobody
learns that a person exists by being refused.
"""

from django.http import Http404
from django.utils.translation import gettext_lazy as _

from common.errors import ApplicationError


class NotVisible(ApplicationError, Http404):
    def __init__(self, message=None, *, field: str | None = None):
        super().__init__(message or _("Not found."), code="not_found", field=field, status_code=404)


# Ids are bigints: a longer number names nothing (and would overflow the database's parameter).
_MAX_ID_DIGITS = 18


def object_id(value, *, field: str) -> int:
    """An id as a URL or a caller gives it (`"12"`, 12): anything that cannot be one is not found."""
    text = str(value)
    if not text.isascii() or not text.isdigit() or len(text) > _MAX_ID_DIGITS:
        raise NotVisible(field=field)
    return int(text)
