"""Live chat from the agents' side, in a real browser: customers write from their widget (a real
websocket client driven by the test), the waiting chats appear in the inbox, an agent answers
several at once beside each one's ticket and payment, a colleague sees who has which chat, and
an agent goes offline when their last tab closes."""

import json
import re
import struct
import zlib
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from websockets.sync.client import connect

from chat.identity import identity_token_make
from chat.models import ChatMessage, Conversation, ConversationStatus, Sender
from chat.presence import agent_status
from tests.browser.conftest import log_in, screenshot
from tests.conftest import wait_until
from tests.factories import CustomerFactory, PaymentFactory, TicketFactory
from tickets.models import CannedResponse
from tickets.services import default_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


class Widget:
    """A customer's chat widget: the customer socket, spoken to and heard from by the test."""

    def __init__(self, socket, token: str = "") -> None:
        self.socket = socket
        self.token = token
        self.heard: list[dict[str, Any]] = []

    def send(self, **message: Any) -> None:
        self.socket.send(json.dumps(message))

    def hear(self, kind: str, where=lambda message: True, **items: Any) -> dict[str, Any]:
        """The first message of this kind, with these items and for which `where` holds, heard
        so far or from now on."""

        def matches(message: dict[str, Any]) -> bool:
            return (
                message.get("type") == kind and items.items() <= message.items() and where(message)
            )

        for message in self.heard:
            if matches(message):
                return message
        while True:
            message = json.loads(self.socket.recv(timeout=10))
            self.heard.append(message)
            if matches(message):
                return message

    def hear_from_agent(self, body: str) -> dict[str, Any]:
        return self.hear(
            "message",
            lambda heard: (
                heard["message"]["sender"] == Sender.AGENT and heard["message"]["body"] == body
            ),
        )["message"]

    def say(self, client_id: str, body: str) -> dict[str, Any]:
        self.send(type="message", client_id=client_id, body=body)
        return self.hear("ack", client_id=client_id)


@pytest.fixture
def widget(server, settings):
    """widget(email, name, verified=True): a customer's widget that said hello."""
    settings.CHAT_IDENTITY_SECRET = "chat-secret-for-browser-tests"
    with ExitStack() as stack:

        def open_widget(email: str, name: str, *, verified: bool = True) -> Widget:
            socket = stack.enter_context(
                connect(server.ws_url + "/ws/chat/", origin=server.url, open_timeout=10)
            )
            chat = Widget(socket, identity_token_make(email=email, name=name) if verified else "")
            if verified:
                chat.send(type="hello", token=chat.token)
            else:
                chat.send(type="hello", email=email, name=name)
            chat.hear("welcome")
            return chat

        yield open_widget


@pytest.fixture
def desk(make_agent):
    """Two agents of the team chats go to, and a customer with a failed payment's ticket."""
    team = default_team()
    sam = make_agent("sam", team, first_name="Sam", last_name="Rivera")
    noor = make_agent("noor", team, first_name="Noor", last_name="Haddad")
    ana = CustomerFactory(name="Ana Lopez", email="ana@example.com")
    ticket = TicketFactory(
        team=team,
        customer=ana,
        subject="Card declined for Ana",
        payments=[PaymentFactory(customer=ana, amount_minor=4_900, failure_code="expired_card")],
    )
    CannedResponse.objects.create(
        title="Expired card", body="Hi {customer_name}, your card has expired. — {agent_name}"
    )
    return {"sam": sam, "noor": noor, "ticket": ticket}


def open_inbox(page, username: str) -> None:
    log_in(page, username)
    page.get_by_role("link", name=re.compile("Chats")).click()
    page.wait_for_url("**/desk/chats/")
    page.locator("#chat-presence[data-state=online]").wait_for()


def panel_of(page, conversation: Conversation):
    return page.locator(f"#chat-panel-{conversation.pk}")


