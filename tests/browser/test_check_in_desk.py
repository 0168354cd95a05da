import pytest
from playwright.sync_api import expect

from shelters.models import Stay
from tests.factories import EvacueeFactory, HouseholdFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_manager_finds_a_family_checks_it_in_and_sees_the_occupancy_change(
    page, live_server, log_in, manager_a, shelter_a
):
    household = HouseholdFactory(members=0)
    for given in ["イチロウ", "ハナコ", "ジロウ"]:
        EvacueeFactory(household=household, name=f"猪苗代 {given}", name_kana=f"イナワシロ {given}")
    household.members.filter(name="猪苗代 イチロウ").update(phone="0242-33-4455")
    EvacueeFactory(name="別人 サブロウ", name_kana="ベツジン サブロウ")

    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/shelters/{shelter_a.pk}/desk/")
    expect(page.locator("[data-field=occupancy]").first).to_have_text("0")

    # They stay nowhere yet: found by the exact phone number, which brings the household along.
    page.fill("#q", "0242-33-4455")
    page.keyboard.press("Enter")
    expect(page.locator(".person")).to_have_count(3)
    page.click(".select-household")
    page.click("#check-in-button")

    expect(page.locator(".message.success")).to_contain_text("3")
    expect(page.locator("[data-field=occupancy]").first).to_have_text("3")
    assert Stay.objects.filter(shelter=shelter_a, checked_out_at__isnull=True).count() == 3


def test_a_walk_in_family_is_registered_and_checked_in_with_one_submit(
    page, live_server, log_in, manager_a, shelter_a, support_categories
):
    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/shelters/{shelter_a.pk}/desk/")

    page.click("#walk-in summary")
    page.fill("input[name=address]", "会津若松市追手町1-1")
    page.fill("input[name=member-0-name]", "磐梯 太郎")
    page.click("#add-member")
    page.fill("input[name=member-1-name]", "磐梯 桜")
    page.check("input[name=member-1-support_needs][value=infant]")
    page.click("#walk-in-form button[type=submit]")

    expect(page.locator(".message.success")).to_contain_text("2")
    expect(page.locator("[data-field=occupancy]").first).to_have_text("2")
