"""Browser tests: Debian's Chromium, driven by Playwright, against a real ASGI server.

Screenshots go to test-artifacts/ (kept by CI as artifacts). Chromium comes from Debian
(`make test` installs it when missing): Playwright's own download does not work offline. Without
it the tests fail, with a message that says how to install it.
"""

import importlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.contrib.auth.hashers import make_password

from tests.factories import AgentFactory

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def browser(django_db_setup, django_db_blocker) -> Iterator:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make tools` installs Debian's chromium")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop running in this thread, where Django then
    # refuses database calls; the tests' own ORM calls are synchronous and safe. Only for the
    # browser modules, and restored after them.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.fixture
def server(settings, request):
    """The ASGI server, with static files served from the source folders (no collectstatic)."""
    import helpdesk.asgi

    settings.WHITENOISE_USE_FINDERS = True
    # WhiteNoise reads its settings when the middleware is built: build the application again.
    importlib.reload(helpdesk.asgi)
    return request.getfixturevalue("asgi_live_server")


@pytest.fixture
def new_page(browser, server):
    """A function that opens a page in a fresh browser context (its own cookies)."""
    contexts = []

    def open_page(locale: str = "en-US"):
        context = browser.new_context(
            base_url=server.url, locale=locale, viewport={"width": 1400, "height": 1000}
        )
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda error: errors.append(error))
        page.js_errors = errors
        return page

    yield open_page
    for context in contexts:
        context.close()


def log_in(page, username: str) -> None:
    page.goto("/accounts/login/")
    # By name, not by label: the page may be in Greek or Persian.
    page.locator("input[name=login]").fill(username)
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").click()
    page.wait_for_url("**/desk/")


def screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


@pytest.fixture
def make_agent():
    def make(username: str, team, **fields):
        return AgentFactory(
            username=username, team=team, password=make_password(PASSWORD), **fields
        )

    return make
