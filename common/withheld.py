"""The words for data withheld from a reader (access/consent.py), one table for pages, CSVs and the
live client: 「氏名非表示（本人が提供を拒否）」, 「氏名非表示（同意なし）」 and why."""

from django.utils.translation import gettext as _

REFUSED = "refused"
NOT_ASKED = "not_asked"


def marker_text(*, name: bool, reason: str) -> str:
    if reason == REFUSED:
        return _("Name withheld (the person refused)") if name else _("Withheld (the person refused)")
    return _("Name withheld (no consent)") if name else _("Withheld (no consent)")


def explanation(reason: str) -> str:
    if reason == REFUSED:
        return _(
            "The person refused to let you see these data. They are still counted in the figures. "
            "They can change this on their own page or at the desk."
        )
    return _(
        "The person has not consented to you seeing these data, and no legal rule allows it now. "
        "They are still counted in the figures."
    )


def labels() -> dict:
    """For the live client: {"name": {reason: text}, "data": {...}, "why": {...}}."""
    reasons = (REFUSED, NOT_ASKED)
    return {
        "name": {reason: marker_text(name=True, reason=reason) for reason in reasons},
        "data": {reason: marker_text(name=False, reason=reason) for reason in reasons},
        "why": {reason: explanation(reason) for reason in reasons},
    }
