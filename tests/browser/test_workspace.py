"""An agent's day in a real browser: sign in, triage the queue, work a ticket, and see new work
arrive without reloading; in Persian the workspace reads right to left."""

import json
import re
import time

import httpx
import pytest
from django.utils import timezone

from tests.browser.conftest import log_in, screenshot
from tests.conftest import stripe_event, stripe_headers
from tests.factories import CustomerFactory, PaymentFactory, TicketFactory
from tickets.models import CannedResponse, Reason, Status, Ticket
from tickets.services import default_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def desk(make_agent):
    """The default team (webhook tickets land there), two agents on it and a few tickets."""
    team = default_team()
    alice = make_agent("alice", team, first_name="Alice", last_name="Lind")
    bob = make_agent("bob", team, first_name="Bob", last_name="Berg")
    dana = CustomerFactory(name="Dana Doe", email="dana@example.com")
    declined = TicketFactory(
        team=team,
        customer=dana,
        subject="Card declined for Dana",
        payments=[PaymentFactory(customer=dana, amount_minor=4_900, failure_code="expired_card")],
        due_at=timezone.now() + timezone.timedelta(hours=5),
    )
    dispute = TicketFactory(
        team=team, subject="Chargeback on order 1042", reason=Reason.DISPUTE, priority="urgent"
    )
    CannedResponse.objects.create(
        title="Expired card",
        body="Hi {customer_name}, your card has expired. {decline_reason} — {agent_name}",
    )
    return {"alice": alice, "bob": bob, "declined": declined, "dispute": dispute}


def test_an_agent_works_a_ticket_and_sees_new_work_arrive(desk, new_page, server):
    page = new_page()
    log_in(page, "alice")

    # The queue: both tickets; filtering by reason keeps the URL bookmarkable.
    page.get_by_role("link", name=re.compile("All open")).click()
    expect_rows(page, ["Card declined for Dana", "Chargeback on order 1042"])
    page.get_by_label("Reason").select_option("dispute")
    page.wait_for_url(re.compile(r"reason=dispute"))
    expect_rows(page, ["Chargeback on order 1042"])
    screenshot(page, "queue-filtered")
    page.goto(page.url)  # the bookmark gives the same list
    expect_rows(page, ["Chargeback on order 1042"])
    page.get_by_role("link", name=re.compile("All open")).click()
    expect_rows(page, ["Card declined for Dana", "Chargeback on order 1042"])
    screenshot(page, "queue")

    # The ticket: reply with a canned response, add a note, assign, set the status.
    page.get_by_role("link", name=re.compile("Card declined for Dana")).click()
    page.wait_for_url(f"**/desk/tickets/{desk['declined'].pk}/")
    page.get_by_text("Insert a canned response").click()
    page.get_by_label("Search canned responses").fill("expired")
    page.get_by_role("button", name="Expired card").click()
    reply = page.get_by_label("Reply to the customer")
    assert reply.input_value() == (
        "Hi Dana Doe, your card has expired. The card has expired. — Alice Lind"
    )
    page.get_by_role("button", name="Send reply").click()
    page.locator(".entry-agent_reply", has_text="your card has expired").wait_for()

    page.get_by_label("Internal note").fill("Asked for a new card; follow up tomorrow")
    page.get_by_role("button", name="Add note").click()
    page.locator(".entry-internal_note", has_text="follow up tomorrow").wait_for()

    page.keyboard.press("a")  # assign to me
    page.locator("[data-field=assignee]", has_text="Alice Lind").wait_for()
    page.get_by_label("Status").select_option("pending")
    page.get_by_role("button", name="Save").click()
    page.locator("[data-field=status]", has_text="Pending").wait_for()
    screenshot(page, "ticket")

    ticket = Ticket.objects.get(pk=desk["declined"].pk)
    assert (ticket.status, ticket.assignee) == (Status.PENDING, desk["alice"])
    assert page.js_errors == []

    # A webhook arrives while the agent looks at the open queue: the new ticket appears.
    page.get_by_role("link", name="Queue", exact=True).click()
    page.get_by_role("link", name=re.compile("All open")).click()
    expect_rows(page, ["Card declined for Dana", "Chargeback on order 1042"])
    page.locator("#live-status[data-state=online]").wait_for()
    page.evaluate("window.notReloaded = true")

    deliver_failed_payment(server.url)

    new_ticket = Ticket.objects.latest("pk")
    page.locator(f'tr[data-ticket-id="{new_ticket.pk}"]').wait_for()
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "queue-live")


def test_the_keyboard_moves_through_the_queue(desk, new_page):
    page = new_page()
    log_in(page, "alice")
    page.get_by_role("link", name=re.compile("All open")).click()
    page.locator(".ticket-row").first.wait_for()

    page.keyboard.press("j")
    page.keyboard.press("j")
    page.keyboard.press("k")
    selected = page.locator(".ticket-row.is-selected")
    assert selected.count() == 1
    ticket_id = selected.get_attribute("data-ticket-id")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/desk/tickets/{ticket_id}/")

    page.keyboard.press("?")
    assert page.get_by_role("dialog", name="Keyboard shortcuts").is_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("n")
    assert page.evaluate("document.activeElement.id") == "id_note_body"


