"""The whole path in a browser: a resident refused their name to shelter staff, so the manager's
pages say why it is missing; HQ declares a disaster and a roster release on its pages; the manager
then sees the name. With SCREENSHOTS_DIR set, each page is saved at 1024x768 and 390x844 (tests/browser/shots.py)."""

import pytest
from playwright.sync_api import expect

from access.models import PersonalDataAccess
from consent.models import LegalRelease
from tests.browser.shots import shoot
from tests.consent import helpers

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_refused_name_is_withheld_until_hq_declares_a_roster_release(
    page, browser, live_server, log_in, manager_a, hq, shelter_a, support_categories
):
    person = helpers.resident(shelter_a)
    helpers.resident(shelter_a, name="会津 花子", kana="アイヅ ハナコ", phone="0242-10-2030", on_roster=False)
    helpers.refuse_everything(person, ["shelter_staff"], categories=["basic"])

    log_in(page, "manager_a")
    page.goto(f"{live_server.url}/shelters/{shelter_a.pk}/residents/")
    marker = page.locator(".residents .withheld-basic")
    expect(marker).to_have_text("氏名非表示（本人が提供を拒否）")
    assert "ご本人がこの情報の提供を拒否しています" in marker.get_attribute("title")
    expect(page.locator(".residents")).not_to_contain_text(helpers.SECRET_NAME)
    shoot(page, "residents-withheld")

    page.goto(f"{live_server.url}/dashboard/shelters/{shelter_a.pk}/")
    expect(page.locator("#support-list .withheld-basic")).to_have_text("氏名非表示（本人が提供を拒否）")
    expect(page.locator("#support-list")).not_to_contain_text(helpers.SECRET_NAME)
    shoot(page, "dashboard-withheld")

    hq_context = browser.new_context(viewport={"width": 1024, "height": 768}, locale="ja-JP")
    hq_page = hq_context.new_page()
    log_in(hq_page, "hq")
    hq_page.click("nav >> text=災害")
    hq_page.fill("input[name=name]", "令和8年 会津豪雨")
    hq_page.click("#disaster-declare button[type=submit]")
    expect(hq_page.locator("#disaster-table")).to_contain_text("令和8年 会津豪雨")
    shoot(hq_page, "hq-disasters")

    hq_page.goto(f"{live_server.url}/hq/releases/")
    expect(hq_page.locator("#release-rules")).to_contain_text("災害対策基本法 第49条の11第3項")
    hq_page.check("input[name=rule][value=roster_disaster_release]")
    hq_page.check("input[name=categories][value=basic]")
    hq_page.check("input[name=recipients][value=shelter_staff]")
    hq_page.check("input[name=scope][value=roster]")
    hq_page.fill("input[name=hours]", "48")
    hq_page.fill("textarea[name=reason]", "避難行動要支援者の安否確認のため")
    hq_page.click("#release-declare button[type=submit]")
    expect(hq_page.locator("#releases-active")).to_contain_text("災害対策基本法 第49条の11第3項")
    shoot(hq_page, "hq-releases")
    release = LegalRelease.objects.get()

    page.goto(f"{live_server.url}/shelters/{shelter_a.pk}/residents/")
    expect(page.locator(".residents")).to_contain_text(helpers.SECRET_NAME)
    assert PersonalDataAccess.objects.filter(evacuee=person, release=release).exists()

    hq_page.goto(f"{live_server.url}/hq/releases/")
    hq_page.click("#releases-active button[type=submit]")
    expect(hq_page.locator("#releases-ended")).to_contain_text("取消済み")
    shoot(hq_page, "hq-releases-revoked")
    page.goto(f"{live_server.url}/shelters/{shelter_a.pk}/residents/")
    expect(page.locator(".residents .withheld-basic")).to_have_text("氏名非表示（本人が提供を拒否）")
    hq_context.close()
