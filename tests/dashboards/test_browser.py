"""The dashboard in a real browser: the charts are drawn, and drawn again when a filter changes
the figures. Saves test-artifacts/dashboard.png."""

import pytest

from tests.browser.conftest import PASSWORD, log_in, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

THE_WEEK = "/desk/dashboard/?period=custom&start=2026-11-10&end=2026-11-16"
CHARTS_DRAWN = """() => {
    const canvases = Array.from(document.querySelectorAll("canvas[data-chart]"));
    return canvases.filter((canvas) => window.Chart.getChart(canvas)).map((c) => c.dataset.chart);
}"""


@pytest.fixture
def admin(week):
    week.admin.set_password(PASSWORD)
    week.admin.save()
    return week.admin


def test_the_dashboard_draws_its_charts(admin, week, new_page):
    page = new_page()
    log_in(page, admin.username)

    page.goto(THE_WEEK)
    page.wait_for_function(f"({CHARTS_DRAWN})().length === 5")

    assert page.evaluate(CHARTS_DRAWN) == ["volume", "reasons", "channels", "declines", "agents"]
    opened = page.locator(".headline", has_text="Tickets opened").locator(".headline-value")
    assert opened.inner_text() == "5"
    screenshot(page, "dashboard")

    # A filter swaps the figures in through htmx; the charts are drawn again.
    page.locator("#id_team").select_option(label="Wallets")
    page.wait_for_url(f"**team={week.wallets.pk}**")
    page.locator(".headline", has_text="Tickets opened").locator(
        ".headline-value", has_text="1"
    ).wait_for()
    page.wait_for_function(f"({CHARTS_DRAWN})().length === 5")
    assert page.js_errors == []


def test_the_dashboard_reads_right_to_left_in_persian(admin, new_page):
    page = new_page(locale="fa-IR")
    log_in(page, admin.username)

    page.goto(THE_WEEK)
    page.wait_for_function(f"({CHARTS_DRAWN})().length === 5")

    assert page.locator("html").get_attribute("dir") == "rtl"
    screenshot(page, "dashboard-fa")
    assert page.js_errors == []
