"""The bounds every number, text, date and nesting the site accepts must stay within.

The database's columns set most of them (an int32 column takes no more than 2,147,483,647; a
bigint id no more than 9,223,372,036,854,775,807; PostgreSQL's text takes no NUL character): a value
beyond them is a 400 naming the field, never a database error answered with a 500. Serializers and
forms take their integer fields from here; `common.middleware.HostileInputMiddleware` refuses NUL
characters and deep JSON for every view; `common.pagination` bounds `limit` and `offset`.
"""

import datetime

from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

INT32_MAX = 2**31 - 1
BIGINT_MAX = 2**63 - 1

# JSON bodies nest a list of members in an object at most; 32 levels is generous, 1,000 is an attack.
MAX_JSON_DEPTH = 32

# Dates people and reports use: a birth date of 1900 is real, year 1 or 9999 is a typing slip or an
# attack (date arithmetic overflows near the ends of Python's range).
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)

NUL_MESSAGE = _("NUL characters are not allowed.")


def quantity_field(*, min_value: int = 0, **kwargs) -> serializers.IntegerField:
    """A count stored in an int32 column (PositiveIntegerField or IntegerField)."""
    return serializers.IntegerField(min_value=min_value, max_value=INT32_MAX, **kwargs)


def signed_quantity_field(**kwargs) -> serializers.IntegerField:
    """A change to a count stored in an int32 column: either sign, within the column."""
    return serializers.IntegerField(min_value=-INT32_MAX, max_value=INT32_MAX, **kwargs)


def id_field(**kwargs) -> serializers.IntegerField:
    """A reference to a row by its bigint id."""
    return serializers.IntegerField(min_value=1, max_value=BIGINT_MAX, **kwargs)


def date_validators() -> list:
    """Validators for a date field of a form or serializer: within EARLIEST_DATE..LATEST_DATE."""
    return [
        MinValueValidator(EARLIEST_DATE, message=_("Enter a date in or after %(limit_value)s.")),
        MaxValueValidator(LATEST_DATE, message=_("Enter a date in or before %(limit_value)s.")),
    ]


def bounded_date_field(**kwargs) -> serializers.DateField:
    return serializers.DateField(validators=date_validators(), **kwargs)


# For OpenAPI parameters (drf-spectacular takes a raw schema as a parameter's type).
ID_SCHEMA = {"type": "integer", "minimum": 1, "maximum": BIGINT_MAX}
SEARCH_MAX_LENGTH = 200
SEARCH_SCHEMA = {"type": "string", "maxLength": SEARCH_MAX_LENGTH}


def is_id(text: str) -> bool:
    """Whether a text from a URL or a form can be a row's id (ASCII digits: "²".isdigit() too)."""
    return text.isascii() and text.isdigit() and 1 <= int(text) <= BIGINT_MAX


def id_param(request, name: str) -> int | None:
    """An optional id in the query string (`?shelter=12`): a 400 naming it when it cannot be one."""
    value = request.query_params.get(name)
    if value in (None, ""):
        return None
    if not is_id(value):
        raise serializers.ValidationError({name: [_("Enter an id: a whole number from 1.")]})
    return int(value)


def text_within(value: str, *, name: str, max_length: int) -> str:
    """The text, or a 400 naming `name` when it is longer than `max_length` characters."""
    if len(value) > max_length:
        message = _("Ensure this field has no more than %(max)d characters.") % {"max": max_length}
        raise serializers.ValidationError({name: [message]})
    return value


def text_param(request, name: str, *, max_length: int = SEARCH_MAX_LENGTH) -> str:
    """An optional text in the query string (`?q=`), at most `max_length` characters."""
    return text_within(request.query_params.get(name, ""), name=name, max_length=max_length)


def shown_name(name: str) -> str:
    """A field's name as an error shows it: a NUL in it written as \\0."""
    return name.replace("\x00", "\\0")
