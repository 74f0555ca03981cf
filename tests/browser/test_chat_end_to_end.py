"""The live chat from end to end, both sides in real pages, each in its own browser context: a
customer on the demo checkout whose payment fails, and an agent in the workspace. The widget
shows the failure, answers a question from the knowledge base and hands over to the agent; they
write to each other; each loses the network for a while and nothing is lost or doubled; the agent
ends the chat and the customer rates it."""

import re

import pytest

from chat.models import ChatMessage, Conversation, ConversationStatus, FaqArticle
from chat.presence import agent_status
from payments.models import Payment, PaymentStatus
from tests.browser.conftest import log_in, screenshot
from tests.browser.test_chat_widget import ANA, WIDGET, open_checkout, open_widget, write
from tests.conftest import wait_until
from tickets.models import EntryKind, Reason, Ticket, TimelineEntry
from tickets.services import default_team

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

FAILED_IN_WORDS = "Your payment of €79.90 did not go through: The card has insufficient funds."
QUESTION = "Why was my card declined?"
ARTICLE = "Most declines come from your bank. Try another card, or pay with PayPal."
CUSTOMER_WROTE = [
    QUESTION,
    "ممنون! Can I pay with PayPal instead?",
    "Still there? My Wi-Fi is dropping",
    "Δεύτερο μήνυμα — پیام دوم",
]
AGENT_WROTE = [
    "Γεια σας Ana! I can see the declined payment 👀",
    "Yes, PayPal works. Sorry — my connection dropped too",
]
# Reconnecting after the network comes back may wait out a backoff of a few seconds.
RECONNECT_MS = 30_000


@pytest.fixture
def checkout(settings):
    settings.DEMO_CHECKOUT = True
    settings.CHAT_IDENTITY_SECRET = "chat-secret-for-browser-tests"


def stored_bodies(conversation: Conversation, sender: str) -> list[str]:
    messages = ChatMessage.objects.filter(conversation=conversation, sender=sender)
    return list(messages.order_by("seq").values_list("body", flat=True))


def customer_ids(client_ids: list[str]) -> list[int]:
    """How many times each of these customer messages is stored."""
    return [
        ChatMessage.objects.filter(sender="customer", client_id=client_id).count()
        for client_id in client_ids
    ]


