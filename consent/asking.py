"""Asking at the right time: which questions a resident gets, by their timing preference.

When the desk or the phone survey is about to collect or show some categories to some recipients,
`questions_for` says which of them to ask the resident about now:

- every time (`Timing.EVERY_TIME`): every category being collected, for every recipient;
- once (`Timing.ONCE`): nothing if the resident has ever answered anything (a decision, or a
  consent record that changed one), else everything;
- on new data (`Timing.NEW_DATA`, the default, also for a person the ledger does not know yet):
  each category with the recipients it was never answered for in this context, as the history
  of consent records shows it (a decision the resident later took back still counts as answered:
  the kind of data is not new to them).

A question carries its plain texts (what the data is, what it is used for, who gets it) from
`consent.rules`, so every page asks in the same words. The answers become `consent.services.Change`s
with `changes_for`; what a page posts is read by `answers_from` (known fields only, a bad value is
an error naming its field).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from common.errors import ApplicationError
from consent.models import ConsentDecision, ConsentRecord, ConsentSubject
from consent.rules import CATEGORY_PURPOSES, RECIPIENT_DETAILS, Category, Context, Decision, Recipient, Timing
from consent.services import Change

# What the desk collects about a person, and who gets it there.
DESK_CATEGORIES = (Category.BASIC, Category.CONTACT, Category.HOUSEHOLD, Category.SUPPORT)
DESK_RECIPIENTS = (Recipient.SHELTER_STAFF, Recipient.HQ)
# Survey answers linked to a person reach the shelter's staff, HQ and the city's health staff (follow-up).
SURVEY_CATEGORIES = (Category.SURVEY,)
SURVEY_RECIPIENTS = (Recipient.SHELTER_STAFF, Recipient.HQ, Recipient.HEALTH)

# The consent records read to know what a resident has answered before: a ledger changes a few
# times a year; this bounds a pathological one.
HISTORY_LIMIT = 1000

LATER = "later"  # the resident chose not to answer now: nothing is recorded


@dataclass(frozen=True)
class Question:
    """Ask the resident whether `category` may go to `recipients` in `context`."""

    category: str
    recipients: tuple[str, ...]
    context: str

    @property
    def title(self) -> str:
        return str(Category(self.category).label)

    @property
    def purpose(self) -> str:
        return str(CATEGORY_PURPOSES[Category(self.category)])

    @property
    def recipient_texts(self) -> list[tuple[str, str]]:
        return [(str(Recipient(r).label), str(RECIPIENT_DETAILS[Recipient(r)])) for r in self.recipients]

    @property
    def recipient_names(self) -> str:
        return pgettext("list separator", ", ").join(str(Recipient(r).label) for r in self.recipients)

    @property
    def yes_label(self) -> str:
        if self.category == Category.SURVEY:
            return _("Yes, link my answers to me")
        return _("Yes, you may use it")

    @property
    def no_label(self) -> str:
        # Refusing the basic items at a shelter means being counted without a name; refusing to
        # link survey answers means they are sent without a name.
        if self.category == Category.BASIC:
            return _("No: count me only, without my name")
        if self.category == Category.SURVEY:
            return _("No, send my answers without my name")
        return _("No, do not use it")


def _known(values: Iterable[str], allowed: list[str], field: str) -> list[str]:
    found = list(dict.fromkeys(values))
    for value in found:
        if value not in allowed:
            raise ApplicationError(_("Unknown %(field)s.") % {"field": field}, field=field)
    return found


def timing_of(subject: str | None) -> str:
    if not subject:
        return Timing.NEW_DATA
    timing = ConsentSubject.objects.filter(key=subject).values_list("timing", flat=True).first()
    return timing or Timing.NEW_DATA


def answered_cells(subject: str | None) -> set[tuple[str, str, str]]:
    """Every (category, recipient, context) the resident has ever given or refused."""
    if not subject:
        return set()
    cells = set(ConsentDecision.objects.filter(subject=subject).values_list("category", "recipient", "context"))
    history = ConsentRecord.objects.filter(subject=subject).order_by("-at", "-id").values_list("changes", flat=True)
    for changes in history[:HISTORY_LIMIT]:
        for change in changes or ():
            if change.get("decision") in Decision.values:
                cells.add((change.get("category"), change.get("recipient"), change.get("context")))
    return cells


def questions_for(
    subject: str | None, categories: Iterable[str], recipients: Iterable[str], context: str
) -> list[Question]:
    """The questions to ask now; `subject` None for a person the ledger cannot know yet (a new walk-in)."""
    categories = _known(categories, Category.values, "category")
    recipients = tuple(_known(recipients, Recipient.values, "recipient"))
    if context not in Context.values:
        raise ApplicationError(_("Unknown %(field)s.") % {"field": "context"}, field="context")
    if not categories or not recipients:
        return []
    everything = [Question(category=c, recipients=recipients, context=context) for c in categories]
    timing = timing_of(subject)
    if timing == Timing.EVERY_TIME:
        return everything
    answered = answered_cells(subject)
    if timing == Timing.ONCE:
        return [] if answered else everything
    questions = []
    for category in categories:
        missing = tuple(r for r in recipients if (category, r, context) not in answered)
        if missing:
            questions.append(Question(category=category, recipients=missing, context=context))
    return questions


def questions_for_someone_new(categories: Iterable[str], recipients: Iterable[str]) -> list[Question]:
    """What a person the ledger cannot know yet (a walk-in still being typed in) is asked: everything,
    on new data, whatever the context; their `context` is left empty (shown, never recorded: the
    service that records the answers works the questions out again in the current context)."""
    categories = _known(categories, Category.values, "category")
    recipients = tuple(_known(recipients, Recipient.values, "recipient"))
    return [Question(category=c, recipients=recipients, context="") for c in categories] if recipients else []


def answers_from(data: Mapping, *, prefix: str, categories: Iterable[str] = DESK_CATEGORIES) -> dict[str, str]:
    """The answers a form posted as `<prefix><category>` = given | refused | later (or empty)."""
    answers = {}
    for category in categories:
        field = f"{prefix}{category}"
        value = data.get(field, "") or ""
        if value in ("", LATER):
            continue
        if value not in Decision.values:
            raise ApplicationError(_("Choose yes or no."), field=field)
        answers[category] = value
    return answers


def changes_for(questions: Iterable[Question], answers: Mapping[str, str]) -> list[Change]:
    """The ledger changes the answers make: each answered question, for each of its recipients.

    An answer to a category that was not asked (answered meanwhile elsewhere) changes nothing.
    """
    return [
        Change(category=q.category, recipient=recipient, context=q.context, decision=answers[q.category])
        for q in questions
        if answers.get(q.category) in Decision.values
        for recipient in q.recipients
    ]


def decisions_of(subject: str | None, *, recipient: str, context: str) -> dict[str, str]:
    """The resident's current decisions for one recipient in one context: category -> given | refused."""
    if not subject:
        return {}
    return dict(
        ConsentDecision.objects.filter(subject=subject, recipient=recipient, context=context).values_list(
            "category", "decision"
        )
    )


def refused_any(subject: str | None, *, category: str, recipients: Iterable[str], context: str) -> bool:
    """Whether the resident refused `category` to any of `recipients` in `context`."""
    if not subject:
        return False
    return ConsentDecision.objects.filter(
        subject=subject, category=category, recipient__in=list(recipients), context=context, decision=Decision.REFUSED
    ).exists()
