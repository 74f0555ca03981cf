"""Every write of the live chat: conversations, messages, receipts, hand-offs and ratings.

A message is stored, redacted and put on its ticket's timeline in one transaction, with the
conversation's next sequence number; only then is anyone told. Callers from a consumer pass
`announce=False` and send what they got back themselves, at once, on their own event loop;
everyone else (an HTTP view, a task) lets these functions announce after commit.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest, Least
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.selectors import display_name
from chat import live
from chat.faq import faq_best_match
from chat.identity import ChatIdentity
from chat.models import (
    Attachment,
    ChatMessage,
    Conversation,
    ConversationStatus,
    FaqArticle,
    Sender,
)
from chat.presence import team_available
from chat.redaction import has_masked_pan, redact_pans
from payments.models import Customer, Payment
from tickets.live import announce_on_commit
from tickets.models import (
    OPEN_STATUSES,
    Channel,
    EntryKind,
    Reason,
    Status,
    Team,
    Ticket,
    TimelineEntry,
)
from tickets.selectors import ticket_get_for_agent
from tickets.services import (
    AssignmentError,
    ticket_add_entry,
    ticket_create,
    ticket_find_open_for_payment,
    ticket_update,
)

logger = logging.getLogger(__name__)

Stored = TypeVar("Stored")


class ChatError(ValueError):
    """A request the chat refuses; the message says why, in words a person understands."""


class ConversationClosed(ChatError):
    """A message for a conversation that was closed: the customer starts a new one."""


ERROR_EMPTY = "Write something, or attach a file."
ERROR_CLOSED = "This conversation is closed; start a new one."
ERROR_GONE = "There is no such conversation, or it is not yours."
ERROR_ATTACHMENT = "That attachment is not one uploaded to this conversation."
ERROR_NOT_YOURS = "Another agent has this conversation; ask them to transfer it."
ERROR_RATING = "A rating is a whole number from 1 to 5."
ERROR_NOT_CLOSED = "A conversation is rated once it is closed."
ERROR_TRANSCRIPT_AGAIN = "The transcript was sent a moment ago; check your inbox."
TRANSCRIPT_INTERVAL_S = 300


def _key_hash(access_key: str) -> str:
    return hashlib.sha256(access_key.encode()).hexdigest()


def customers_for_email(email: str):
    return Customer.objects.filter(email__iexact=email)


def customer_for_identity(identity: ChatIdentity) -> Customer:
    """The customer with this email (the oldest, when providers made several), or a new one."""
    customer = customers_for_email(identity.email).order_by("pk").first()
    name = redact_pans(identity.name)[0]
    if customer is None:
        customer = Customer.objects.create(email=identity.email, name=name)
    elif identity.verified and name and not customer.name:
        customer.name = name
        customer.save(update_fields=["name"])
    return customer


def recent_payments(identity: ChatIdentity, limit: int = 3) -> list[Payment]:
    """A verified customer's newest payments; an unverified one sees none."""
    if not identity.verified:
        return []
    payments = Payment.objects.filter(customer__email__iexact=identity.email)
    if identity.payment:
        named = payments.filter(provider_payment_id=identity.payment).first()
        others = list(payments.exclude(pk=getattr(named, "pk", None)).order_by("-created_at"))
        return ([named] if named else []) + others[: limit - (1 if named else 0)]
    return list(payments.order_by("-created_at")[:limit])


def _ticket_for_chat(identity: ChatIdentity, customer: Customer) -> tuple[Ticket, bool]:
    """The customer's open payment ticket when the merchant vouched for them, else a new one.
    An unverified customer always gets a new ticket: anyone can type an email address."""
    if identity.verified:
        payments = recent_payments(identity, limit=1)
        ticket = ticket_find_open_for_payment(payment=payments[0]) if payments else None
        if ticket is None:
            ticket = (
                Ticket.objects.filter(customer__email__iexact=identity.email)
                .filter(status__in=OPEN_STATUSES)
                .exclude(reason=Reason.QUESTION)
                .order_by("-created_at")
                .first()
            )
        if ticket is not None:
            return ticket, False
    name = redact_pans(identity.name)[0] or customer.name or identity.email
    ticket = ticket_create(
        subject=f"Chat with {name}",
        reason=Reason.QUESTION,
        customer=customer,
        channel=Channel.CHAT,
        payments=tuple(recent_payments(identity, limit=1)),
    )
    return ticket, True


