"""Asking for a correction: a bounded form, a service that audits ids only, HQ's list to handle them."""

import pytest
from django.urls import reverse

from common.models import AuditEntry
from residents.models import CorrectionRequest, CorrectionState

pytestmark = pytest.mark.django_db

URL = "/me/correction/"


def _ask(client, resident, **overrides):
    data = {"evacuee": resident.person.pk, "field": "phone", "message": "電話番号は 0242-33-4444 です", **overrides}
    return client.post(URL, data)


def test_a_resident_asks_for_a_correction_and_sees_its_state(resident, as_user):
    client = as_user(resident)

    response = _ask(client, resident)

    assert response.status_code == 302
    request = CorrectionRequest.objects.get()
    assert (request.requester, request.evacuee, request.field, request.state) == (
        resident,
        resident.person,
        "phone",
        "open",
    )
    assert "市の確認待ち" in client.get(reverse("me:index")).content.decode()


def test_the_audit_names_ids_and_never_the_text(resident, as_user):
    _ask(as_user(resident), resident)

    entry = AuditEntry.objects.get(action="correction.requested")
    assert entry.details == {"evacuee": resident.person.pk, "field": "phone"}
    assert "0242-33-4444" not in str(entry.details)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"field": "blood_type"}, "field"),
        ({"field": ""}, "field"),
        ({"message": ""}, "message"),
        ({"message": "あ" * 1001}, "message"),
    ],
)
def test_bad_input_is_refused_naming_the_field(resident, as_user, overrides, field):
    response = _ask(as_user(resident), resident, **overrides)

    assert response.status_code == 400
    assert f"<code>{field}</code>" in response.content.decode()
    assert not CorrectionRequest.objects.exists()
    assert not AuditEntry.objects.filter(action="correction.requested").exists()


def test_a_nul_character_is_refused_naming_the_field(resident, as_user):
    response = _ask(as_user(resident), resident, message="違い\x00ます")

    assert response.status_code == 400
    assert "message" in response.content.decode()
    assert not CorrectionRequest.objects.exists()


def test_hq_lists_requests_and_marks_one_handled(resident, hq, as_user):
    _ask(as_user(resident), resident)
    request = CorrectionRequest.objects.get()
    client = as_user(hq)

    body = client.get(reverse("residents:corrections")).content.decode()
    assert "電話番号は 0242-33-4444 です" in body
    assert "会津 花子" in body

    response = client.post(reverse("residents:correction_handle", args=[request.pk]), {"state": "done"})

    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.state, request.handled_by) == (CorrectionState.DONE, hq)
    assert request.handled_at is not None
    assert AuditEntry.objects.get(action="correction.handled").details == {
        "evacuee": resident.person.pk,
        "state": "done",
    }
    assert "訂正しました" in as_user(resident).get(reverse("me:index")).content.decode()


def test_a_handled_request_is_not_handled_twice(resident, hq, as_user):
    _ask(as_user(resident), resident)
    request = CorrectionRequest.objects.get()
    client = as_user(hq)
    client.post(reverse("residents:correction_handle", args=[request.pk]), {"state": "declined"})

    client.post(reverse("residents:correction_handle", args=[request.pk]), {"state": "done"})

    request.refresh_from_db()
    assert request.state == CorrectionState.DECLINED
    assert AuditEntry.objects.filter(action="correction.handled").count() == 1


@pytest.mark.parametrize("persona", ["manager_a", "official", "resident"])
def test_only_hq_sees_and_handles_requests(persona, resident, manager_a, official, as_user):
    _ask(as_user(resident), resident)
    request = CorrectionRequest.objects.get()
    user = {"manager_a": manager_a, "official": official, "resident": resident}[persona]
    client = as_user(user)

    assert client.get(reverse("residents:corrections")).status_code == 404
    assert client.post(reverse("residents:correction_handle", args=[request.pk]), {"state": "done"}).status_code == 404
    request.refresh_from_db()
    assert request.state == CorrectionState.OPEN


def test_the_database_refuses_a_handled_request_without_who_and_when(resident):
    from django.db import IntegrityError, transaction
    from django.utils import timezone

    with pytest.raises(IntegrityError), transaction.atomic():
        CorrectionRequest.objects.create(
            requester=resident,
            evacuee=resident.person,
            field="name",
            message="x",
            state="done",
            created_at=timezone.now(),
        )


def test_hq_sees_the_withheld_marker_where_the_resident_refused_them_their_name(resident, hq, as_user):
    from consent.rules import Method
    from consent.services import Change, consents_record

    _ask(as_user(resident), resident)
    consents_record(
        subject="cityos:" + resident.city_os_id,
        changes=[Change("basic", "hq", context, "refused") for context in ("peacetime", "disaster")],
        method=Method.RESIDENT_PAGE,
        collected_by=resident,
    )

    body = as_user(hq).get(reverse("residents:corrections")).content.decode()

    assert "会津 花子" not in body
    assert 'data-withheld="refused"' in body
    assert "氏名非表示（本人が提供を拒否）" in body


def test_the_list_pages_on_within_the_chosen_state(resident, hq, as_user):
    from django.utils import timezone

    from residents.views import CORRECTIONS_PER_PAGE

    now = timezone.now()
    CorrectionRequest.objects.bulk_create(
        CorrectionRequest(
            requester=resident,
            evacuee=resident.person,
            field="name",
            message="x",
            state=CorrectionState.DECLINED,
            created_at=now,
            handled_by=hq,
            handled_at=now,
        )
        for _ in range(CORRECTIONS_PER_PAGE + 1)
    )

    body = as_user(hq).get(reverse("residents:corrections"), {"state": "declined"}).content.decode()

    assert '?state=declined&amp;page=2"' in body
