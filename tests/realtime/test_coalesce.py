"""What a transaction changed is sent once, after it commits, and never after a rollback."""

import pytest
from django.db import transaction

from realtime import coalesce

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def collect(sent, *values):
    collected = coalesce.collector("_test_collector", factory=set, send=sent.append)
    collected.update(values)


def test_outside_a_transaction_there_is_nothing_to_collect_into():
    assert coalesce.collector("_test_collector", factory=set, send=print) is None


def test_everything_a_transaction_collects_is_sent_once_after_it_commits():
    sent = []
    with transaction.atomic():
        collect(sent, 1, 2)
        collect(sent, 2, 3)
        assert sent == []

    assert sent == [{1, 2, 3}]


def test_a_rolled_back_transaction_sends_nothing_and_the_next_one_starts_afresh():
    sent = []
    with pytest.raises(RuntimeError), transaction.atomic():
        collect(sent, 1)
        raise RuntimeError

    with transaction.atomic():
        collect(sent, 2)

    assert sent == [{2}]
