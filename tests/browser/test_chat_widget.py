"""The customer's chat widget on the demo merchant's checkout, in a real browser: a failed
payment shows up in it live, it leaves the shop's page alone (and the page leaves it alone),
it fits a phone, reads right to left in Persian, talks to an agent, and never loses or doubles
a message when the connection drops.

The agent's side is a plain websocket client on /ws/chat/agent/, signed in as the agent.
"""

import base64
import json
import re
import time

import pytest
from django.http import HttpResponse
from django.urls import include, path
from websockets.sync.client import connect as websocket_connect

from chat.identity import identity_token_make
from chat.models import ChatMessage, Conversation, ConversationStatus, FaqArticle
from payments.models import Payment, PaymentStatus
from tests.browser.conftest import screenshot
from tests.conftest import session_cookie
from tickets.models import Reason, Ticket
from tickets.services import default_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ANA = "ana.souza@example.com"
WIDGET = "paydesk-chat"
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def checkout(settings):
    settings.DEMO_CHECKOUT = True
    settings.CHAT_IDENTITY_SECRET = "chat-secret-for-browser-tests"
    # STRIPE_WEBHOOK_SECRETS: tests/conftest.py sets the suite's secret for every test.


def open_checkout(page, query: str = ""):
    """The checkout with the widget connected; returns the widget's host element."""
    page.goto("/demo/checkout/" + query)
    widget = page.locator(WIDGET)
    page.locator(f"{WIDGET}[data-connection=online]").wait_for(state="attached")
    return widget


def open_widget(widget):
    widget.locator(".launcher").click()
    widget.locator(".panel").wait_for()


def write(widget, text: str) -> None:
    widget.locator("#message").fill(text)
    widget.locator("#message").press("Enter")


def stored_bodies(**filters) -> list[str]:
    return list(
        ChatMessage.objects.filter(sender="customer", **filters)
        .order_by("seq")
        .values_list("body", flat=True)
    )


def wait_until(predicate, timeout_s: float = 10):
    deadline = time.monotonic() + timeout_s
    while not (result := predicate()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)
    return result


def computed(locator, prop: str) -> str:
    return locator.evaluate(f"(el) => getComputedStyle(el).getPropertyValue('{prop}')")


# Payments ------------------------------------------------------------------------------------


def test_a_failed_payment_shows_in_the_widget_without_a_reload(checkout, new_page):
    page = new_page()
    widget = open_checkout(page)
    screenshot(page, "chat-widget-closed")
    page.evaluate("window.notReloaded = true")

    page.locator("#outcome").select_option("insufficient_funds")
    page.get_by_role("button", name=re.compile(r"^Pay ")).click()
    page.locator("#pay-result[data-state=bad]").wait_for()
    words = "Your payment of €79.90 did not go through: The card has insufficient funds."
    widget.locator(".teaser", has_text=words).wait_for()

    open_widget(widget)
    newest = widget.locator(".payment.newest")
    newest.filter(has_text=words).wait_for()
    assert "payment-failed" in newest.get_attribute("class")
    assert widget.locator(".alternatives li").all_inner_texts() == [
        "Another card",
        "PayPal",
        "Apple Pay",
        "Google Pay",
    ]
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "chat-widget-failed-payment")

    payment = Payment.objects.get(
        provider_payment_id=page.locator("#pay-result").get_attribute("data-payment")
    )
    assert (payment.status, payment.customer.email) == (PaymentStatus.FAILED, ANA)
    assert Ticket.objects.filter(payments=payment, reason=Reason.PAYMENT_FAILED).exists()
    assert page.js_errors == []


# The host page -------------------------------------------------------------------------------

HOSTILE_PAGE = """<!doctype html>
<html lang="fa" dir="rtl">
<head>
<style>
  * { color: rgb(255, 0, 0) !important; font-family: monospace !important; }
  button { background: rgb(0, 128, 0) !important; border-radius: 0 !important;
           padding: 30px !important; }
  paydesk-chat { top: 0 !important; left: 0 !important; bottom: auto !important;
                 transform: scale(0.5) !important; }
</style>
</head>
<body>
  <p id="host-text">The shop's own text</p>
  <button id="host-button" style="all: revert">Shop button</button>
  <script src="/static/chat/widget.js" data-token="%s" data-language="en" defer></script>
</body>
</html>"""