def test_a_failed_payment_becomes_a_chat_with_an_agent_that_survives_dropped_connections(
    checkout, new_page, make_agent
):
    FaqArticle.objects.create(
        language="en", title=QUESTION, body=ARTICLE, keywords="declined decline refused"
    )
    sam = make_agent("sam", default_team(), first_name="Sam", last_name="Rivera")

    # The agent watches the open queue, online for chats.
    agent = new_page()
    log_in(agent, "sam")
    agent.get_by_role("link", name=re.compile("All open")).click()
    agent.wait_for_url(re.compile(r"view=open"))
    agent.locator("#live-status[data-state=online]").wait_for()
    agent.locator("#chat-presence[data-state=online]").wait_for()
    wait_until(lambda: agent_status(sam) == "online", timeout=10)

    # The customer pays, and the bank says no: the widget says so in words, without a reload.
    customer = new_page()
    widget = open_checkout(customer)
    customer.locator("#outcome").select_option("insufficient_funds")
    customer.get_by_role("button", name=re.compile(r"^Pay ")).click()
    customer.locator("#pay-result[data-state=bad]").wait_for()
    widget.locator(".teaser", has_text=FAILED_IN_WORDS).wait_for()
    open_widget(widget)
    newest = widget.locator(".payment.newest.payment-failed")
    newest.filter(has_text=FAILED_IN_WORDS).wait_for()
    screenshot(customer, "chat-end-to-end-widget-failed-payment")
    payment = Payment.objects.get(
        provider_payment_id=customer.locator("#pay-result").get_attribute("data-payment")
    )
    assert (payment.status, payment.customer.email) == (PaymentStatus.FAILED, ANA)
    ticket = wait_until(
        lambda: Ticket.objects.filter(payments=payment, reason=Reason.PAYMENT_FAILED).first(),
        timeout=10,
    )

    # The payment's ticket arrives in the agent's queue by itself.
    agent.locator(f'tr[data-ticket-id="{ticket.pk}"]').wait_for()
    agent.get_by_role("link", name=re.compile("Chats")).click()
    agent.wait_for_url("**/desk/chats/")
    agent.locator("#chat-presence[data-state=online]").wait_for()

    # The customer's question is answered from the knowledge base first.
    write(widget, QUESTION)
    answer = widget.locator(".msg-bot")
    answer.locator(".article", has_text=ARTICLE).wait_for()
    assert answer.locator(".who").inner_text() == "Automatic answer"
    screenshot(customer, "chat-end-to-end-widget-faq-answer")
    conversation = Conversation.objects.get()
    assert conversation.ticket == ticket  # the chat is about the payment's ticket
    assert conversation.status == ConversationStatus.ANSWERED

    # "Talk to a person": the chat waits in the agent's inbox.
    answer.get_by_role("button", name="Talk to a person").click()
    widget.locator(".msg-system", has_text="We are finding an agent").wait_for()
    row = agent.locator(f'.chat-row[data-conversation="{conversation.pk}"][data-status=waiting]')
    row.wait_for()
    assert "Ana Souza" in row.inner_text()
    row.get_by_role("link").click()
    panel = agent.locator(f"#chat-panel-{conversation.pk}")
    panel.locator(".chat-msg-customer", has_text=QUESTION).wait_for()
    panel.locator(".chat-msg-bot", has_text=ARTICLE).wait_for()
    ticket_side = panel.locator(".chat-ticket")
    assert "€79.90" in ticket_side.inner_text()
    assert "The card has insufficient funds." in ticket_side.inner_text()
    panel.get_by_role("button", name="Accept").click()
    panel.locator("[data-field=assignee]", has_text="You have this chat.").wait_for()
    widget.locator(".title", has_text="Sam Rivera").wait_for()

    # Messages both ways, in Greek and Persian too, each marked read by the other side.
    composer = panel.get_by_label("Message to Ana Souza")
    composer.fill(AGENT_WROTE[0])
    composer.press("Enter")
    widget.locator(".msg-agent", has_text=AGENT_WROTE[0]).wait_for()
    panel.locator(".chat-msg-agent", has_text="Γεια σας Ana").locator(
        ".chat-msg-mark[data-state=read]"
    ).wait_for()
    write(widget, CUSTOMER_WROTE[1])
    mine = widget.locator(".msg-customer", has_text=CUSTOMER_WROTE[1])
    panel.locator(".chat-msg-customer", has_text=CUSTOMER_WROTE[1]).wait_for()
    mine.locator(".mark[data-state=read]").wait_for()

    # The customer loses the network and writes twice: kept, then delivered once each.
    customer.context.set_offline(True)
    customer.locator(f"{WIDGET}[data-connection=reconnecting]").wait_for(state="attached")
    write(widget, CUSTOMER_WROTE[2])
    write(widget, CUSTOMER_WROTE[3])
    pending = widget.locator(".msg-pending")
    assert pending.count() == 2
    assert pending.locator(".mark[data-state=sending]").count() == 2
    offline_ids = [item.get_attribute("data-client-id") for item in pending.all()]
    assert customer_ids(offline_ids) == [0, 0]
    customer.context.set_offline(False)
    customer.locator(f"{WIDGET}[data-connection=online]").wait_for(
        state="attached", timeout=RECONNECT_MS
    )
    for text in CUSTOMER_WROTE[2:]:
        panel.locator(".chat-msg-customer", has_text=text).wait_for()
        widget.locator(".msg-customer", has_text=text).locator(".mark[data-state=read]").wait_for()
    assert customer_ids(offline_ids) == [1, 1]

    # The agent loses the network, writes, and it arrives once the network is back.
    agent.context.set_offline(True)
    panel.locator("[data-field=state]", has_text="The chat connection is down").wait_for()
    composer.fill(AGENT_WROTE[1])
    composer.press("Enter")
    unsent = panel.locator(".chat-msg.is-pending", has_text="Yes, PayPal works.")
    unsent.wait_for()
    agent_client_id = unsent.get_attribute("data-client-id")
    assert not ChatMessage.objects.filter(client_id=agent_client_id).exists()
    agent.context.set_offline(False)
    agent.locator("#chat-presence[data-state=online]").wait_for(timeout=RECONNECT_MS)
    widget.locator(".msg-agent", has_text="Yes, PayPal works.").wait_for()
    panel.locator(".chat-msg-agent[data-seq]", has_text="Yes, PayPal works.").wait_for()
    assert ChatMessage.objects.filter(sender="agent", client_id=agent_client_id).count() == 1
    # The chat is the agent's now, in their list; its ticket too.
    agent.locator("#chat-inbox [data-tab=mine]").click()
    agent.locator(
        f'.chat-row[data-conversation="{conversation.pk}"][data-status=active]'
    ).wait_for()
    ticket_side.locator("[data-field=ticket-assignee]", has_text="Sam Rivera").wait_for()
    screenshot(agent, "chat-end-to-end-inbox")
    for text in CUSTOMER_WROTE:
        assert panel.locator(".chat-msg-customer", has_text=text).count() == 1
    for text in AGENT_WROTE:
        assert panel.locator(".chat-msg-agent", has_text=text).count() == 1

    # The agent ends the chat; the customer rates it.
    agent.once("dialog", lambda dialog: dialog.accept())
    panel.get_by_role("button", name="Close chat").click()
    panel.locator("[data-field=state]", has_text="This chat is closed.").wait_for()
    after = widget.locator(".after")
    after.wait_for()
    after.get_by_role("button", name="5 out of 5").click()
    after.get_by_label("Anything you would like to add? (optional)").fill(
        "Quick and kind — ευχαριστώ"
    )
    after.get_by_role("button", name="Send rating").click()
    after.get_by_text("Thank you for your feedback.").wait_for()
    screenshot(customer, "chat-end-to-end-widget-rated")

    conversation.refresh_from_db()
    assert conversation.status == ConversationStatus.CLOSED
    assert (conversation.rating, conversation.rating_comment) == (5, "Quick and kind — ευχαριστώ")
    rated = "Customer rated the chat 5/5: Quick and kind — ευχαριστώ"
    assert TimelineEntry.objects.filter(
        ticket=ticket, kind=EntryKind.CHAT_EVENT, body=rated
    ).exists()
    agent.goto(f"/desk/tickets/{ticket.pk}/")
    agent.locator(".entry-chat_event", has_text=rated).wait_for()

    # Nothing was lost or doubled: every message stored once, and shown once to the customer.
    assert stored_bodies(conversation, "customer") == CUSTOMER_WROTE
    assert stored_bodies(conversation, "agent") == AGENT_WROTE
    for text in CUSTOMER_WROTE:
        assert widget.locator(".msg-customer", has_text=text).count() == 1
    for text in AGENT_WROTE:
        assert widget.locator(".msg-agent", has_text=text).count() == 1
    assert customer.js_errors == []
    assert agent.js_errors == []
