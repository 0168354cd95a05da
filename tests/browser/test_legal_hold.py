"""HQ keeps a person's data from anonymisation on the person's page, and lifts the hold, in a browser."""

import os

import pytest
from django.urls import reverse

from shelters.models import Evacuee

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def _shot(page, name: str) -> None:
    """Screenshots for a person to look at, when SHOTS_DIR says where (the test asserts on its own)."""
    folder = os.environ.get("SHOTS_DIR")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)


def test_hq_sets_a_legal_hold_with_a_reason_and_lifts_it(page, log_in, live_server, hq, resident):
    person = resident.person
    log_in(page, "hq")
    page.goto(live_server.url + reverse("shelters:evacuee", args=[person.pk]))
    assert "避難所に滞在中" in page.inner_text("#retention")

    page.fill("#legal-hold-reason", "被災者台帳の審査が終わるまで")
    _shot(page, "legal-hold-form-1024")
    page.click("#legal-hold-set")
    page.wait_for_load_state()

    assert "法的な保存を設定しました" in page.content()
    assert "被災者台帳の審査が終わるまで" in page.inner_text("#retention")
    assert Evacuee.objects.get(pk=person.pk).legal_hold_reason == "被災者台帳の審査が終わるまで"
    _shot(page, "legal-hold-set-1024")
    page.set_viewport_size({"width": 390, "height": 844})
    _shot(page, "legal-hold-set-390")

    page.click("#legal-hold-lift")
    page.wait_for_load_state()
    assert "法的な保存を解除しました" in page.content()
    assert Evacuee.objects.get(pk=person.pk).legal_hold_at is None
    _shot(page, "legal-hold-lifted-390")