def test_an_agent_answers_two_chats_beside_their_tickets_and_a_colleague_sees_who_has_them(
    desk, widget, new_page
):
    sam = new_page()
    open_inbox(sam, "sam")
    wait_until(lambda: agent_status(desk["sam"]) == "online", timeout=10)

    # A customer writes: their chat waits in the inbox, which updates by itself.
    ana = widget("ana@example.com", "Ana Lopez")
    first = ana.say("a-1", "My card was declined, can someone help?")
    chat = Conversation.objects.get(pk=first["conversation"])
    assert (chat.status, chat.ticket) == (ConversationStatus.WAITING, desk["ticket"])
    row = sam.locator(".chat-row", has_text="Ana Lopez")
    row.wait_for()
    assert "Verified" in row.inner_text()
    assert "can someone help" in row.inner_text()
    sam.locator("#chat-waiting-count", has_text="1").wait_for()

    # Opened: the messages, and beside them the ticket with the failed payment.
    row.get_by_role("link").click()
    panel = panel_of(sam, chat)
    panel.locator(".chat-msg-customer", has_text="My card was declined").wait_for()
    ticket_side = panel.locator(".chat-ticket")
    assert "$49.00" in ticket_side.inner_text()
    assert "The card has expired." in ticket_side.inner_text()
    assert (
        ticket_side.get_by_role("link", name="Open the full ticket").get_attribute("href")
        == f"/desk/tickets/{desk['ticket'].pk}/"
    )
    conversation_box = panel.locator(".chat-conversation").bounding_box()
    side_box = ticket_side.bounding_box()
    assert side_box["x"] >= conversation_box["x"] + conversation_box["width"]  # beside it
    assert side_box["y"] < conversation_box["y"] + conversation_box["height"]

    panel.get_by_role("button", name="Accept").click()
    panel.locator("[data-field=assignee]", has_text="You have this chat.").wait_for()
    assert panel.get_by_role("button", name="Accept").is_hidden()
    wait_until(lambda: Conversation.objects.get(pk=chat.pk).assignee == desk["sam"], timeout=10)

    # A canned response, filled in for this customer, then Enter sends.
    panel.get_by_text("Canned response", exact=True).click()
    panel.get_by_label("Search canned responses").fill("expired")
    panel.get_by_role("button", name="Expired card").click()
    composer = panel.get_by_label("Message to Ana Lopez")
    assert composer.input_value() == "Hi Ana Lopez, your card has expired. — Sam Rivera"
    composer.press("Enter")
    ana.hear_from_agent("Hi Ana Lopez, your card has expired. — Sam Rivera")
    assert composer.input_value() == ""

    # Shift+Enter is a new line; any script and emoji go through as typed. The customer sees
    # the agent typing.
    composer.type("Could you try another card?")
    ana.hear("typing", side="agent", name="Sam Rivera", state=True)
    composer.press("Shift+Enter")
    composer.type("Ευχαριστώ — ممنون 🙏")
    composer.press("Enter")
    answer = ana.hear_from_agent("Could you try another card?\nΕυχαριστώ — ممنون 🙏")
    assert answer["agent"]["name"] == "Sam Rivera"
    mine = panel.locator(f'.chat-msg-agent[data-seq="{answer["seq"]}"]')
    mine.locator(".chat-msg-body", has_text="ممنون").wait_for()
    assert mine.locator(".chat-avatar").inner_text() == "SR"

    # The customer types, then reads: the agent sees both.
    ana.send(type="typing", state=True)
    panel.locator(".chat-typing", has_text="Ana Lopez is typing…").wait_for()
    ana.send(type="receipt", delivered=answer["seq"], read=answer["seq"])
    mine.locator('.chat-msg-mark[data-state="read"]', has_text="Read").wait_for()
    ana.say("a-2", "<b>Done</b>, it worked!")
    panel.locator(
        ".chat-msg-customer .chat-msg-body", has_text="<b>Done</b>, it worked!"
    ).wait_for()
    assert panel.locator(".chat-msg-customer b").count() == 0  # text, never markup
    # The agent's side read it, since the panel is in view.
    last = ChatMessage.objects.filter(conversation=chat).order_by("-seq").first().seq
    wait_until(lambda: Conversation.objects.get(pk=chat.pk).agent_read_seq >= last, timeout=10)

    # A second customer, not verified, in Persian: two chats open at once.
    farid = widget("farid@example.com", "Farid Rahimi", verified=False)
    second_chat = Conversation.objects.get(
        pk=farid.say("f-1", "سلام، پرداخت من انجام نشد")["conversation"]
    )
    second_row = sam.locator(".chat-row", has_text="Farid Rahimi")
    second_row.wait_for()
    assert "Email not verified" in second_row.inner_text()
    second_row.get_by_role("link").click()
    second = panel_of(sam, second_chat)
    second.locator(".chat-msg-customer", has_text="پرداخت من").wait_for()
    assert panel.is_visible()
    assert second.is_visible()
    assert second.bounding_box()["x"] > panel.bounding_box()["x"]
    screenshot(sam, "chat-inbox-two-chats")

    # A colleague, in Persian: Sam is online and has Ana's chat; Farid's waits for anyone.
    noor = new_page(locale="fa-IR")
    log_in(noor, "noor")
    noor.goto("/desk/chats/?tab=all")
    noor.locator("#chat-presence[data-state=online]").wait_for()
    noor.locator(f'.chat-agents [data-agent="{desk["sam"].pk}"][data-status="online"]').wait_for()
    noor.locator(f'[data-open-conversation="{chat.pk}"]').click()
    noor.locator(f'[data-open-conversation="{second_chat.pk}"]').click()
    theirs = panel_of(noor, chat)
    theirs.locator(".chat-msg-agent", has_text="ممنون").wait_for()
    assert "Sam Rivera" in theirs.locator("[data-field=assignee]").inner_text()
    assert theirs.locator("[data-action=accept]").is_hidden()
    assert theirs.locator("button[data-action=send]").is_disabled()
    waiting = panel_of(noor, second_chat)
    waiting.locator(".chat-msg-customer").wait_for()
    assert waiting.locator("[data-action=accept]").is_visible()
    assert noor.locator("html").get_attribute("dir") == "rtl"
    screenshot(noor, "chat-inbox-fa")

    # Sam hands Farid's chat to Noor; then closes Ana's.
    second.locator(".chat-transfer summary").click()
    second.get_by_label("Transfer to").select_option(f"agent:{desk['noor'].pk}")
    second.locator("form[data-action=transfer] button").click()
    second.locator("[data-field=assignee]", has_text="With Noor Haddad").wait_for()
    waiting.locator("[data-action=accept]").wait_for(state="hidden")
    assert waiting.locator("button[data-action=send]").is_enabled()
    sam.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Close chat").click()
    panel.locator("[data-field=state]", has_text="This chat is closed.").wait_for()
    assert panel.locator("button[data-action=send]").is_disabled()
    ana.hear("conversation", lambda heard: heard["conversation"]["status"] == "closed")
    assert Conversation.objects.get(pk=chat.pk).status == ConversationStatus.CLOSED
    assert sam.js_errors == []
    assert noor.js_errors == []