def conversation_start(*, identity: ChatIdentity, language: str) -> tuple[Conversation, str]:
    """A new conversation on a ticket, and its access key (the customer's proof of ownership
    when no merchant vouched for them; shown once, stored hashed)."""
    access_key = secrets.token_urlsafe(24)
    with transaction.atomic():
        customer = customer_for_identity(identity)
        ticket, _ = _ticket_for_chat(identity, customer)
        conversation = Conversation.objects.create(
            ticket=ticket,
            customer=customer,
            team=ticket.team,
            verified=identity.verified,
            access_key_hash=_key_hash(access_key),
            language=language if language in dict(settings.LANGUAGES) else "en",
            order_reference=identity.order,
        )
        ticket_add_entry(
            ticket=ticket,
            kind=EntryKind.CHAT_EVENT,
            body="Chat started" + ("" if identity.verified else " (email not verified)") + ".",
            data={"conversation": conversation.pk, "verified": identity.verified},
        )
        live.announce_conversation(conversation)
    return conversation, access_key


def conversation_of_resent_first_message(
    *, identity: ChatIdentity, client_id: str
) -> tuple[Conversation, str] | None:
    """The conversation a first message started, when the client sends that message again
    because the connection dropped before it heard the conversation's number and key; with a
    new key (the first one is only stored hashed, and never reached the client).

    The client id is the client's random UUID: only the client that sent it knows it."""
    if not client_id:
        return None
    message = (
        ChatMessage.objects.filter(
            sender=Sender.CUSTOMER,
            client_id=client_id,
            seq=1,
            conversation__verified=identity.verified,
            conversation__customer__email__iexact=identity.email,
        )
        .select_related("conversation")
        .first()
    )
    if message is None or message.conversation.status == ConversationStatus.CLOSED:
        return None
    access_key = secrets.token_urlsafe(24)
    conversation = message.conversation
    conversation.access_key_hash = _key_hash(access_key)
    conversation.save(update_fields=["access_key_hash"])
    return conversation, access_key


def conversation_for_customer(
    *, identity: ChatIdentity, conversation_id: object, access_key: object = ""
) -> Conversation | None:
    """The conversation, when it is this customer's: a verified customer owns the conversations
    of their email; an unverified one only the conversation whose access key they hold."""
    if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
        return None
    conversation = (
        Conversation.objects.filter(pk=conversation_id).select_related("customer").first()
    )
    if conversation is None:
        return None
    if identity.verified and conversation.verified:
        owned = conversation.customer.email.lower() == identity.email
    else:
        owned = (
            isinstance(access_key, str)
            and bool(access_key)
            and secrets.compare_digest(conversation.access_key_hash, _key_hash(access_key))
        )
    return conversation if owned else None


def message_sent_earlier(
    *, conversation_id: int, sender: Sender, client_id: str
) -> ChatMessage | None:
    """The message this sender already sent with this client id, if any."""
    if not client_id:
        return None
    return (
        ChatMessage.objects.filter(
            conversation_id=conversation_id, sender=sender, client_id=client_id
        )
        .select_related("author", "attachment", "article")
        .first()
    )


def _locked(conversation_id: int) -> Conversation:
    """The conversation locked for its next sequence number, with its ticket. Look for a resent
    message after it, in a query of its own: a copy sent at the same moment and committed while
    this one waited for the lock is seen only by a statement that starts after the wait."""
    try:
        return (
            Conversation.objects.select_for_update(of=("self",))
            .select_related("ticket")
            .get(pk=conversation_id)
        )
    except Conversation.DoesNotExist:
        raise ChatError(ERROR_GONE) from None


def _clean_body(body: str, attachment: object) -> tuple[str, bool]:
    body = body.strip()[: settings.CHAT_MAX_MESSAGE_CHARS]
    if not body and attachment is None:
        raise ChatError(ERROR_EMPTY)
    body, masked = redact_pans(body)
    # The widget masks card numbers before sending: the customer was told all the same.
    return body, masked or has_masked_pan(body)


