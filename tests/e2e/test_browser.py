"""The foundation seen through a real browser: a manager on a desktop and an owner on a
375-px phone, in Chinese by default, with screenshots under test-artifacts/."""

import pytest
from playwright.sync_api import expect

from jiayuan.core.testing import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, login: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("input[name=username]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button.btn-primary").click()
    page.wait_for_load_state()


def sign_out(page) -> None:
    page.locator("details.usermenu > summary").click()
    page.locator("details.usermenu form button[type=submit]").click()
    page.wait_for_load_state()


def test_manager_switches_language_opens_a_building_and_signs_out(
    live_server, personas, desktop_page, shoot
):
    page = desktop_page
    sign_in(page, live_server.url, "manager_a")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.locator("details.usermenu > summary")).to_contain_text("刘经理")
    expect(page.locator(".topbar")).to_contain_text("阳光花园")
    expect(page.locator("#main-menu")).to_contain_text("楼栋")
    shoot(page, "manager-home-zh")

    # The switch submits itself on change (app.js); English stays after the next page.
    page.locator("#language-switch").select_option("en")
    page.wait_for_load_state()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.locator("#main-menu")).to_contain_text("Buildings")

    page.goto(f"{live_server.url}/org/buildings/")
    page.get_by_role("link", name=personas.building_a1.name, exact=True).first.click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/org/buildings/{personas.building_a1.pk}/")
    expect(page.locator("h1")).to_contain_text(personas.building_a1.name)
    main = page.locator("#main")
    expect(main).to_contain_text("101")
    expect(main).to_contain_text("102")
    # Another company's building never shows up, not even by name.
    expect(main).not_to_contain_text(personas.building_c1.estate.name)
    shoot(page, "manager-building-en")

    sign_out(page)
    page.goto(f"{live_server.url}/org/buildings/")
    assert "/accounts/login/" in page.url
    expect(page.locator("input[name=password]")).to_be_visible()


def test_owner_on_a_phone_sees_only_their_own_unit(live_server, personas, phone_page, shoot):
    page = phone_page
    sign_in(page, live_server.url, personas.owner_a101.mobile)
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")

    page.goto(f"{live_server.url}/org/my/units/")
    expect(page.locator("h1")).to_have_text("我的房屋")
    cards = page.locator("#main section.card")
    expect(cards).to_have_count(1)
    expect(cards.first).to_contain_text(personas.unit_a101.label)
    expect(cards.first).to_contain_text("阳光花园")
    expect(page.locator("#main")).not_to_contain_text(personas.unit_a102.label)
    # Nothing on a phone screen scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    shoot(page, "owner-my-units-phone")

    # The neighbour's unit answers like a missing one.
    response = page.goto(f"{live_server.url}/org/units/{personas.unit_a102.pk}/")
    assert response.status == 404
    shoot(page, "owner-neighbour-unit-404-phone")
