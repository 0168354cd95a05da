"""The City OS at the desk, against the real sandbox process: a signed QR code scanned, the resident
and the family they share fetched, and one tap checking the household in."""

import base64
import json
import re
import time
from urllib.parse import urlencode

import pytest
from django.urls import reverse

from cityos import client
from common.models import AuditEntry
from consent.models import ConsentRecord
from consent.rules import Method
from shelters import services
from shelters.models import CheckIn, Evacuee, Stay
from tests.factories import EvacueeFactory
from tests.system import free_port

YAMADA, SPOUSE, CHILD, ELDERLY, REFUSED, LOCATION = (f"AIZU-SANDBOX-000{n}" for n in range(1, 7))
YAMADA_FAMILY = {YAMADA: "山田 太郎", SPOUSE: "山田 花子", CHILD: "山田 空"}


def scan(client_, shelter, payload: str):
    return client_.get(reverse("shelters:desk", args=[shelter.pk]), {"q": payload})


def confirmation(page) -> dict:
    """The hidden fields of the desk's City OS form."""
    html = page.content.decode()
    form = html.split('id="city-os-form"', 1)[1].split("</form>", 1)[0]
    return {
        "ticket": re.search(r'name="ticket" value="([^"]+)"', form).group(1),
        "idempotency_key": re.search(r'name="idempotency_key" value="([^"]+)"', form).group(1),
        "members": re.findall(r'name="members" value="([^"]+)"', form),
    }


def tap(client_, shelter, fields: dict, **changes):
    data = {"mode": "inside", **fields, **changes}
    return client_.post(reverse("shelters:desk_city_os_check_in", args=[shelter.pk]), data)


def test_a_signed_qr_code_shows_the_resident_and_the_family_they_share(city_os, manager_a, shelter_a, as_user):
    page = scan(as_user(manager_a), shelter_a, city_os.qr_code(YAMADA))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="city-os-form"' in html
    for name in YAMADA_FAMILY.values():
        assert name in html
    assert "1981-04-12" in html and "追手町" in html
    assert confirmation(page)["members"] == [YAMADA, SPOUSE, CHILD]
    # Nothing is registered before the tap.
    assert not Evacuee.objects.filter(city_os_id__in=YAMADA_FAMILY).exists()


def test_a_tap_with_nobody_chosen_goes_back_to_the_resident_s_search(city_os, manager_a, shelter_a, as_user):
    desk = as_user(manager_a)
    fields = confirmation(scan(desk, shelter_a, city_os.qr_code(YAMADA)))

    response = tap(desk, shelter_a, fields, members=[])

    # The common ID travels as a query value (URL-encoded: an ID may hold "+" or "&").
    assert response.status_code == 302
    assert response["Location"] == reverse("shelters:desk", args=[shelter_a.pk]) + "?" + urlencode({"q": YAMADA})
    assert not Stay.objects.exists()


def test_one_tap_registers_and_checks_in_the_whole_household(city_os, manager_a, shelter_a, as_user):
    desk = as_user(manager_a)
    fields = confirmation(scan(desk, shelter_a, city_os.qr_code(YAMADA)))

    response = tap(desk, shelter_a, fields)

    assert response.status_code == 302
    people = {e.city_os_id: e for e in Evacuee.objects.filter(city_os_id__in=YAMADA_FAMILY)}
    # Then the desk asks what each resident's timing says to ask, as after any check-in.
    assert response["Location"].endswith("?ask=" + ",".join(str(people[i].pk) for i in YAMADA_FAMILY))
    assert {i: e.name for i, e in people.items()} == YAMADA_FAMILY
    assert len({e.household_id for e in people.values()}) == 1
    assert people[YAMADA].household.representative_id == people[YAMADA].pk
    assert people[YAMADA].address.startswith("福島県会津若松市追手町")
    assert people[YAMADA].sex == "male" and str(people[YAMADA].birth_date) == "1981-04-12"
    stays = Stay.objects.filter(evacuee__in=people.values(), checked_out_at__isnull=True)
    assert {s.shelter_id for s in stays} == {shelter_a.pk} and stays.count() == 3
    assert CheckIn.objects.count() == 1
    shelter_a.refresh_from_db()
    assert shelter_a.occupancy == 3


