"""Which questions a resident is asked, by their timing preference and what they answered before."""

import pytest

from common.errors import ApplicationError
from consent import asking
from consent.models import ConsentSubject
from consent.rules import NOT_ASKED, Category, Context, Method, Recipient, Timing
from consent.services import Change, consents_record

pytestmark = pytest.mark.django_db

SUBJECT = "person:4242"
STAFF, HQ = Recipient.SHELTER_STAFF, Recipient.HQ
BASIC, CONTACT = Category.BASIC, Category.CONTACT
ALL = [(BASIC, (STAFF, HQ)), (CONTACT, (STAFF, HQ))]


def _answer(*cells, decision="given"):
    consents_record(
        subject=SUBJECT,
        changes=[Change(category=c, recipient=r, context=ctx, decision=decision) for c, r, ctx in cells],
        method=Method.RESIDENT_PAGE,
    )


def nothing():
    pass


def timing_chosen_only():
    consents_record(subject=SUBJECT, changes=[], method=Method.RESIDENT_PAGE, timing=Timing.NEW_DATA)


def basic_answered_for_staff():
    _answer((BASIC, STAFF, Context.DISASTER))


def everything_answered_here():
    _answer(*[(c, r, Context.DISASTER) for c in (BASIC, CONTACT) for r in (STAFF, HQ)])


def everything_answered_in_peacetime():
    _answer(*[(c, r, Context.PEACETIME) for c in (BASIC, CONTACT) for r in (STAFF, HQ)])


def basic_refused_for_staff_then_taken_back():
    _answer((BASIC, STAFF, Context.DISASTER), decision="refused")
    _answer((BASIC, STAFF, Context.DISASTER), decision=NOT_ASKED)


def another_category_answered():
    _answer((Category.SUPPORT, STAFF, Context.DISASTER), (Category.SUPPORT, HQ, Context.DISASTER))


PARTLY = [(BASIC, (HQ,)), (CONTACT, (STAFF, HQ))]

# history: {timing: the questions asked}
TABLE = {
    nothing: {Timing.EVERY_TIME: ALL, Timing.ONCE: ALL, Timing.NEW_DATA: ALL},
    timing_chosen_only: {Timing.EVERY_TIME: ALL, Timing.ONCE: ALL, Timing.NEW_DATA: ALL},
    basic_answered_for_staff: {Timing.EVERY_TIME: ALL, Timing.ONCE: [], Timing.NEW_DATA: PARTLY},
    everything_answered_here: {Timing.EVERY_TIME: ALL, Timing.ONCE: [], Timing.NEW_DATA: []},
    everything_answered_in_peacetime: {Timing.EVERY_TIME: ALL, Timing.ONCE: [], Timing.NEW_DATA: ALL},
    basic_refused_for_staff_then_taken_back: {Timing.EVERY_TIME: ALL, Timing.ONCE: [], Timing.NEW_DATA: PARTLY},
    another_category_answered: {Timing.EVERY_TIME: ALL, Timing.ONCE: [], Timing.NEW_DATA: ALL},
}


@pytest.mark.parametrize("timing", Timing.values)
@pytest.mark.parametrize("history", list(TABLE), ids=lambda f: f.__name__)
def test_the_questions_follow_the_timing_and_the_history(history, timing):
    history()
    ConsentSubject.objects.update_or_create(key=SUBJECT, defaults={"timing": timing})

    questions = asking.questions_for(SUBJECT, [BASIC, CONTACT], [STAFF, HQ], Context.DISASTER)

    assert [(q.category, q.recipients) for q in questions] == TABLE[history][timing]
    assert all(q.context == Context.DISASTER for q in questions)


def test_a_person_the_ledger_does_not_know_is_asked_everything():
    assert [
        (q.category, q.recipients) for q in asking.questions_for(None, [BASIC, CONTACT], [STAFF, HQ], "disaster")
    ] == ALL
    assert [q.category for q in asking.questions_for("person:1", [BASIC], [STAFF], "peacetime")] == [BASIC]


def test_someone_new_is_asked_everything_without_reading_the_ledger(django_assert_num_queries):
    with django_assert_num_queries(0):
        questions = asking.questions_for_someone_new([BASIC, CONTACT], [STAFF, HQ])

    assert [(q.category, q.recipients) for q in questions] == ALL


def test_new_data_is_the_default_timing():
    basic_answered_for_staff()  # the subject row exists with the default timing

    questions = asking.questions_for(SUBJECT, [BASIC, CONTACT], [STAFF, HQ], Context.DISASTER)

    assert [(q.category, q.recipients) for q in questions] == PARTLY


def test_a_question_carries_its_plain_texts():
    question = asking.questions_for(None, [Category.SUPPORT], [STAFF, HQ], Context.DISASTER)[0]

    assert question.title == str(Category.SUPPORT.label)
    assert "要配慮個人情報" in question.purpose
    assert [label for label, _detail in question.recipient_texts] == [
        str(Recipient(STAFF).label),
        str(Recipient(HQ).label),
    ]
    assert asking.questions_for(None, [BASIC], [STAFF], "disaster")[0].no_label != question.no_label


@pytest.mark.parametrize("field,value", [("category", "blood_type"), ("recipient", "press")])
def test_an_unknown_category_or_recipient_is_an_error_naming_it(field, value):
    categories, recipients = ([value], [STAFF]) if field == "category" else ([BASIC], [value])

    with pytest.raises(ApplicationError) as raised:
        asking.questions_for(None, categories, recipients, Context.DISASTER)

    assert raised.value.field == field


def test_answers_are_read_from_known_fields_only_and_a_bad_value_names_its_field():
    posted = {"ask-basic": "given", "ask-contact": "refused", "ask-household": "later", "ask-stays": "given"}

    assert asking.answers_from(posted, prefix="ask-") == {"basic": "given", "contact": "refused"}
    with pytest.raises(ApplicationError) as raised:
        asking.answers_from({"ask-support": "maybe"}, prefix="ask-")
    assert raised.value.field == "ask-support"


def test_answers_change_each_recipient_of_the_questions_asked_and_nothing_else():
    questions = [asking.Question(category=BASIC, recipients=(HQ,), context=Context.DISASTER)]

    changes = asking.changes_for(questions, {"basic": "refused", "contact": "given"})

    assert changes == [Change(category=BASIC, recipient=HQ, context=Context.DISASTER, decision="refused")]