def test_nothing_typed_is_lost_when_the_connection_drops_or_the_page_reloads(
    desk, widget, new_page
):
    page = new_page()
    open_inbox(page, "sam")
    wait_until(lambda: agent_status(desk["sam"]) == "online", timeout=10)
    ana = widget("ana@example.com", "Ana Lopez")
    chat = Conversation.objects.get(pk=ana.say("a-1", "Hello?")["conversation"])
    page.locator(f'[data-open-conversation="{chat.pk}"]').click()
    panel = panel_of(page, chat)
    composer = panel.get_by_label("Message to Ana Lopez")

    # Written while the connection is down: kept, then sent once it is back, exactly once.
    page.evaluate("window.paydeskChat.drop()")
    composer.fill("Sent while offline")
    composer.press("Enter")
    panel.locator(".chat-msg.is-pending", has_text="Sent while offline").wait_for()
    ana.hear_from_agent("Sent while offline")
    panel.locator(".chat-msg-agent[data-seq]", has_text="Sent while offline").wait_for()
    assert ChatMessage.objects.filter(conversation=chat, body="Sent while offline").count() == 1
    assert page.evaluate("window.paydeskChatInbox.outbox()") == []

    # A draft and the open chats survive a reload of the tab.
    composer.fill("A draft I have not sent")
    page.reload()
    panel.locator(".chat-msg-agent", has_text="Sent while offline").wait_for()
    assert composer.input_value() == "A draft I have not sent"
    # Reopened after the last message it held: nothing shows twice.
    page.locator("#chat-presence[data-state=online]").wait_for()
    ana.say("a-2", "Still there?")
    panel.locator(".chat-msg-customer", has_text="Still there?").wait_for()
    assert panel.locator(".chat-msg", has_text="Sent while offline").count() == 1
    assert page.js_errors == []