def test_a_second_tap_checks_nobody_in_twice(city_os, manager_a, shelter_a, as_user):
    desk = as_user(manager_a)
    fields = confirmation(scan(desk, shelter_a, city_os.qr_code(YAMADA)))

    tap(desk, shelter_a, fields)
    tap(desk, shelter_a, fields)

    assert CheckIn.objects.count() == 1
    assert Stay.objects.count() == 3
    assert Evacuee.objects.filter(city_os_id__in=YAMADA_FAMILY).count() == 3
    shelter_a.refresh_from_db()
    assert shelter_a.occupancy == 3


def test_only_the_ticked_people_are_checked_in(city_os, manager_a, shelter_a, as_user):
    desk = as_user(manager_a)
    fields = confirmation(scan(desk, shelter_a, city_os.qr_code(YAMADA)))

    tap(desk, shelter_a, {**fields, "members": [YAMADA, CHILD]})

    assert set(Stay.objects.values_list("evacuee__city_os_id", flat=True)) == {YAMADA, CHILD}


def test_a_person_already_registered_is_updated_not_registered_again(city_os, manager_a, shelter_a, as_user):
    earlier = EvacueeFactory(city_os_id=YAMADA, name="山田 太朗", phone="0242-99-9999")
    desk = as_user(manager_a)

    tap(desk, shelter_a, confirmation(scan(desk, shelter_a, city_os.qr_code(YAMADA))))

    earlier.refresh_from_db()
    assert Evacuee.objects.filter(city_os_id=YAMADA).count() == 1
    assert earlier.name == "山田 太郎"
    assert earlier.phone == "0242-99-9999"  # contact data is the desk's own, not the City OS's
    assert Stay.objects.filter(evacuee=earlier, shelter=shelter_a, checked_out_at__isnull=True).exists()


def test_a_family_member_staying_elsewhere_is_left_out_without_saying_where(
    city_os, manager_a, shelter_a, shelter_b, hq, as_user
):
    spouse = EvacueeFactory(city_os_id=SPOUSE, name="山田 花子")
    services.stay_check_in(shelter_id=shelter_b.pk, evacuee_ids=[spouse.pk], actor=hq)
    desk = as_user(manager_a)

    response = tap(desk, shelter_a, confirmation(scan(desk, shelter_a, city_os.qr_code(YAMADA))))
    page = desk.get(response["Location"])

    assert set(Stay.objects.filter(shelter=shelter_a).values_list("evacuee__city_os_id", flat=True)) == {YAMADA, CHILD}
    html = page.content.decode()
    assert "1 人はすでに避難所で受付済みのため" in html and shelter_b.name not in html
    assert Stay.objects.filter(evacuee=spouse, shelter=shelter_b, checked_out_at__isnull=True).exists()


def test_the_scan_applies_the_residents_city_os_opt_in(city_os, manager_a, shelter_a, as_user):
    scan(as_user(manager_a), shelter_a, city_os.qr_code(YAMADA))

    record = ConsentRecord.objects.get(subject=f"cityos:{YAMADA}")
    assert record.method == Method.CITY_OS
    assert {(c["category"], c["recipient"], c["context"], c["decision"]) for c in record.changes} >= {
        ("basic", "shelter_staff", "disaster", "given"),
        ("household", "shelter_staff", "disaster", "given"),
    }


def test_a_resident_who_does_not_share_with_shelters_gets_the_walk_in_form(city_os, manager_a, shelter_a, as_user):
    page = scan(as_user(manager_a), shelter_a, city_os.qr_code(REFUSED))

    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="city-os-notice"' in html and 'id="city-os-form"' not in html
    assert "共有していません" in html  # "does not share their details with shelters" (Japanese first)
    assert '<details class="card" id="walk-in" open>' in html
    assert not Evacuee.objects.exists()
    assert AuditEntry.objects.get(action="desk.city_os_scan").details == {"outcome": "not_shared", "people": 0}