def merchant_page(request):
    return HttpResponse(HOSTILE_PAGE % identity_token_make(email=ANA, name="Ana Souza"))


# A merchant page with rude styles, served by the test server (whose origin may embed the widget).
urlpatterns = [path("merchant/", merchant_page), path("", include("helpdesk.urls"))]


def test_the_widget_and_the_page_keep_their_own_styles(checkout, new_page, settings):
    settings.ROOT_URLCONF = __name__
    page = new_page()
    page.goto("/merchant/")
    widget = page.locator(WIDGET)
    page.locator(f"{WIDGET}[data-connection=online]").wait_for(state="attached")

    # The page's rules do not reach into the widget…
    launcher = widget.locator(".launcher")
    assert computed(launcher, "background-color") == "rgb(29, 78, 216)"
    assert computed(launcher, "padding-top") == "0px"
    # …nor move it: it stays in its corner, at its size.
    box = launcher.bounding_box()
    viewport = page.viewport_size
    assert box["y"] > viewport["height"] - 120
    assert box["x"] > viewport["width"] - 120  # data-language="en" wins: the end is on the right
    assert box["width"] == 58
    open_widget(widget)
    title = widget.locator(".title")
    assert computed(title, "color") == "rgb(255, 255, 255)"
    assert "monospace" not in computed(title, "font-family")
    assert computed(widget.locator("#message"), "color") == "rgb(17, 24, 39)"

    # …and the widget's own rules stay inside it.
    host_button = page.locator("#host-button")
    assert computed(host_button, "border-radius") != "999px"
    assert computed(host_button, "background-color") != "rgb(29, 78, 216)"
    assert computed(page.locator("#host-text"), "color") == "rgb(255, 0, 0)"
    # Nothing added to the page's own document but the host element.
    assert page.evaluate("document.querySelectorAll('style, link').length") == 1

    # data-language wins over <html lang="fa">.
    root = widget.locator(".root")
    assert (root.get_attribute("lang"), root.get_attribute("dir")) == ("en", "ltr")
    assert page.js_errors == []


def test_on_a_phone_the_open_widget_takes_the_whole_screen(checkout, new_page):
    page = new_page()
    page.set_viewport_size(PHONE)
    widget = open_checkout(page)
    screenshot(page, "chat-widget-phone-closed")

    open_widget(widget)
    panel = widget.locator(".panel").bounding_box()
    assert (panel["x"], panel["y"], panel["width"], panel["height"]) == (0, 0, 390, 844)
    assert not widget.locator(".launcher").is_visible()
    composer = widget.locator("#message").bounding_box()
    assert composer["y"] + composer["height"] <= 844

    write(widget, "Hello from my phone 📱")
    widget.locator(".msg-customer .mark[data-state=sent]").wait_for()
    screenshot(page, "chat-widget-phone-open")

    widget.get_by_role("button", name="Minimise the chat").click()
    widget.locator(".launcher").wait_for()
    assert wait_until(lambda: stored_bodies() == ["Hello from my phone 📱"])
    assert page.js_errors == []


def test_the_persian_page_gets_a_right_to_left_widget(checkout, new_page):
    page = new_page(locale="fa-IR")
    widget = open_checkout(page)

    root = widget.locator(".root")
    assert (root.get_attribute("lang"), root.get_attribute("dir")) == ("fa", "rtl")
    launcher = widget.locator(".launcher").bounding_box()
    assert launcher["x"] < 100  # the end of a right-to-left line is on the left
    open_widget(widget)
    header = widget.locator(".header")
    avatar = header.locator(".avatar").bounding_box()
    title = header.locator(".title").bounding_box()
    assert avatar["x"] > title["x"]  # the header starts on the right
    write(widget, "سلام، پرداخت من انجام نشد")
    widget.locator(".msg-customer .mark[data-state=sent]").wait_for()
    bubble = widget.locator(".msg-customer .bubble").bounding_box()
    panel = widget.locator(".panel").bounding_box()
    assert bubble["x"] - panel["x"] < 60  # the customer's own messages sit on the left
    screenshot(page, "chat-widget-fa")
    assert page.js_errors == []


