"""A manager opens the estate dashboard in a real browser, sees the charts drawn, and
drills into a team and then a person; and the same on a 375-px phone. Screenshots under
test-artifacts/."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from jiayuan.dashboard import history, rollups
from jiayuan.org.models import TeamMember

from .test_browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def months_of_history(personas):
    TeamMember.objects.get_or_create(team=personas.team_a, user=personas.technician_a)
    today = timezone.localdate()
    zone = timezone.get_default_timezone()
    start = datetime(today.year, today.month, 1, tzinfo=zone) - timedelta(days=92)
    plan = history.EstateHistory(
        company_id=personas.company.pk,
        estate_id=personas.estate_a.pk,
        households=[
            (personas.unit_a101.pk, personas.building_a1.pk, personas.resident_a101.pk, None),
            (personas.unit_a102.pk, personas.building_a1.pk, personas.resident_a102.pk, None),
        ],
        desk=[personas.clerk_a.pk],
        teams={personas.team_a.pk: [personas.technician_a.pk]},
    )
    history.generate(plan, start=start, days=90, per_day=6, seed=1)
    rollups.refresh(personas.company)
    return start


def test_manager_drills_from_estate_to_team_to_person(
    live_server, personas, months_of_history, desktop_page, phone_page, shoot
):
    period = f"{months_of_history + timedelta(days=40):%Y-%m}"
    page = desktop_page
    sign_in(page, live_server.url, "manager_a")
    page.goto(f"{live_server.url}/dashboard/estates/{personas.estate_a.pk}/?period={period}")
    expect(page.locator("h1")).to_contain_text(personas.estate_a.name)
    # ECharts drew every chart as SVG.
    charts = page.locator(".dash-chart")
    expect(charts.first.locator("svg")).to_be_visible()
    assert charts.count() >= 8
    for index in range(charts.count()):
        expect(charts.nth(index).locator("svg")).to_have_count(1)
    expect(page.locator(".dash-kpis")).to_contain_text("已解决")
    shoot(page, "dashboard-estate-desktop")

    page.get_by_role("link", name=personas.team_a.name, exact=True).click()
    page.wait_for_load_state()
    assert f"/dashboard/teams/{personas.team_a.pk}/" in page.url
    expect(page.locator("#chart-people")).to_be_visible()
    expect(page.locator(".dash-crumbs")).to_contain_text(personas.estate_a.name)
    shoot(page, "dashboard-team-desktop")

    page.get_by_role("link", name=personas.technician_a.name, exact=True).click()
    page.wait_for_load_state()
    expect(page.locator("h1")).to_contain_text(personas.technician_a.name)
    shoot(page, "dashboard-person-desktop")

    phone = phone_page
    sign_in(phone, live_server.url, "manager_a")
    phone.goto(f"{live_server.url}/dashboard/estates/{personas.estate_a.pk}/?period={period}")
    expect(phone.locator(".dash-chart").first.locator("svg")).to_be_visible()
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"the page is {width}px wide on a 375-px phone"
    shoot(phone, "dashboard-estate-phone")

    # Someone without a manager's role gets nothing.
    other = phone_page.context.browser.new_context(viewport={"width": 375, "height": 812})
    outsider_page = other.new_page()
    sign_in(outsider_page, live_server.url, "clerk_a")
    response = outsider_page.goto(f"{live_server.url}/dashboard/estates/{personas.estate_a.pk}/")
    assert response.status == 404
    other.close()
