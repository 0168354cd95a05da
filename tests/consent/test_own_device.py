"""The resident answers the desk's questions on their own phone: the desk's QR code, or signed in."""

import pytest
from django.test import override_settings
from django.urls import reverse

from consent import links
from consent.models import ConsentDecision, ConsentRecord
from consent.rules import Method
from shelters.models import Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

SUBJECT = "person:77"


def url(subject=SUBJECT):
    return links.own_device_path(subject)


def test_the_page_asks_the_desks_questions_without_login(client):
    page = client.get(url())

    assert page.status_code == 200
    assert [q.category for q in page.context["questions"]] == ["basic", "contact", "household", "support"]
    assert 'name="ask-support" value="refused"' in page.content.decode()
    # Nobody is signed in: no link to a resident's own page.
    assert reverse("me:consents") not in page.content.decode()


def test_the_answers_are_recorded_as_from_the_residents_own_phone(client):
    response = client.post(url(), {"ask-basic": "given", "ask-support": "refused"})

    assert response.status_code == 200
    record = ConsentRecord.objects.get(subject=SUBJECT)
    assert record.method == Method.OWN_DEVICE and record.collected_by is None
    assert str(record.receipt_id) in response.content.decode()
    assert dict(ConsentDecision.objects.filter(recipient="shelter_staff").values_list("category", "decision")) == {
        "basic": "given",
        "support": "refused",
    }
    # Answered: on new data, nothing is left to ask.
    assert [q.category for q in client.get(url()).context["questions"]] == ["contact", "household"]


def test_later_records_nothing(client):
    client.post(url(), {"ask-basic": "given", "later": "1"})

    assert not ConsentRecord.objects.exists()


def test_a_bad_answer_is_an_error_naming_nothing_written(client):
    response = client.post(url(), {"ask-basic": "maybe"})

    assert response.status_code == 400
    assert not ConsentRecord.objects.exists()


def test_an_expired_code_says_so_plainly(client):
    stale = url()
    with override_settings(CONSENT_ASK_TOKEN_MAX_AGE_SECONDS=-1):
        response = client.get(stale)
        posted = client.post(stale, {"ask-basic": "given"})

    assert response.status_code == 400 == posted.status_code
    assert "有効期限" in response.content.decode() or "expired" in response.content.decode()
    assert not ConsentRecord.objects.exists()


@pytest.mark.parametrize(
    "token",
    ["nonsense", links.own_device_token(SUBJECT)[:-3] + "abc", "x" * 400],
    ids=["nonsense", "tampered", "too long"],
)
def test_a_tampered_code_is_refused_with_a_clear_message(client, token):
    response = client.post(reverse("consent:ask_own_device", args=[token]), {"ask-basic": "refused"})

    assert response.status_code == 400
    assert 'id="token-error"' in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_a_code_for_another_salt_is_not_a_code(client):
    from django.core import signing

    forged = signing.dumps({"s": SUBJECT}, salt="surveys.shelter-poster", compress=True)

    assert client.get(reverse("consent:ask_own_device", args=[forged])).status_code == 400


def test_a_signed_in_resident_answers_on_the_same_page(as_user):
    resident = UserFactory(username="resident", role="", city_os_id="AIZU-0042")

    response = as_user(resident).post(reverse("consent:ask_signed_in"), {"ask-contact": "given"})

    assert response.status_code == 200
    record = ConsentRecord.objects.get(subject="cityos:AIZU-0042")
    assert record.method == Method.OWN_DEVICE and record.collected_by == resident


def test_staff_and_strangers_have_no_questions_of_their_own(as_user, client):
    manager = UserFactory(username="staff", role=Role.MANAGER, city_os_id="AIZU-0043")

    assert as_user(manager).get(reverse("consent:ask_signed_in")).status_code == 403
    assert client.get(reverse("consent:ask_signed_in")).status_code == 302


def test_a_signed_in_resident_is_pointed_to_their_own_page_to_change_their_answers(as_user):
    resident = UserFactory(username="resident2", role="", city_os_id="AIZU-0044")

    page = as_user(resident).get(reverse("consent:ask_signed_in")).content.decode()

    assert reverse("me:consents") in page