# Never lose a message ------------------------------------------------------------------------


def test_a_message_written_while_the_connection_is_down_is_delivered_exactly_once(
    checkout, new_page
):
    page = new_page()
    widget = open_checkout(page)
    open_widget(widget)
    write(widget, "First message")
    widget.locator(".msg-customer .mark[data-state=sent]").wait_for()
    conversation = Conversation.objects.get()

    # The network goes away and the socket with it; the customer writes anyway.
    page.context.set_offline(True)
    page.evaluate("window.PaydeskChat.reconnect()")
    page.locator(f"{WIDGET}[data-connection=reconnecting]").wait_for(state="attached")
    write(widget, "Written while offline")
    pending = widget.locator(".msg-pending", has_text="Written while offline")
    pending.wait_for()
    assert pending.locator(".mark").get_attribute("data-state") == "sending"
    saved = page.evaluate(
        "() => Object.keys(localStorage).filter((key) => key.includes(':outbox:'))"
        ".map((key) => localStorage.getItem(key))"
    )
    assert "Written while offline" in "".join(saved)  # kept across a reload too
    page.wait_for_timeout(1500)
    assert stored_bodies() == ["First message"]

    # Back online: the widget reconnects by itself and sends it.
    page.context.set_offline(False)
    page.locator(f"{WIDGET}[data-connection=online]").wait_for(state="attached")
    widget.locator(".msg-customer", has_text="Written while offline").locator(
        ".mark[data-state=sent]"
    ).wait_for()
    assert wait_until(lambda: stored_bodies() == ["First message", "Written while offline"])

    # Sent, then the connection drops before the acknowledgement comes back: the widget sends
    # it again with the same id after reconnecting, and it is stored once, shown once.
    page.evaluate(
        """() => {
            const widget = document.querySelector("paydesk-chat").shadowRoot;
            const box = widget.querySelector("#message");
            box.value = "Sent just before the drop";
            box.closest("form").requestSubmit();
            window.PaydeskChat.reconnect();
        }"""
    )
    page.locator(f"{WIDGET}[data-connection=online]").wait_for(state="attached")
    widget.locator(".msg-customer", has_text="Sent just before the drop").locator(
        ".mark[data-state=sent]"
    ).wait_for()
    page.wait_for_timeout(500)
    assert stored_bodies(conversation=conversation) == [
        "First message",
        "Written while offline",
        "Sent just before the drop",
    ]
    assert widget.locator(".msg-customer").count() == 3
    assert not page.evaluate(
        "() => Object.keys(localStorage).some((key) => key.includes(':outbox:'))"
    )
    assert page.js_errors == []


def test_a_visitor_without_a_token_gives_an_email_and_a_reload_continues_the_chat(
    checkout, new_page, settings
):
    settings.CHAT_IDENTITY_SECRET = ""  # the shop cannot vouch: the widget asks who it is
    page = new_page()
    page.goto("/demo/checkout/")
    widget = page.locator(WIDGET)
    open_widget(widget)
    widget.get_by_label("Email").fill("visitor@example.com")
    widget.get_by_label("Name (optional)").fill("Vera Visitor")
    widget.get_by_role("button", name="Start chatting").click()
    page.locator(f"{WIDGET}[data-connection=online]").wait_for(state="attached")
    write(widget, "Do you ship to Crete? 🇬🇷")
    widget.locator(".msg-customer .mark[data-state=sent]").wait_for()
    conversation = Conversation.objects.get()
    assert (conversation.verified, conversation.customer.email) == (False, "visitor@example.com")

    page.reload()
    widget.locator(".msg-customer", has_text="Do you ship to Crete? 🇬🇷").wait_for()
    page.locator(f"{WIDGET}[data-connection=online]").wait_for(state="attached")
    write(widget, "And to Cyprus?")
    widget.locator(".msg-customer", has_text="And to Cyprus?").locator(
        ".mark[data-state=sent]"
    ).wait_for()
    assert stored_bodies(conversation=conversation) == [
        "Do you ship to Crete? 🇬🇷",
        "And to Cyprus?",
    ]
    assert Conversation.objects.count() == 1
    assert page.js_errors == []


# With an agent -------------------------------------------------------------------------------


