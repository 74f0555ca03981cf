"""The bell in a real browser: a colleague assigns a ticket to an agent who has the queue open,
the agent's bell lights up without a reload, and the notice leads to the ticket. In Persian the
bell and the list read right to left."""

import re
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from notifications.models import Channel, Notification
from tests.browser.conftest import log_in, screenshot
from tests.factories import TicketFactory
from tickets.services import default_team, ticket_update

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(make_agent):
    team = default_team()
    return {
        "alice": make_agent("alice", team, first_name="Alice", last_name="Lind"),
        "bob": make_agent("bob", team, first_name="Bob", last_name="Berg"),
        "ticket": TicketFactory(team=team, subject="Card declined for Dana"),
        "team": team,
    }


def in_another_thread(function, *args, **kwargs):
    """Run a service outside the thread Playwright's event loop runs in, so that its live
    announcements are sent (see tests/asgi_server.py)."""

    def run():
        try:
            return function(*args, **kwargs)
        finally:
            connection.close()

    with ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(run).result()


def test_an_assignment_lights_the_bell_and_the_notice_leads_to_the_ticket(desk, new_page):
    alice = new_page()
    log_in(alice, "alice")
    alice.locator("#live-status[data-state=online]").wait_for()
    count = alice.locator("#notification-count")
    assert count.is_hidden()
    alice.evaluate("window.notReloaded = true")

    # Bob, in his own browser, assigns the ticket to Alice.
    bob = new_page()
    log_in(bob, "bob")
    bob.goto(f"/desk/tickets/{desk['ticket'].pk}/")
    bob.locator("#update-form").get_by_label("Assignee").select_option(label="Alice Lind")
    bob.locator("#update-form").get_by_role("button", name="Save").click()
    bob.locator("[data-field=assignee]", has_text="Alice Lind").wait_for()

    count.wait_for(state="visible")
    assert count.inner_text() == "1"
    assert alice.evaluate("window.notReloaded") is True
    assert alice.locator("#notification-bell").get_attribute("aria-label") == "Notifications (1)"
    assert_badge_sits_on_the_bell(alice)
    pk = desk["ticket"].pk
    alice.locator(f'tr[data-ticket-id="{pk}"]', has_text="Alice Lind").wait_for()  # live too
    screenshot(alice, "notifications-bell")

    alice.locator("#notification-bell").click()
    alice.wait_for_url("**/desk/notifications/")
    notice = alice.locator(".notification.unread")
    assert notice.count() == 1
    headline = f"Ticket #{desk['ticket'].pk} was assigned to you: Card declined for Dana"
    assert notice.get_by_role("link").inner_text() == headline
    screenshot(alice, "notifications-list")

    notice.get_by_role("link").click()
    alice.wait_for_url(f"**/desk/tickets/{desk['ticket'].pk}/")
    alice.get_by_role("heading", name=re.compile("Card declined for Dana")).first.wait_for()
    assert count.is_hidden()
    (read,) = Notification.objects.filter(user=desk["alice"], channel=Channel.IN_APP)
    assert read.read_at is not None
    assert alice.js_errors == []
    assert bob.js_errors == []


def test_mark_all_as_read_clears_the_bell_in_the_agents_other_tab(desk, new_page):
    in_another_thread(ticket_update, ticket=desk["ticket"], actor=desk["bob"],
                      assignee=desk["alice"])  # fmt: skip
    queue = new_page()
    log_in(queue, "alice")
    queue.locator("#live-status[data-state=online]").wait_for()
    assert queue.locator("#notification-count").inner_text() == "1"
    # The same session in a second tab.
    notices = queue.context.new_page()
    notices.goto("/desk/notifications/")

    notices.get_by_role("button", name="Mark all as read").click()
    notices.locator(".notification.unread").wait_for(state="detached")

    queue.locator("#notification-count").wait_for(state="hidden")
    assert notices.locator("#notification-count").is_hidden()


def test_a_notice_that_came_while_the_connection_was_down_shows_once_it_is_back(desk, new_page):
    page = new_page()
    log_in(page, "alice")
    page.locator("#live-status[data-state=online]").wait_for()
    page.context.set_offline(True)
    page.locator("#live-status[data-state=offline]").wait_for()

    in_another_thread(ticket_update, ticket=desk["ticket"], actor=desk["bob"],
                      assignee=desk["alice"])  # fmt: skip
    assert page.locator("#notification-count").is_hidden()  # nobody to hear it
    page.context.set_offline(False)

    page.locator("#live-status[data-state=online]").wait_for()
    page.locator("#notification-count").wait_for(state="visible")
    assert page.locator("#notification-count").inner_text() == "1"


def test_the_persian_bell_and_list_read_right_to_left(desk, new_page):
    other = TicketFactory(team=desk["team"], subject="Chargeback on order 1042")
    for ticket in (desk["ticket"], other):
        in_another_thread(ticket_update, ticket=ticket, actor=desk["bob"], assignee=desk["alice"])
    page = new_page(locale="fa-IR")
    log_in(page, "alice")

    html = page.locator("html")
    assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("fa", "rtl")
    bell = page.locator("#notification-bell").bounding_box()
    brand = page.locator(".brand").bounding_box()
    assert bell["x"] < brand["x"]  # the top bar's end is on the left
    assert page.locator("#notification-count").inner_text() == "2"
    assert_badge_sits_on_the_bell(page)

    page.locator("#notification-bell").click()
    page.wait_for_url("**/desk/notifications/")
    assert page.locator(".notification").count() == 2
    row = page.locator(".notification").first
    link, time = row.get_by_role("link").bounding_box(), row.locator("time").bounding_box()
    assert time["x"] < link["x"]  # the headline starts on the right, the time follows it
    screenshot(page, "notifications-list-fa")
    assert page.js_errors == []


def assert_badge_sits_on_the_bell(page) -> None:
    """The count overlaps the bell's corner, inside the top bar, on neither of its neighbours."""
    bell = page.locator("#notification-bell").bounding_box()
    badge = page.locator("#notification-count").bounding_box()
    topbar = page.locator(".topbar").bounding_box()
    assert badge["x"] < bell["x"] + bell["width"]
    assert bell["x"] < badge["x"] + badge["width"]
    assert badge["y"] >= topbar["y"]
    for neighbour in ("#chat-presence", ".user-name"):
        box = page.locator(neighbour).bounding_box()
        if box is None:  # hidden (the chat status shows once connected)
            continue
        overlaps = box["x"] < badge["x"] + badge["width"] and badge["x"] < box["x"] + box["width"]
        assert not overlaps, f"the count covers {neighbour}"
