"""The marker a staff page shows instead of data the access layer withheld (access/consent.py).

`{% withheld person "basic" %}` renders nothing when the reader has a basis for the category, else
「氏名非表示（本人が提供を拒否）」 or 「氏名非表示（同意なし）」 with the explanation as a tooltip, so
nobody reads an empty field as "none". `generic=True` for the category's other fields (birth date,
sex, address) rather than the name.
"""

from django import template
from django.utils.html import format_html, format_html_join

from common import withheld as words

register = template.Library()


def _reason(person, category: str) -> str | None:
    """Why the access layer withheld `category` of the person from this reader; None if it did not."""
    reasons = getattr(person, "withheld", None) or {}
    return reasons.get(category) if isinstance(reasons, dict) else None


@register.simple_tag
def withheld(person, category: str, generic: bool = False) -> str:
    reason = _reason(person, category)
    if not reason:
        return ""
    return format_html(
        '<span class="withheld withheld-{} withheld-{}" title="{}" data-withheld="{}">{}</span>',
        category,
        reason,
        words.explanation(reason),
        reason,
        words.marker_text(name=category == "basic" and not generic, reason=reason),
    )


@register.simple_tag
def withheld_legend(people, attribute: str = "") -> str:
    """Under a list: what each marker in it means, for readers without a tooltip (a phone)."""
    reasons = set()
    for item in people or ():
        for entry in item if isinstance(item, list | tuple) else [item]:  # the desk's households
            person = getattr(entry, attribute) if attribute else entry
            reasons |= set((getattr(person, "withheld", None) or {}).values())
    return format_html_join(
        "",
        '<p class="withheld-legend" data-withheld="{}"><strong>{}</strong>: {}</p>',
        (
            (reason, words.marker_text(name=True, reason=reason), words.explanation(reason))
            for reason in (words.REFUSED, words.NOT_ASKED)
            if reason in reasons
        ),
    )


@register.simple_tag
def withheld_text(person, category: str) -> str:
    """The marker as plain text, where no markup fits (an <option>, a CSV cell)."""
    reason = _reason(person, category)
    return words.marker_text(name=category == "basic", reason=reason) if reason else ""