def message_post(
    *,
    conversation: Conversation,
    sender: Sender,
    body: str = "",
    client_id: str = "",
    author: AbstractBaseUser | None = None,
    attachment: Attachment | None = None,
    article: FaqArticle | None = None,
    entry: TimelineEntry | None = None,
    announce: bool = True,
) -> tuple[ChatMessage, bool]:
    """Store a message with the next sequence number; (message, whether it is new).

    A message whose client id the conversation already has from this sender is the earlier one
    sent again (after a dropped connection): it is returned as it was, not stored twice. Card
    numbers are masked before anything is stored. Customer and agent messages go on the ticket's
    timeline (`entry`, when the caller made it already).
    """
    body, masked = _clean_body(body, attachment)
    # No savepoint inside a caller's transaction: nothing here is caught and carried on from.
    with transaction.atomic(savepoint=False):
        locked = _locked(conversation.pk)
        earlier = message_sent_earlier(
            conversation_id=locked.pk, sender=sender, client_id=client_id
        )
        if earlier is not None:
            return earlier, False
        message = _message_store(
            locked, sender=sender, body=body, masked=masked, client_id=client_id,
            author=author, attachment=attachment, article=article, entry=entry,
        )  # fmt: skip
        conversation.last_seq = locked.last_seq
        if announce:
            live.announce_messages([message])
            if sender == Sender.CUSTOMER:
                live.announce_conversation(locked)
    return message, True


def _unsent_attachment(conversation: Conversation, attachment_id: object) -> Attachment | None:
    """The conversation's attachment still waiting for its message (None when the message
    carries none). Looked up after the resend check: a message sent again has sent its file."""
    if attachment_id is None:
        return None
    if isinstance(attachment_id, bool) or not isinstance(attachment_id, int):
        raise ChatError(ERROR_ATTACHMENT)
    attachment = Attachment.objects.filter(
        pk=attachment_id, conversation=conversation, messages__isnull=True
    ).first()
    if attachment is None:
        raise ChatError(ERROR_ATTACHMENT)
    return attachment


def _message_store(
    locked: Conversation,
    *,
    sender: Sender,
    body: str,
    masked: bool,
    client_id: str,
    author: AbstractBaseUser | None,
    attachment: Attachment | None = None,
    article: FaqArticle | None = None,
    entry: TimelineEntry | None = None,
) -> ChatMessage:
    """The message, stored as the locked conversation's next one (and on the ticket's timeline
    when a person wrote it)."""
    locked.last_seq += 1
    if entry is None and sender in (Sender.CUSTOMER, Sender.AGENT):
        entry = _timeline_entry(locked, sender, body, author, attachment)
    message = ChatMessage.objects.create(
        conversation=locked,
        seq=locked.last_seq,
        sender=sender,
        author=author,
        client_id=client_id,
        body=body,
        card_number_masked=masked,
        attachment=attachment,
        article=article,
        entry=entry,
    )
    Conversation.objects.filter(pk=locked.pk).update(
        last_seq=locked.last_seq, last_message_at=timezone.now()
    )
    return message


def agent_message_post(
    *,
    conversation_id: int,
    agent: AbstractBaseUser,
    body: str,
    client_id: str,
    attachment_id: object = None,
) -> tuple[ChatMessage, bool]:
    """An agent's message; (message, whether it is new). Writing in a conversation nobody has
    accepts it; one another agent has is refused, as is a closed one (unless this is a message
    already stored, sent again)."""
    body, masked = _clean_body(body, attachment_id)

    def store() -> ChatMessage:
        locked = _locked(conversation_id)
        if locked.status == ConversationStatus.CLOSED:
            raise ChatError(ERROR_CLOSED)
        if locked.assignee_id != agent.pk:
            # Taking the chat: whoever calls may have checked the agent's access a while ago.
            if ticket_get_for_agent(user=agent, pk=locked.ticket_id, details=False) is None:
                raise ChatError(ERROR_GONE)
            conversation_accept(conversation=locked, agent=agent)
            locked = _locked(conversation_id)
        return _message_store(
            locked, sender=Sender.AGENT, body=body, masked=masked, client_id=client_id,
            author=agent, attachment=_unsent_attachment(locked, attachment_id),
        )  # fmt: skip

    return _stored_once(conversation_id, Sender.AGENT, client_id, store)


def _stored_once(
    conversation_id: int, sender: Sender, client_id: str, store: Callable[[], Stored]
) -> tuple[Stored | ChatMessage, bool]:
    """(store() in a transaction of its own, True), or (the message this sender already sent
    with this client id, False): a message sent again after a dropped connection breaks the
    conversation's unique client ids, or is refused (its chat closed since, its file attached
    already), and its first copy is the answer. Looking for the copy only then keeps the
    check off every other message; and this query starts after the conversation's lock was
    waited for, so it sees a copy committed meanwhile."""
    try:
        with transaction.atomic():
            return store(), True
    except (IntegrityError, ChatError):
        earlier = message_sent_earlier(
            conversation_id=conversation_id, sender=sender, client_id=client_id
        )
        if earlier is None:
            raise
        return earlier, False


