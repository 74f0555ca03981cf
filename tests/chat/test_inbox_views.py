"""The chat inbox pages of the workspace: who may see them, what each tab lists, and the panels
opened beside it (the chat and its ticket with the customer's payments)."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from chat.models import AgentConnection, ConversationStatus, Sender
from tests.chat.test_selectors import conversation_with
from tests.factories import (
    AdminFactory,
    AgentFactory,
    CustomerFactory,
    PaymentFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

INBOX = "/desk/chats/"
HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def cards():
    return TeamFactory(name="Card payments")


@pytest.fixture
def alice(cards):
    return AgentFactory(username="alice", first_name="Alice", last_name="Lind", team=cards)


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def rows(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-open-conversation="(\d+)"', response.text)]


def test_the_inbox_is_at_desk_chats():
    assert reverse("chat_inbox:inbox") == INBOX


def test_an_anonymous_visitor_is_sent_to_log_in(client):
    response = client.get(INBOX)

    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/desk/chats/")


@pytest.mark.parametrize("path", [INBOX, INBOX + "count/", INBOX + "1/", INBOX + "1/ticket/"])
def test_a_customer_account_is_refused(client, path):
    client.force_login(UserFactory(username="carol"))

    assert client.get(path).status_code == 403


def test_an_agent_sees_only_the_chats_of_their_teams(as_alice, cards):
    ours = conversation_with(cards, customer=CustomerFactory(name="Dana Doe"))
    theirs = conversation_with(
        TeamFactory(name="Wallets"), customer=CustomerFactory(name="Wendy Wallet")
    )

    response = as_alice.get(INBOX + "?tab=all")

    assert response.status_code == 200
    assert rows(response) == [ours.pk]
    assert "Dana Doe" in response.text
    assert "Wendy Wallet" not in response.text
    assert as_alice.get(f"{INBOX}{theirs.pk}/", **HTMX).status_code == 404
    assert as_alice.get(f"{INBOX}{theirs.pk}/ticket/").status_code == 404


def test_an_admin_sees_every_teams_chats(client, cards):
    ours = conversation_with(cards)
    theirs = conversation_with(TeamFactory(name="Wallets"))
    client.force_login(AdminFactory())

    assert set(rows(client.get(INBOX + "?tab=all"))) == {ours.pk, theirs.pk}


def test_the_tabs_filter_waiting_mine_and_all(as_alice, alice, cards):
    bob = AgentFactory(username="bob", team=cards)
    waiting = conversation_with(cards)
    mine = conversation_with(cards, status=ConversationStatus.ACTIVE, assignee=alice)
    bobs = conversation_with(cards, status=ConversationStatus.ACTIVE, assignee=bob)
    conversation_with(cards, status=ConversationStatus.CLOSED, assignee=alice)

    assert rows(as_alice.get(INBOX)) == [waiting.pk]  # waiting is the first tab
    assert rows(as_alice.get(INBOX + "?tab=waiting")) == [waiting.pk]
    assert rows(as_alice.get(INBOX + "?tab=mine")) == [mine.pk]
    assert set(rows(as_alice.get(INBOX + "?tab=all"))) == {waiting.pk, mine.pk, bobs.pk}
    assert rows(as_alice.get(INBOX + "?tab=nonsense")) == [waiting.pk]


def test_a_row_shows_the_customer_verification_waiting_time_preview_and_unread(as_alice, cards):
    conversation_with(
        cards,
        (Sender.CUSTOMER, "My card was declined twice", 7),
        customer=CustomerFactory(name="Dana Doe"),
        verified=True,
    )
    conversation_with(
        cards, (Sender.CUSTOMER, "سلام", 1), customer=CustomerFactory(name="Sara Karimi")
    )

    page = as_alice.get(INBOX).text

    dana = page[page.index("Dana Doe") : page.index("Sara Karimi")]
    assert "Verified" in dana
    assert "waiting 7\xa0minutes" in dana
    assert "My card was declined twice" in dana
    assert re.search(r'class="chat-unread">1<', dana)
    sara = page[page.index("Sara Karimi") :]
    assert "Email not verified" in sara
    assert "سلام" in sara


def test_the_list_alone_comes_back_for_a_live_refresh(as_alice, cards):
    conversation = conversation_with(cards)

    response = as_alice.get(INBOX + "?tab=all", HTTP_HX_TARGET="chat-inbox", **HTMX)

    assert response.text.lstrip().startswith('<section id="chat-inbox"')
    assert "<html" not in response.text
    assert rows(response) == [conversation.pk]


def query_count(client, path: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(path).status_code == 200
    return len(queries)


@pytest.mark.parametrize("tab", ["waiting", "all"])
def test_the_inbox_costs_the_same_queries_for_one_chat_or_ten(as_alice, cards, tab):
    def add_chat():
        conversation_with(
            cards,
            (Sender.CUSTOMER, "Hello", 3),
            (Sender.AGENT, "Hi", 2),
            (Sender.CUSTOMER, "My payment failed", 1),
            customer=CustomerFactory(),
        )

    add_chat()
    one = query_count(as_alice, f"{INBOX}?tab={tab}")
    for _ in range(9):
        add_chat()
    ten = query_count(as_alice, f"{INBOX}?tab={tab}")

    assert len(rows(as_alice.get(f"{INBOX}?tab={tab}"))) == 10
    assert ten == one


def test_the_top_bar_counts_the_waiting_chats(as_alice, cards):
    conversation_with(cards)
    conversation_with(cards)
    conversation_with(cards, status=ConversationStatus.ACTIVE)

    response = as_alice.get(INBOX + "count/", **HTMX)

    assert 'id="chat-waiting-count"' in response.text
    assert ">2<" in response.text
    assert "2 waiting" in response.text


def test_every_workspace_page_links_to_the_inbox_and_has_the_chat_status(as_alice):
    page = as_alice.get("/desk/").text

    assert f'href="{INBOX}"' in page
    assert 'id="chat-status"' in page
    assert "paydesk/chat-presence.js" in page


def test_a_chat_panel_has_the_composer_transfer_choices_and_the_ticket_with_its_payments(
    as_alice, alice, cards
):
    bob = AgentFactory(username="bob", first_name="Bob", last_name="Berg", team=cards)
    AgentConnection.objects.create(user=bob, channel_name="bob-tab", seen_at=timezone.now())
    TeamFactory(name="Wallets")
    dana = CustomerFactory(name="Dana Doe", email="dana@example.com")
    conversation = conversation_with(cards, customer=dana)
    payment = PaymentFactory(customer=dana, amount_minor=4_900, failure_code="expired_card")
    conversation.ticket.payments.add(payment)

    response = as_alice.get(f"{INBOX}{conversation.pk}/", **HTMX)

    page = response.text
    assert response.status_code == 200
    assert f'id="chat-panel-{conversation.pk}"' in page
    assert "Message to Dana Doe" in page
    assert 'data-action="accept"' in page
    assert f'value="agent:{bob.pk}">Bob Berg (Online)' in page
    assert f'value="agent:{alice.pk}"' not in page  # not to herself
    assert "Wallets" in page
    assert reverse("tickets:canned", args=[conversation.ticket_id]) in page
    assert reverse("tickets:detail", args=[conversation.ticket_id]) in page
    assert "$49.00" in page
    assert payment.provider_payment_id in page
    assert "The card has expired." in page


def test_a_chat_panel_opened_as_a_page_goes_to_the_inbox_with_it_open(as_alice, cards):
    conversation = conversation_with(cards)

    response = as_alice.get(f"{INBOX}{conversation.pk}/")

    assert response.status_code == 302
    assert response["Location"] == f"{INBOX}?open={conversation.pk}"


def test_the_ticket_beside_a_chat_reloads_alone(as_alice, cards):
    conversation = conversation_with(cards, customer=CustomerFactory(name="Dana Doe"))

    response = as_alice.get(f"{INBOX}{conversation.pk}/ticket/", **HTMX)

    assert response.status_code == 200
    assert "<html" not in response.text
    assert f"#{conversation.ticket_id}" in response.text
    assert "Dana Doe" in response.text
