"""What the resident's forms send, checked: each bad value is an ApplicationError naming its field."""

from django.utils.translation import gettext as _

from common.errors import ApplicationError
from consent.rules import NOT_ASKED, Category, Context, Decision, Recipient, Timing
from consent.services import Change

CONSENT_PREFIX = "c"
DECISIONS = [Decision.GIVEN, Decision.REFUSED, NOT_ASKED]
# Field names are echoed in errors: a hostile name is cut short.
_SHOWN_NAME_LENGTH = 60
_IGNORED = {"csrfmiddlewaretoken", "timing"}


def consent_field(recipient: str, context: str, category: str) -> str:
    return f"{CONSENT_PREFIX}.{recipient}.{context}.{category}"


def _shown(name: str) -> str:
    return name[:_SHOWN_NAME_LENGTH]


def consent_changes_from(data) -> tuple[list[Change], str | None]:
    """The answers of /me/consents/: one field per cell, `c.<recipient>.<context>.<category>`, with
    given, refused or not_asked; and `timing`. Anything else is refused, naming the field."""
    changes = []
    for name in data:
        if name in _IGNORED:
            continue
        parts = name.split(".")
        if len(parts) != 4 or parts[0] != CONSENT_PREFIX:
            raise ApplicationError(_("Unknown field."), field=_shown(name))
        _prefix, recipient, context, category = parts
        if recipient not in Recipient.values:
            raise ApplicationError(_("Unknown recipient."), field=_shown(name))
        if context not in Context.values:
            raise ApplicationError(_("Unknown situation."), field=_shown(name))
        if category not in Category.values:
            raise ApplicationError(_("Unknown kind of data."), field=_shown(name))
        values = data.getlist(name)
        if len(values) != 1 or values[0] not in DECISIONS:
            raise ApplicationError(_("Choose given, refused or not asked."), field=_shown(name))
        changes.append(Change(category=category, recipient=recipient, context=context, decision=values[0]))
    timing = data.get("timing", "")
    if timing and timing not in Timing.values:
        raise ApplicationError(_("Choose when you want to be asked."), field="timing")
    return changes, timing or None