def _timeline_entry(
    conversation: Conversation,
    sender: Sender,
    body: str,
    author: AbstractBaseUser | None,
    attachment: Attachment | None,
) -> TimelineEntry:
    text = body if attachment is None else f"{body}\n[Attachment: {attachment.name}]".strip()
    data: dict[str, Any] = {"conversation": conversation.pk, "via": "chat"}
    ticket = conversation.ticket
    if (
        conversation.status == ConversationStatus.ACTIVE
        and conversation.assignee_id is not None
        and conversation.assignee_id == ticket.assignee_id
    ):
        data["assignee_in_chat"] = True  # reading it as it arrives: nobody to notify
    if sender == Sender.AGENT:
        from tickets.services import ticket_reply

        return ticket_reply(ticket=ticket, author=author, body=text, from_chat=True)
    entry = ticket_add_entry(
        ticket=ticket, kind=EntryKind.CUSTOMER_MESSAGE, body=text, public=True, data=data
    )
    # A customer writing again reopens a ticket that waited on them or was solved.
    if ticket.status in (Status.PENDING, Status.SOLVED):
        ticket_update(ticket=ticket, actor=None, status=Status.OPEN)
    return entry


def customer_message_receive(
    *,
    conversation: Conversation,
    body: str,
    client_id: str,
    attachment_id: object = None,
) -> tuple[ChatMessage, list[ChatMessage]]:
    """A customer's message: (the message, every message it caused, itself first when new).

    The first message of a conversation is answered from the knowledge base when an article
    matches it well; otherwise, or when the customer writes again, the conversation goes to the
    agents (or, with nobody online, is left for an answer by email)."""
    body, masked = _clean_body(body, attachment_id)

    def store() -> list[ChatMessage]:
        locked = _locked(conversation.pk)
        if locked.status == ConversationStatus.CLOSED:
            raise ConversationClosed(ERROR_CLOSED)
        message = _message_store(
            locked, sender=Sender.CUSTOMER, body=body, masked=masked, client_id=client_id,
            author=None, attachment=_unsent_attachment(locked, attachment_id),
        )  # fmt: skip
        conversation.last_seq, conversation.status = locked.last_seq, locked.status
        caused = [message]
        # With an agent in the chat the customer talks to them: no automatic answer.
        first = locked.status != ConversationStatus.ACTIVE and not (
            ChatMessage.objects.filter(
                conversation=locked, sender=Sender.CUSTOMER, seq__lt=message.seq
            ).exists()
        )
        article = faq_best_match(message.body, locked.language) if first else None
        if article is not None:
            caused += _answer_from_article(locked, article)
        elif locked.status == ConversationStatus.ANSWERED or first:
            caused += conversation_request_agent(
                conversation=locked, announce=False, first_message=first
            )
        conversation.status = locked.status
        if len(caused) > 1:
            live.announce_conversation(locked)
        else:
            # Only the inbox changed (its order, unread counts): the conversation's clients get
            # the message itself, and would each re-read an unchanged conversation for it. A
            # chat an agent has is news to them; their teammates' lists catch up every 30 s.
            group = (
                live.agent_group(locked.assignee_id)
                if locked.status == ConversationStatus.ACTIVE and locked.assignee_id
                else live.inbox_group(locked.team_id)
            )
            announce_on_commit([group], {"type": live.CHAT_INBOX, "conversation": locked.pk})
        return caused

    stored, new = _stored_once(conversation.pk, Sender.CUSTOMER, client_id, store)
    if not new:  # sent again after a drop, maybe after the chat closed: it caused nothing new
        return stored, []
    return stored[0], stored


def _answer_from_article(conversation: Conversation, article: FaqArticle) -> list[ChatMessage]:
    Conversation.objects.filter(pk=conversation.pk).update(status=ConversationStatus.ANSWERED)
    conversation.status = ConversationStatus.ANSWERED
    ticket_add_entry(
        ticket=conversation.ticket,
        kind=EntryKind.CHAT_EVENT,
        body=f"Answered automatically with the article “{article.title}”.",
        data={"conversation": conversation.pk, "article": article.pk},
    )
    with translation.override(conversation.language):
        text = gettext("An automatic answer that may help:")
    message, _ = message_post(
        conversation=conversation, sender=Sender.BOT, body=text, article=article, announce=False
    )
    return [message]


