"""What the chat hears from the rest of Paydesk."""

from functools import partial
from typing import Any

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from chat import live
from chat.models import LIVE_STATUSES, Conversation, ConversationStatus, Sender
from chat.services import message_post
from payments.models import Payment
from tickets.live import announce_on_commit
from tickets.models import TimelineEntry
from tickets.signals import agent_replied


@receiver(agent_replied)
def _reply_reaches_the_chat(sender: Any, entry: TimelineEntry, **kwargs: Any) -> None:
    """An agent's reply written on the ticket reaches the customer's open chat too, once the
    reply is committed: posting inside the reply's transaction would lock the ticket, then
    the conversation, where a chat message locks them the other way round."""
    transaction.on_commit(partial(_post_reply_in_chats, entry.pk))


def _post_reply_in_chats(entry_pk: int) -> None:
    entry = TimelineEntry.objects.select_related("author").get(pk=entry_pk)
    for conversation in Conversation.objects.filter(
        ticket_id=entry.ticket_id, status__in=(*LIVE_STATUSES, ConversationStatus.OFFLINE)
    ):
        # The entry's id as the client id: posted once, however often this runs.
        message_post(
            conversation=conversation,
            sender=Sender.AGENT,
            body=entry.body,
            author=entry.author,
            entry=entry,
            client_id=f"entry-{entry.pk}",
        )


@receiver(post_save, sender=Payment)
def _payment_reaches_the_widget(sender: Any, instance: Payment, **kwargs: Any) -> None:
    """A webhook changed a payment: the customer's open widgets show its new state."""
    if instance.customer_id and instance.customer.email:
        announce_on_commit(
            [live.customer_group(instance.customer.email)], {"type": live.CHAT_PAYMENTS}
        )
