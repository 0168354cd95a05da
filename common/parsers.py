"""The API's JSON parser: DRF's, bounded. The body is parsed once, here, and then walked for what
PostgreSQL or Python cannot take: NUL characters (text refuses them) and nesting deeper than
MAX_JSON_DEPTH (Python's parser dies of recursion near 1,000 levels). Either is a 400 naming the
field as the API's errors do (`members[0].name`); forms and query strings are checked by
common.middleware.HostileInputMiddleware.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser

from common.limits import MAX_JSON_DEPTH, NUL_MESSAGE, shown_name


def _too_deep() -> str:
    return _("Nested too deeply (at most %(depth)d levels).") % {"depth": MAX_JSON_DEPTH}


def _refuse(field: str, message) -> None:
    raise ValidationError({field: [str(message)]})


def _check(value, path: str = "", depth: int = 0) -> None:
    if depth > MAX_JSON_DEPTH:
        _refuse(path or "body", _too_deep())
    if isinstance(value, str):
        if "\x00" in value:
            _refuse(path or "body", NUL_MESSAGE)
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{path}.{shown_name(key)}" if path else shown_name(key)
            if "\x00" in key:
                _refuse(name, NUL_MESSAGE)
            _check(item, name, depth + 1)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check(item, f"{path}[{index}]", depth + 1)


class BoundedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            _refuse("body", _too_deep())
        _check(data)
        return data