def conversation_request_agent(
    *, conversation: Conversation, announce: bool = True, first_message: bool = False
) -> list[ChatMessage]:
    """The customer wants a person after an automatic answer (or with their first message):
    the conversation waits in the team's inbox, or, with nobody online, becomes a message
    answered by email. Returns the system message; asking again changes nothing."""
    with transaction.atomic():
        asking = conversation
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        asked_already = ChatMessage.objects.filter(
            conversation=conversation, sender=Sender.SYSTEM
        ).exists()
        if conversation.status != ConversationStatus.ANSWERED and (
            not first_message or asked_already
        ):
            return []
        available = team_available(conversation.team)
        conversation.status = (
            ConversationStatus.WAITING if available else ConversationStatus.OFFLINE
        )
        conversation.save(update_fields=["status"])
        asking.status = conversation.status
        with translation.override(conversation.language):
            if available:
                text = gettext("We are finding an agent for you; it usually takes a minute.")
            else:
                text = gettext(
                    "Nobody is online right now. We have your message and will answer by "
                    "email at %(email)s."
                ) % {"email": conversation.customer.email}
        ticket_add_entry(
            ticket=conversation.ticket,
            kind=EntryKind.CHAT_EVENT,
            body="Customer asked for an agent."
            if available
            else "Nobody was online: the customer will be answered by email.",
            data={"conversation": conversation.pk},
        )
        message, _ = message_post(
            conversation=conversation, sender=Sender.SYSTEM, body=text, announce=announce
        )
        if announce:
            live.announce_conversation(conversation)
    return [message]


def _system_message(conversation: Conversation, text: str, timeline: str) -> ChatMessage:
    ticket_add_entry(
        ticket=conversation.ticket,
        kind=EntryKind.CHAT_EVENT,
        body=timeline,
        data={"conversation": conversation.pk},
    )
    message, _ = message_post(conversation=conversation, sender=Sender.SYSTEM, body=text)
    live.announce_conversation(conversation)
    return message


def _check_may_act(conversation: Conversation, actor: AbstractBaseUser) -> None:
    """Transfer and close: the agent who has the chat, anyone while nobody has it, or an admin."""
    if conversation.assignee_id not in (None, actor.pk) and not actor.is_staff:
        raise ChatError(ERROR_NOT_YOURS)


def conversation_accept(*, conversation: Conversation, agent: AbstractBaseUser) -> Conversation:
    """An agent takes a conversation that is not someone else's (and its ticket, if nobody has
    it)."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            raise ChatError(ERROR_CLOSED)
        if conversation.assignee_id and conversation.assignee_id != agent.pk:
            raise ChatError(ERROR_NOT_YOURS)
        if conversation.assignee_id == agent.pk and conversation.status == "active":
            return conversation
        conversation.assignee = agent
        conversation.status = ConversationStatus.ACTIVE
        conversation.accepted_at = conversation.accepted_at or timezone.now()
        conversation.save(update_fields=["assignee", "status", "accepted_at"])
        if conversation.ticket.assignee_id is None:
            try:
                ticket_update(ticket=conversation.ticket, actor=agent, assignee=agent)
            except AssignmentError:
                logger.info("Agent %s took chat %s off their team", agent.pk, conversation.pk)
        with translation.override(conversation.language):
            text = gettext("%(name)s joined the chat.") % {"name": display_name(agent)}
        _system_message(conversation, text, f"{display_name(agent)} accepted the chat.")
    return conversation


def conversation_transfer(
    *,
    conversation: Conversation,
    actor: AbstractBaseUser,
    agent: AbstractBaseUser | None = None,
    team: Team | None = None,
) -> Conversation:
    """Hand the conversation to another agent, or to another team's inbox (its ticket goes
    with it). Raises AssignmentError when the agent could not see the ticket."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            raise ChatError(ERROR_CLOSED)
        _check_may_act(conversation, actor)
        if team is not None and team.pk == conversation.team_id:
            team = None
        if team is not None:
            ticket_update(ticket=conversation.ticket, actor=actor, team=team, assignee=None)
            conversation.team = team
            conversation.assignee = None
            conversation.status = ConversationStatus.WAITING
            timeline = f"{display_name(actor)} transferred the chat to the team {team}."
        if agent is not None:
            ticket_update(ticket=conversation.ticket, actor=actor, assignee=agent)
            conversation.assignee = agent
            conversation.status = ConversationStatus.ACTIVE
            timeline = f"{display_name(actor)} transferred the chat to {display_name(agent)}."
        if agent is None and team is None:
            return conversation
        conversation.save(update_fields=["team", "assignee", "status"])
        with translation.override(conversation.language):
            text = gettext("You are being transferred to a colleague who can help.")
        _system_message(conversation, text, timeline)
    return conversation