@pytest.mark.parametrize(
    "forge",
    [
        pytest.param(
            lambda sandbox: sandbox.qr_code(YAMADA, iat=int(time.time()) - 7200, exp=int(time.time()) - 3600),
            id="expired",
        ),
        pytest.param(
            lambda sandbox: ".".join(
                [
                    sandbox.qr_code(YAMADA).split(".")[0],
                    base64.urlsafe_b64encode(json.dumps({"sub": ELDERLY, "aud": "shelter"}).encode())
                    .rstrip(b"=")
                    .decode(),
                    sandbox.qr_code(YAMADA).split(".")[2],
                ]
            ),
            id="tampered",
        ),
        pytest.param(lambda sandbox: sandbox.qr_code(YAMADA, aud="another-service"), id="other-audience"),
    ],
)
def test_a_bad_qr_code_is_refused_with_a_clear_message(city_os, manager_a, shelter_a, as_user, forge):
    page = scan(as_user(manager_a), shelter_a, forge(city_os))

    html = page.content.decode()
    assert page.status_code == 200
    assert "確認できないか、期限が切れています" in html  # could not be verified or has expired
    assert 'id="city-os-form"' not in html and "check-in-form" not in html
    assert AuditEntry.objects.get(action="desk.city_os_scan").details == {"outcome": "bad_code", "people": 0}


def test_a_bare_id_is_searched_as_before(city_os, manager_a, shelter_a, as_user):
    person = EvacueeFactory(city_os_id=ELDERLY, name="鈴木 トメ")

    page = scan(as_user(manager_a), shelter_a, ELDERLY)

    html = page.content.decode()
    assert 'id="city-os' not in html
    assert f'value="{person.pk}"' in html
    assert not AuditEntry.objects.filter(action="desk.city_os_scan").exists()


def test_a_ticket_is_for_the_user_and_shelter_that_scanned(city_os, manager_a, shelter_a, hq, as_user):
    fields = confirmation(scan(as_user(manager_a), shelter_a, city_os.qr_code(YAMADA)))

    response = tap(as_user(hq), shelter_a, fields)

    assert response.status_code == 302
    assert not Stay.objects.exists()


def test_another_shelters_manager_cannot_scan_or_tap_here(city_os, manager_a, manager_b, shelter_a, as_user):
    fields = confirmation(scan(as_user(manager_a), shelter_a, city_os.qr_code(YAMADA)))

    assert scan(as_user(manager_b), shelter_a, city_os.qr_code(YAMADA)).status_code == 403
    assert tap(as_user(manager_b), shelter_a, fields).status_code == 403
    assert not Stay.objects.exists()


def test_a_city_os_out_of_reach_leaves_the_desk_working(city_os, settings, manager_a, shelter_a, as_user):
    payload = city_os.qr_code(YAMADA)
    settings.CITYOS_ISSUER = f"http://127.0.0.1:{free_port()}/o"
    client.forget_cached()

    page = scan(as_user(manager_a), shelter_a, payload)

    html = page.content.decode()
    assert page.status_code == 200
    assert "City OS に接続できません" in html
    assert '<details class="card" id="walk-in" open>' in html


def test_the_audit_trail_names_nobody(city_os, manager_a, shelter_a, as_user):
    desk = as_user(manager_a)
    tap(desk, shelter_a, confirmation(scan(desk, shelter_a, city_os.qr_code(YAMADA))))

    entries = json.dumps([e.details for e in AuditEntry.objects.all()], ensure_ascii=False)
    assert AuditEntry.objects.filter(action="evacuee.city_os_check_in").count() == 1
    for identifying in [*YAMADA_FAMILY, *YAMADA_FAMILY.values(), "追手町"]:
        assert identifying not in entries