class AgentSocket:
    """The agent's side of the chat, as the agents' inbox would speak it."""

    def __init__(self, socket):
        self.socket = socket
        self.receive(type="hello")

    def send(self, **message) -> None:
        self.socket.send(json.dumps(message))

    def receive(self, timeout_s: float = 10, **expected) -> dict:
        """The next message with these items, skipping the others."""
        deadline = time.monotonic() + timeout_s
        while True:
            message = json.loads(self.socket.recv(timeout=max(0.01, deadline - time.monotonic())))
            if expected.items() <= message.items():
                return message

    def receive_message(self, sender: str, body: str) -> dict:
        while True:
            message = self.receive(type="message")["message"]
            if (message["sender"], message["body"]) == (sender, body):
                return message


@pytest.fixture
def agent(server, make_agent):
    sam = make_agent("sam", default_team(), first_name="Sam", last_name="Rivera")
    with websocket_connect(
        server.ws_url + "/ws/chat/agent/",
        origin=server.url,
        additional_headers={"Cookie": session_cookie(sam)},
    ) as socket:
        yield AgentSocket(socket)


def test_an_automatic_answer_then_a_person_with_typing_receipts_and_a_rating(
    checkout, new_page, agent
):
    FaqArticle.objects.create(
        language="en",
        title="Why was my card declined?",
        body="Most declines come from your bank. Try another card or PayPal.",
        keywords="declined decline refused",
    )
    page = new_page()
    widget = open_checkout(page)
    open_widget(widget)

    # The first question gets an article at once, and a way to a person.
    write(widget, "Why was my card declined?")
    answer = widget.locator(".msg-bot")
    answer.locator(".article", has_text="Most declines come from your bank.").wait_for()
    assert answer.locator(".who").inner_text() == "Automatic answer"
    answer.get_by_role("button", name="Talk to a person").click()
    conversation_id = agent.receive(type="inbox")["conversation"]
    widget.locator(".msg-system", has_text="We are finding an agent").wait_for()
    # The button goes once the conversation's new status arrives (just after that message).
    answer.get_by_role("button", name="Talk to a person").wait_for(state="hidden")

    # The agent opens it and starts typing; the customer sees who is typing.
    agent.send(type="open", conversation=conversation_id, after=0)
    agent.send(type="typing", conversation=conversation_id, state=True)
    widget.locator(".typing", has_text="Sam Rivera is typing…").wait_for()
    agent.send(
        type="message", conversation=conversation_id, client_id="a-1", body="Hi Ana! Ελέγχω 👀"
    )
    reply = widget.locator(".msg-agent", has_text="Hi Ana! Ελέγχω 👀")
    reply.wait_for()
    assert reply.locator(".avatar").inner_text() == "SR"
    assert reply.locator(".who").inner_text() == "Sam Rivera"
    widget.locator(".title", has_text="Sam Rivera").wait_for()
    assert not widget.locator(".typing").is_visible()

    # The open widget tells the agent the reply was read.
    last = Conversation.objects.get(pk=conversation_id).last_seq
    agent.receive(type="receipt", side="customer", read=last)

    # The customer types; the agent sees it, then reads the customer's message.
    widget.locator("#message").fill("Thank")
    agent.receive(type="typing", side="customer", state=True)
    write(widget, "Thank you! <b>not bold</b>")
    own = widget.locator(".msg-customer", has_text="Thank you! <b>not bold</b>")
    own.locator(".mark[data-state=sent]").wait_for()
    seq = agent.receive_message("customer", "Thank you! <b>not bold</b>")["seq"]
    agent.send(type="receipt", conversation=conversation_id, delivered=seq, read=seq)
    own.locator(".mark[data-state=read]").wait_for()
    assert widget.locator(".msg-customer .mark[data-state=read]").count() == 2
    assert own.locator("b").count() == 0  # text stays text

    # The agent ends the chat; the customer rates it and asks for the transcript.
    agent.send(type="close", conversation=conversation_id)
    after = widget.locator(".after")
    after.wait_for()
    assert not widget.locator("#message").is_visible()
    after.get_by_role("button", name="4 out of 5").click()
    after.get_by_label("Anything you would like to add? (optional)").fill("Quick and kind")
    after.get_by_role("button", name="Send rating").click()
    after.get_by_text("Thank you for your feedback.").wait_for()
    after.get_by_role("button", name="Email me the transcript").click()
    after.get_by_text(f"We sent the transcript to {ANA}.").wait_for()
    screenshot(page, "chat-widget-rated")

    conversation = Conversation.objects.get(pk=conversation_id)
    assert conversation.status == ConversationStatus.CLOSED
    assert (conversation.rating, conversation.rating_comment) == (4, "Quick and kind")
    assert page.js_errors == []