def conversation_close(*, conversation: Conversation, actor: AbstractBaseUser | None) -> None:
    """End the chat (the agent, or the customer with `actor` None); the customer may rate it."""
    with transaction.atomic():
        conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
        if conversation.status == ConversationStatus.CLOSED:
            return
        if actor is not None:
            _check_may_act(conversation, actor)
        conversation.status = ConversationStatus.CLOSED
        conversation.closed_at = timezone.now()
        conversation.save(update_fields=["status", "closed_at"])
        who = display_name(actor) if actor else "The customer"
        with translation.override(conversation.language):
            text = gettext("The chat has ended. How did we do?")
        _system_message(conversation, text, f"{who} closed the chat.")


def conversation_rate(*, conversation: Conversation, rating: object, comment: str = "") -> None:
    """The customer's satisfaction score (1-5) and comment, once the chat is closed. Rating
    again replaces the earlier score."""
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ChatError(ERROR_RATING)
    if conversation.status != ConversationStatus.CLOSED:
        raise ChatError(ERROR_NOT_CLOSED)
    comment, _ = redact_pans(str(comment)[:2000])
    with transaction.atomic():
        Conversation.objects.filter(pk=conversation.pk).update(
            rating=rating, rating_comment=comment, rated_at=timezone.now()
        )
        ticket_add_entry(
            ticket=conversation.ticket,
            kind=EntryKind.CHAT_EVENT,
            body=f"Customer rated the chat {rating}/5" + (f": {comment}" if comment else "."),
            data={"conversation": conversation.pk, "rating": rating},
        )


def receipts_update(
    *, conversation_id: int, side: Sender, delivered: int = 0, read: int = 0
) -> dict[str, int]:
    """Record how far `side` has received and read the conversation (only ever forward, never
    past its last message); returns that side's marks."""
    prefix = "customer" if side == Sender.CUSTOMER else "agent"
    delivered = max(delivered, read)
    updates: dict[str, Any] = {}
    for name, value in ((f"{prefix}_delivered_seq", delivered), (f"{prefix}_read_seq", read)):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            updates[name] = Least(Greatest(F(name), value), F("last_seq"))
    if updates:
        Conversation.objects.filter(pk=conversation_id).update(**updates)
    marks = Conversation.objects.filter(pk=conversation_id).values(
        f"{prefix}_delivered_seq", f"{prefix}_read_seq"
    )[0]
    return {"delivered": marks[f"{prefix}_delivered_seq"], "read": marks[f"{prefix}_read_seq"]}


def messages_after(*, conversation: Conversation, seq: int, limit: int = 500) -> list[ChatMessage]:
    """What a reconnecting client missed: the messages after `seq`, in order."""
    return list(
        ChatMessage.objects.filter(conversation=conversation, seq__gt=max(seq, 0))
        .select_related("author", "attachment", "article")
        .order_by("seq")[:limit]
    )


def transcript_request(*, conversation: Conversation) -> str:
    """Email the customer the conversation so far, after commit; returns the address. Once per
    conversation every TRANSCRIPT_INTERVAL_S: nobody can make Paydesk mail an address at will."""
    from notifications.receivers import transcript_requested

    # Its creation time too: a database restored or recreated reuses numbers, the cache not.
    key = f"chat:transcript:{conversation.pk}:{conversation.created_at.timestamp()}"
    if not cache.add(key, 1, TRANSCRIPT_INTERVAL_S):
        raise ChatError(ERROR_TRANSCRIPT_AGAIN)
    entry = ticket_add_entry(
        ticket=conversation.ticket,
        kind=EntryKind.CHAT_EVENT,
        body="Customer asked for the transcript by email.",
        data={"conversation": conversation.pk},
    )
    transcript_requested(conversation=conversation, entry=entry)
    return Customer.objects.get(pk=conversation.customer_id).email