def test_two_agents_on_the_same_ticket_see_each_other(desk, new_page):
    alice, bob = alice_and_bob_on(desk["declined"], new_page)

    alice.locator("#ticket-viewers", has_text="Bob Berg").wait_for()
    bob.locator("#ticket-viewers", has_text="Alice Lind").wait_for()

    bob.get_by_label("Reply to the customer").fill("Hello Dana")
    alice.locator("#ticket-viewers", has_text=re.compile("Bob Berg.*repl")).wait_for()
    screenshot(alice, "ticket-collision")

    bob.close()
    alice.locator("#ticket-viewers", has_text="Bob Berg").wait_for(state="detached")


def test_the_persian_workspace_reads_right_to_left(desk, new_page):
    page = new_page(locale="fa-IR")
    log_in(page, "alice")

    html = page.locator("html")
    assert html.get_attribute("lang") == "fa"
    assert html.get_attribute("dir") == "rtl"
    # A live refresh may be swapping the results in: measure once they are there.
    page.locator(".queue-table").wait_for()
    views = page.locator("#queue-views").bounding_box()
    table = page.locator(".queue-table").bounding_box()
    assert views["x"] > table["x"]  # the side menu is on the right
    screenshot(page, "queue-fa")

    page.goto(f"/desk/tickets/{desk['declined'].pk}/")
    screenshot(page, "ticket-fa")
    assert page.js_errors == []


def test_customer_text_never_runs_as_script(desk, new_page):
    evil = CustomerFactory(name="<img src=x onerror=window.pwned=1>", email="evil@example.com")
    ticket = TicketFactory(
        team=default_team(), customer=evil, subject="<script>window.pwned=2</script>"
    )
    page = new_page()
    log_in(page, "alice")
    page.get_by_role("link", name=re.compile("All open")).click()
    page.locator(f'tr[data-ticket-id="{ticket.pk}"]').wait_for()
    page.goto(f"/desk/tickets/{ticket.pk}/")
    page.get_by_text("<script>window.pwned=2</script>").first.wait_for()
    assert page.evaluate("window.pwned") is None


def alice_and_bob_on(ticket, new_page):
    """Alice and Bob, each in their own browser, signed in and on `ticket`'s page."""
    alice, bob = new_page(), new_page()
    for page, username in ((alice, "alice"), (bob, "bob")):
        log_in(page, username)
        page.goto(f"/desk/tickets/{ticket.pk}/")
    return alice, bob


def expect_rows(page, subjects: list[str], timeout_s: float = 10) -> None:
    """Wait until the queue shows exactly these tickets (by subject), in any order."""
    deadline = time.monotonic() + timeout_s
    while True:
        shown = page.locator(".ticket-row .cell-subject a").all_inner_texts()
        shown = sorted(re.sub(r"^#\d+\s*", "", text).strip() for text in shown)
        if shown == sorted(subjects) or time.monotonic() > deadline:
            break
        page.wait_for_timeout(100)
    assert shown == sorted(subjects)


def deliver_failed_payment(base_url: str) -> None:
    now = int(time.time())
    event = stripe_event(
        "payment_intent.payment_failed",
        event_id=f"evt_browser_{now}",
        created=now,
        id="pi_browser_live",
        receipt_email="live@example.com",
    )
    body = json.dumps(event).encode()
    signature = stripe_headers(body)["HTTP_STRIPE_SIGNATURE"]
    response = httpx.post(
        f"{base_url}/webhooks/stripe/",
        content=body,
        headers={"Stripe-Signature": signature, "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text


def test_after_a_dropped_connection_the_queue_catches_up_by_itself(desk, new_page):
    page = new_page()
    log_in(page, "alice")
    page.get_by_role("link", name=re.compile("All open")).click()
    page.locator("#live-status[data-state=online]").wait_for()
    page.evaluate("window.notReloaded = true")

    page.evaluate("window.paydeskLive.drop()")
    # Made while the socket is down (a factory announces nothing): only catching up shows it.
    missed = TicketFactory(team=default_team(), subject="Arrived while offline")

    page.locator("#live-status[data-state=online]").wait_for()
    page.locator(f'tr[data-ticket-id="{missed.pk}"]').wait_for()
    assert page.evaluate("window.notReloaded") is True


def test_a_reply_on_a_ticket_that_changed_is_held_back_until_sent_anyway(desk, new_page):
    alice, bob = alice_and_bob_on(desk["declined"], new_page)
    alice.locator("#ticket-viewers", has_text="Bob Berg").wait_for()

    alice.get_by_label("Reply to the customer").fill("Let me refund you")
    bob.get_by_label("Reply to the customer").fill("Refunded already")
    bob.get_by_role("button", name="Send reply").click()
    alice.locator(".entry-agent_reply", has_text="Refunded already").wait_for()  # live

    alice.get_by_role("button", name="Send reply").click()
    alice.get_by_text("Your reply was not sent").wait_for()
    assert alice.get_by_label("Reply to the customer").input_value() == "Let me refund you"
    alice.get_by_role("button", name="Send anyway").click()
    alice.locator(".entry-agent_reply", has_text="Let me refund you").wait_for()

    # A form error is shown where it belongs, too.
    alice.once("dialog", lambda dialog: dialog.accept())
    alice.get_by_label("Merge into ticket number").fill("99999")
    alice.get_by_role("button", name="Merge", exact=True).click()
    alice.locator(".field-error", has_text="no ticket with that number").wait_for()
    assert alice.js_errors == []
