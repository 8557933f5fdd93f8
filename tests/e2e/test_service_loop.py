"""The service desk's closed loop in a real browser: the owner reports a leak with a photo
on their phone, the desk accepts and dispatches it, the technician arrives and completes it
with materials on their phone, the owner sees the charge, confirms and rates, and the desk
records the return visit. Screenshots of each step go to test-artifacts/."""

import io

import pytest
from django.utils import translation
from PIL import Image
from playwright.sync_api import expect

from jiayuan.core.testing import PASSWORD
from jiayuan.servicedesk.models import DeskSettings, Kind, ReturnVisit, ServiceRequest, Status

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, base_url: str, login: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    page.locator("input[name=username]").fill(login)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("main form button.btn-primary").click()
    page.wait_for_load_state()


def open_panel(page, action: str):
    """A step's panel: a plain button form, or a <details> that opens its form."""
    panel = page.locator(f"#panel-{action}")
    is_details = panel.evaluate("element => element.tagName") == "DETAILS"
    if is_details and panel.get_attribute("open") is None:
        panel.locator("summary").first.click()
    return panel


def submit(panel, page) -> None:
    click_and_wait(page, panel.locator("button[type=submit]").last)


def click_and_wait(page, button) -> None:
    """Click a button that posts a form and wait for the page it leads to."""
    with page.expect_navigation():
        button.click()


def leak_photo(tmp_path):
    path = tmp_path / "leak.png"
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), (40, 110, 200)).save(buffer, format="PNG")
    path.write_bytes(buffer.getvalue())
    return path


def test_the_whole_loop_from_report_to_return_visit(
    live_server, personas, browser, shoot, tmp_path
):
    p = personas
    DeskSettings.objects.create(
        company=p.company, visit_policy={Kind.REPAIR: DeskSettings.VisitPolicy.ALWAYS}
    )
    phone = {"viewport": {"width": 375, "height": 812}, "locale": "zh-CN"}
    owner = browser.new_context(**phone).new_page()
    desk = browser.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN").new_page()
    tech = browser.new_context(**phone).new_page()

    # 1. The owner reports a leak with a photo.
    sign_in(owner, live_server.url, p.owner_a101.mobile)
    owner.goto(f"{live_server.url}/service/my/new/")
    owner.locator("select[name=category]").select_option("plumbing")
    owner.locator("select[name=place]").select_option(f"unit-{p.unit_a101.pk}")
    owner.locator("textarea[name=description]").fill("卫生间水管漏水，地面都湿了")
    owner.locator("input[type=file][name=photos]").set_input_files(str(leak_photo(tmp_path)))
    shoot(owner, "loop-1-owner-report")
    click_and_wait(owner, owner.locator("main form button[type=submit].btn-primary").last)
    request = ServiceRequest.objects.get(reporter_user=p.owner_a101)
    assert request.photos.count() == 1
    expect(owner.locator("main")).to_contain_text(request.number)
    expect(owner.locator("main img").first).to_be_visible()
    assert owner.evaluate("document.documentElement.scrollWidth") <= 375
    shoot(owner, "loop-2-owner-submitted")

    # 2. The desk accepts it and dispatches it to the technician.
    sign_in(desk, live_server.url, "clerk_a")
    desk.goto(f"{live_server.url}/service/requests/")
    expect(desk.locator("main")).to_contain_text(request.number)
    shoot(desk, "loop-3-desk-queue")
    desk.goto(f"{live_server.url}/service/requests/{request.pk}/")
    submit(open_panel(desk, "accept"), desk)
    panel = open_panel(desk, "dispatch")
    panel.locator("select[name$=assignee]").select_option(str(p.technician_a.pk))
    submit(panel, desk)
    request.refresh_from_db()
    assert (request.status, request.assignee) == (Status.DISPATCHED, p.technician_a)
    shoot(desk, "loop-4-desk-dispatched")

    # 3. The technician arrives and completes the work with materials.
    sign_in(tech, live_server.url, "tech_a")
    tech.goto(f"{live_server.url}/service/work/")
    expect(tech.locator("main")).to_contain_text(request.number)
    tech.goto(f"{live_server.url}/service/work/{request.pk}/")
    submit(open_panel(tech, "arrive"), tech)
    request.refresh_from_db()
    assert request.status == Status.IN_PROGRESS
    panel = open_panel(tech, "complete")
    panel.locator("textarea[name$=work_notes]").fill("更换三通接头，试水无渗漏")
    panel.locator("input[name$=is_paid]").check()
    panel.locator("input[name$=labour_fee]").fill("30")
    panel.locator("input[name$='materials-0-item']").fill("三通接头")
    panel.locator("input[name$='materials-0-unit_price']").fill("12.50")
    panel.locator("input[name$='materials-0-quantity']").fill("2")
    shoot(tech, "loop-5-tech-completing")
    # Close the on-screen keyboard first, as a phone user does: in headless Chromium the
    # first tap after typing into a number field only moves the focus.
    tech.evaluate("document.activeElement.blur()")
    click_and_wait(tech, panel.locator("button[type=submit].btn-primary"))
    request.refresh_from_db()
    assert request.status == Status.COMPLETED
    assert str(request.charge_total) == "55.00"
    assert tech.evaluate("document.documentElement.scrollWidth") <= 375

    # 4. The owner sees the charge, confirms and rates.
    owner.goto(f"{live_server.url}/service/my/{request.pk}/")
    expect(owner.locator("main")).to_contain_text("55.00")
    shoot(owner, "loop-6-owner-to-confirm")
    submit(open_panel(owner, "confirm"), owner)
    request.refresh_from_db()
    assert request.status == Status.CLOSED
    panel = open_panel(owner, "rate")
    five_stars = panel.locator("input[name$=overall][value='5']").get_attribute("id")
    panel.locator(f"label[for='{five_stars}']").click()
    panel.locator("textarea[name$=comment]").fill("师傅很专业")
    submit(panel, owner)
    assert request.rating.overall == 5
    shoot(owner, "loop-7-owner-rated")

    # 5. The desk records the return visit.
    desk.goto(f"{live_server.url}/service/visits/")
    expect(desk.locator("main")).to_contain_text(request.number)
    visit = ReturnVisit.objects.get(request=request)
    desk.goto(f"{live_server.url}/service/visits/{visit.pk}/")
    desk.locator("select[name=method]").select_option("phone")
    desk.locator("input[name=outcome][value=satisfied]").check()
    click_and_wait(desk, desk.locator("main form button[type=submit].btn-primary").last)
    visit.refresh_from_db()
    assert visit.outcome == ReturnVisit.Outcome.SATISFIED and visit.done_by == p.clerk_a
    desk.goto(f"{live_server.url}/service/requests/{request.pk}/")
    with translation.override("zh-hans"):
        closed = str(Status.CLOSED.label)
    expect(desk.locator("main .sd-status-closed").first).to_have_text(closed)
    shoot(desk, "loop-8-desk-closed")