def test_with_nobody_online_the_customer_is_told_the_answer_comes_by_email(checkout, new_page):
    page = new_page()
    widget = open_checkout(page)
    open_widget(widget)

    notice = widget.locator(".notice")
    assert notice.inner_text() == (
        f"Nobody is online right now. Leave a message and we will answer by email at {ANA}."
    )
    assert widget.locator(".subtitle").inner_text() == "Nobody is online right now"
    write(widget, "Hello?")
    widget.locator(".msg-system", has_text="will answer by email").wait_for()
    assert Conversation.objects.get().status == ConversationStatus.OFFLINE


def test_a_card_number_is_hidden_and_the_customer_told_why(checkout, new_page):
    page = new_page()
    widget = open_checkout(page)
    open_widget(widget)

    write(widget, "My card is 4242 4242 4242 4242, please check")
    own = widget.locator(".msg-customer")
    own.locator(".card-notice", has_text="We hid your card number").wait_for()
    assert "4242 4242 4242 4242" not in own.locator(".body").inner_text()
    assert "4242 4242 4242 4242" not in "".join(stored_bodies())
    saved = page.evaluate("() => JSON.stringify(localStorage)")
    assert "4242 4242 4242 4242" not in saved


# Attachments ---------------------------------------------------------------------------------

PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAABAAAAAQCAIAAACQkWg2AAAAF0lEQVR42mP8z8BQz0AEYBxVSF+FABJADq3/"
    "RVjUAAAAAElFTkSuQmCC"
)
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def attach(page, widget, name: str, mime_type: str, content: bytes) -> None:
    with page.expect_file_chooser() as chooser:
        widget.get_by_role("button", name="Attach an image or PDF").click()
    chooser.value.set_files(files=[{"name": name, "mimeType": mime_type, "buffer": content}])


def test_a_customer_sends_an_image_and_a_pdf(checkout, new_page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = new_page()
    widget = open_checkout(page)
    open_widget(widget)
    # A file belongs to a conversation: there is none before the first message.
    assert widget.get_by_role("button", name="Attach an image or PDF").is_disabled()
    write(widget, "Here is what my bank sent")
    widget.locator(".msg-customer .mark[data-state=sent]").wait_for()

    attach(page, widget, "bank-letter.png", "image/png", PNG)
    image = widget.locator(".msg-customer .attachment-image img")
    image.wait_for()
    page.wait_for_function(
        "() => document.querySelector('paydesk-chat').shadowRoot"
        ".querySelector('.attachment-image img').naturalWidth === 16"
    )
    assert image.get_attribute("alt") == "bank-letter.png"

    attach(page, widget, "statement.pdf", "application/pdf", PDF)
    pdf = page.locator("a.attachment-file", has_text="statement.pdf")
    message = widget.locator(".msg-customer", has=pdf)
    message.locator(".mark[data-state=sent]").wait_for()
    assert "/chat/attachments/" in message.locator("a.attachment-file").get_attribute("href")

    stored = ChatMessage.objects.filter(sender="customer", attachment__isnull=False)
    assert sorted(stored.values_list("attachment__name", flat=True)) == [
        "bank-letter.png",
        "statement.pdf",
    ]

    # What Paydesk does not take is refused with the reason, and nothing is sent.
    attach(page, widget, "notes.txt", "text/plain", b"just text")
    widget.locator(".composer-error", has_text="Only images and PDF files").wait_for()
    attach(page, widget, "fake.png", "image/png", b"not really an image")
    widget.locator(".composer-error", has_text="fake.png could not be sent: Only images").wait_for()
    assert stored.count() == 2
    screenshot(page, "chat-widget-attachments")
    assert page.js_errors == []
