"""Channel-layer groups of the chat, and what travels through them.

A message travels as the payload clients show (`message_payload`): it was stored and redacted
before it got here. Everything else (payment changes, inbox changes) travels as a notice: the
consumer that hears it reads what it shows from the database, with its own access checks.
"""

import hashlib
from typing import Any

from accounts.selectors import display_name
from chat.attachments import attachment_url
from chat.models import ChatMessage, Conversation
from tickets.live import announce_on_commit

CHAT_MESSAGE = "chat.message"
CHAT_RECEIPT = "chat.receipt"
CHAT_TYPING = "chat.typing"
CHAT_CONVERSATION = "chat.conversation"  # its status, assignee or rating changed
CHAT_INBOX = "chat.inbox"  # a conversation of the team's inbox changed
CHAT_PAYMENTS = "chat.payments"  # a payment of the customer changed


def conversation_group(conversation_id: int) -> str:
    """The customer's widget and every agent who has the conversation open."""
    return f"chat.conv.{conversation_id}"


def inbox_group(team_id: int) -> str:
    """The chat inboxes of a team's agents (and of every admin)."""
    return f"chat.inbox.{team_id}"


def agent_group(user_id: int) -> str:
    """The chat inboxes of one agent: news of the conversations they have."""
    return f"chat.agent.{user_id}"


def customer_group(email: str) -> str:
    """The widgets of one verified customer (by email: Stripe and PayPal may each have a
    Customer row for the same person)."""
    return "chat.customer." + hashlib.sha256(email.lower().encode()).hexdigest()[:32]


def agent_payload(user: Any) -> dict[str, str] | None:
    """How an agent appears to a customer: their name and an avatar made of their initials."""
    if user is None:
        return None
    name = display_name(user)
    initials = "".join(part[0] for part in name.split()[:2]).upper() or "?"
    return {"name": name, "initials": initials, "hue": str((user.pk * 47) % 360)}


def message_payload(message: ChatMessage) -> dict[str, Any]:
    """A stored message as both sides' clients show it (JSON- and msgpack-safe)."""
    payload: dict[str, Any] = {
        "conversation": message.conversation_id,
        "seq": message.seq,
        "client_id": message.client_id,
        "sender": message.sender,
        "body": message.body,
        "card_number_masked": message.card_number_masked,
        "created_at": message.created_at.isoformat(),
        "agent": agent_payload(message.author) if message.sender == "agent" else None,
        "attachment": None,
        "article": None,
    }
    if message.attachment_id:
        attachment = message.attachment
        payload["attachment"] = {
            "id": attachment.pk,
            "name": attachment.name,
            "content_type": attachment.content_type,
            "size": attachment.size,
            "url": attachment_url(attachment),
        }
    if message.article_id:
        payload["article"] = {"title": message.article.title, "body": message.article.body}
    return payload


def announce_messages(messages: list[ChatMessage]) -> None:
    """After commit, send each new message to its conversation's group."""
    for message in messages:
        announce_on_commit(
            [conversation_group(message.conversation_id)],
            {"type": CHAT_MESSAGE, "message": message_payload(message)},
        )


def announce_conversation(conversation: Conversation) -> None:
    """After commit, tell the conversation's clients and the team's inbox that it changed."""
    notice = {"type": CHAT_CONVERSATION, "conversation": conversation.pk}
    announce_on_commit([conversation_group(conversation.pk)], notice)
    announce_on_commit(
        [inbox_group(conversation.team_id)], {"type": CHAT_INBOX, "conversation": conversation.pk}
    )