def test_an_agent_chooses_away_and_is_offline_once_their_last_tab_closes(desk, new_page):
    first = new_page()
    open_inbox(first, "sam")
    wait_until(lambda: agent_status(desk["sam"]) == "online", timeout=10)

    first.get_by_label("Chat", exact=True).select_option("away")
    wait_until(lambda: agent_status(desk["sam"]) == "away", timeout=10)

    second = first.context.new_page()
    second.goto("/desk/")
    second.locator("#chat-presence[data-state=online]").wait_for()
    assert second.get_by_label("Chat", exact=True).input_value() == "away"
    second.get_by_label("Chat", exact=True).select_option("online")
    wait_until(lambda: agent_status(desk["sam"]) == "online", timeout=10)

    first.close()
    assert agent_status(desk["sam"]) == "online"  # another tab is still open
    second.close()
    wait_until(lambda: agent_status(desk["sam"]) == "offline", timeout=10)


def png(width: int, height: int) -> bytes:
    """A red PNG image of that size."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def attach_pdf(panel, name: str) -> None:
    """Choose a PDF in the panel's file input: the inbox starts uploading it."""
    panel.locator("input[type=file]").set_input_files(
        files=[{"name": name, "mimeType": "application/pdf", "buffer": PDF}]
    )


def test_images_and_pdfs_go_both_ways(desk, widget, new_page, server, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    page = new_page()
    open_inbox(page, "sam")
    wait_until(lambda: agent_status(desk["sam"]) == "online", timeout=10)
    ana = widget("ana@example.com", "Ana Lopez")
    chat = Conversation.objects.get(pk=ana.say("a-1", "Here is my bank's message")["conversation"])

    # The customer's widget uploads a screenshot, then sends it: the agent sees the image.
    uploaded = httpx.post(
        server.url + "/chat/api/attachments/",
        data={"conversation": str(chat.pk), "token": ana.token},
        files={"file": ("bank.png", png(40, 30), "image/png")},
    )
    assert uploaded.status_code == 201
    ana.send(type="message", client_id="a-2", body="", attachment=uploaded.json()["id"])
    ana.hear("ack", client_id="a-2")
    page.locator(f'[data-open-conversation="{chat.pk}"]').click()
    panel = panel_of(page, chat)
    image = panel.locator('.chat-msg-customer img[alt="bank.png"]')
    image.wait_for()
    page.wait_for_function(
        "image => image.complete && image.naturalWidth === 40", arg=image.element_handle()
    )

    # The agent attaches a PDF to an answer: the customer gets it with a link.
    attach_pdf(panel, "refund.pdf")
    panel.locator("[data-field=attachment]", has_text="Attached: refund.pdf").wait_for()
    composer = panel.get_by_label("Message to Ana Lopez")
    composer.fill("Your refund confirmation")
    composer.press("Enter")
    heard = ana.hear_from_agent("Your refund confirmation")
    assert heard["attachment"]["name"] == "refund.pdf"
    link = panel.locator(".chat-msg-agent a.chat-file-link", has_text="refund.pdf")
    link.wait_for()
    assert link.get_attribute("href").endswith(heard["attachment"]["url"])
    assert httpx.get(server.url + heard["attachment"]["url"]).content == PDF
    assert panel.locator("[data-field=attachment]").is_hidden()
    assert page.js_errors == []


def test_a_message_sent_while_its_file_uploads_goes_once_uploaded(
    desk, widget, new_page, server, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    page = new_page()
    held = []
    page.route("**/chat/api/attachments/", lambda route: held.append(route))  # held until let go
    open_inbox(page, "sam")
    wait_until(lambda: agent_status(desk["sam"]) == "online", timeout=10)
    ana = widget("ana@example.com", "Ana Lopez")
    chat = Conversation.objects.get(pk=ana.say("a-1", "Where is my refund?")["conversation"])
    page.locator(f'[data-open-conversation="{chat.pk}"]').click()
    panel = panel_of(page, chat)

    attach_pdf(panel, "refund.pdf")
    panel.locator("[data-field=attachment]", has_text="Uploading refund.pdf").wait_for()
    composer = panel.get_by_label("Message to Ana Lopez")
    composer.fill("Here is the confirmation")
    composer.press("Enter")

    notice = page.locator("#chat-notice")
    assert notice.inner_text() == "Your message goes as soon as the file is uploaded."
    assert composer.input_value() == "Here is the confirmation"  # not sent, not lost
    wait_until(lambda: held, timeout=10)
    held[0].continue_()

    heard = ana.hear_from_agent("Here is the confirmation")
    assert heard["attachment"]["name"] == "refund.pdf"
    panel.locator(".chat-msg-agent a.chat-file-link", has_text="refund.pdf").wait_for()
    assert composer.input_value() == ""
    assert notice.inner_text() == ""
    assert page.js_errors == []
