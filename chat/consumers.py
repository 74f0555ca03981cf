"""The chat's websockets: the customer's widget (`ws/chat/`) and the agents' inbox
(`ws/chat/agent/`). Both speak JSON objects with a string "type".

Customer, client → server:
    {"type": "hello", "token": <signed identity>}            a customer the merchant vouches for
    {"type": "hello", "email": …, "name": …}                 anyone else (unverified)
        either may add "conversation": <id>, "key": <access key>, "after": <seq>, "language"
    {"type": "message", "client_id": <str ≤ 64>, "body": <str>, "attachment": <id>?}
    {"type": "resume", "after": <seq>}       everything stored after that sequence number
    {"type": "typing", "state": true|false}
    {"type": "receipt", "delivered": <seq>, "read": <seq>}
    {"type": "agent"}                        talk to a person (after an automatic answer)
    {"type": "close"} · {"type": "rate", "rating": 1-5, "comment": …} · {"type": "transcript"}
    {"type": "ping"}
Agent, client → server (each about one "conversation": <id>, but status and ping):
    open {"after"} · leave · message {"client_id", "body", "attachment"?} · typing {"state"} ·
    receipt {"delivered", "read"} · accept · transfer {"agent"? , "team"?} · close ·
    status {"status": "online"|"away"|"offline"} · ping
Server → client:
    welcome (customer) / hello (agent) · message {"message"} · ack {"client_id", "seq", "body",
    "card_number_masked", "conversation"} · nack {"client_id", "error", "message",
    "retry_after"?} · typing · receipt · conversation {"conversation"} · payments (customer) ·
    inbox {"conversation"} (agent) · error {"message"} · pong

A message is acknowledged only once stored: a client keeps what it sent until the ack, sends it
again with the same client id after a reconnect, and asks to resume after the last sequence
number it holds. The customer's socket is refused with a close code: CLOSE_BAD_HELLO,
CLOSE_BAD_TOKEN (the reason says what is wrong), CLOSE_NOT_YOURS, CLOSE_HELLO_TIMEOUT; the
agent's like the workspace's (4401 not signed in, 4403 not an agent).
"""

import asyncio
import json
import logging
import time
from collections import deque
from typing import Any

from channels.db import database_sync_to_async
from django.conf import settings
from django.utils import translation

from accounts.selectors import display_name
from chat import live, presence, services
from chat.identity import ChatIdentity, InvalidToken, email_checked, identity_token_verify
from chat.models import (
    AgentStatus,
    ChatMessage,
    Conversation,
    ConversationStatus,
    Sender,
)
from chat.payment_status import alternatives, payment_payload
from chat.selectors import conversation_get_for_agent, conversations_visible_to
from helpdesk.consumers import JsonWebsocketConsumer
from tickets.consumers import CLOSE_NOT_AGENT, CLOSE_NOT_SIGNED_IN, _may_use_the_desk
from tickets.models import Team
from tickets.selectors import agents_for, team_ids_heard_by
from tickets.services import default_team

logger = logging.getLogger(__name__)

CLOSE_BAD_HELLO = 4400
CLOSE_BAD_TOKEN = 4401
CLOSE_NOT_YOURS = 4403
CLOSE_HELLO_TIMEOUT = 4408
HELLO_TIMEOUT_S = 10

ERROR_MALFORMED = "Send a JSON object with a string 'type'."
ERROR_UNKNOWN_TYPE = "Unknown message type."
ERROR_CLIENT_ID = "Give each message a 'client_id' of 1 to 64 characters."
ERROR_TOO_LONG = "That message is too long (at most %d characters)."
ERROR_RATE = "Too many messages; wait a moment."
ERROR_NO_CONVERSATION = services.ERROR_GONE
ERROR_STATUS = "A status is 'online', 'away' or 'offline'."
ERROR_TRANSFER = "Transfer to an agent or a team you can see."

RATE_WINDOW_S = 60.0
ACCESS_RECHECK_S = 30.0
FRAMES_PER_MINUTE = 600


class _ChatConsumer(JsonWebsocketConsumer):
    """What both sides share: parsing, rate limits, posting, receipts and typing."""

    side: Sender

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sent_at: deque[float] = deque()
        self.frames_at: deque[float] = deque()
        self.groups_joined: set[str] = set()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        try:
            content = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):
            content = None
        kind = content.get("type") if isinstance(content, dict) else None
        if not isinstance(kind, str):
            await self._error(ERROR_MALFORMED)
            return
        handler = getattr(self, f"on_{kind}", None) if kind.isidentifier() else None
        if handler is None:
            await self._error(ERROR_UNKNOWN_TYPE)
            return
        await handler(content)

    async def on_ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def _error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})

    async def _join(self, group: str) -> None:
        if group not in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups_joined.add(group)

    async def _leave(self, group: str) -> None:
        if group in self.groups_joined:
            self.groups_joined.discard(group)
            await self.channel_layer.group_discard(group, self.channel_name)

    async def _leave_all(self) -> None:
        for group in list(self.groups_joined):
            await self._leave(group)

    def _flooding(self) -> bool:
        """More frames a minute than any person types (typing marks and receipts included):
        dropped, with one error now and then. Messages have their own, tighter limit."""
        now = time.monotonic()
        while self.frames_at and self.frames_at[0] <= now - RATE_WINDOW_S:
            self.frames_at.popleft()
        if len(self.frames_at) >= FRAMES_PER_MINUTE:
            return True
        self.frames_at.append(now)
        return False

    def _rate_limited(self) -> float:
        """Seconds to wait before another message may be sent, 0 when it may be now."""
        now = time.monotonic()
        while self.sent_at and self.sent_at[0] <= now - RATE_WINDOW_S:
            self.sent_at.popleft()
        if len(self.sent_at) >= settings.CHAT_MESSAGES_PER_MINUTE:
            return round(self.sent_at[0] + RATE_WINDOW_S - now, 1)
        self.sent_at.append(now)
        return 0.0

    async def _checked_message(self, content: dict[str, Any]) -> tuple[str, str] | None:
        """(client_id, body) of a message to store, or None after telling the client why not."""
        client_id = content.get("client_id")
        body = content.get("body", "")
        if not isinstance(client_id, str) or not 0 < len(client_id) <= 64:
            await self._error(ERROR_CLIENT_ID)
            return None
        if not isinstance(body, str):
            body = ""
        if len(body) > settings.CHAT_MAX_MESSAGE_CHARS:
            await self._nack(
                client_id, "too_long", ERROR_TOO_LONG % settings.CHAT_MAX_MESSAGE_CHARS
            )
            return None
        wait = self._rate_limited()
        if wait:
            await self._nack(client_id, "rate_limited", ERROR_RATE, retry_after=wait)
            return None
        return client_id, body

    async def _nack(self, client_id: str, error: str, message: str, **extra: Any) -> None:
        logger.info("Chat message refused (%s) on %s", error, self.channel_name)
        await self.send_json(
            {"type": "nack", "client_id": client_id, "error": error, "message": message, **extra}
        )

    async def _ack_and_broadcast(self, message: ChatMessage, caused: list[ChatMessage]) -> None:
        await self.send_json(
            {
                "type": "ack",
                "conversation": message.conversation_id,
                "client_id": message.client_id,
                "seq": message.seq,
                "body": message.body,
                "card_number_masked": message.card_number_masked,
            }
        )
        for new in caused:
            await self.channel_layer.group_send(
                live.conversation_group(new.conversation_id),
                {"type": live.CHAT_MESSAGE, "message": live.message_payload(new)},
            )

    async def _receipt(self, conversation_id: int, content: dict[str, Any]) -> None:
        marks = await database_sync_to_async(services.receipts_update)(
            conversation_id=conversation_id,
            side=self.side,
            delivered=_int(content.get("delivered")),
            read=_int(content.get("read")),
        )
        await self.channel_layer.group_send(
            live.conversation_group(conversation_id),
            {
                "type": live.CHAT_RECEIPT,
                "conversation": conversation_id,
                "side": self.side,
                **marks,
            },
        )

    async def _typing(self, conversation_id: int, content: dict[str, Any], name: str) -> None:
        await self.channel_layer.group_send(
            live.conversation_group(conversation_id),
            {
                "type": live.CHAT_TYPING,
                "conversation": conversation_id,
                "side": self.side,
                "name": name,
                "state": content.get("state") is True,
                "channel": self.channel_name,
            },
        )

    async def _send_messages(self, messages: list[ChatMessage]) -> None:
        for message in messages:
            await self.send_json({"type": "message", "message": live.message_payload(message)})

    # From the channel layer --------------------------------------------------------------------

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def chat_receipt(self, event: dict[str, Any]) -> None:
        if event["side"] != self.side:
            await self.send_json(
                {key: value for key, value in event.items() if key != "type"} | {"type": "receipt"}
            )

    async def chat_typing(self, event: dict[str, Any]) -> None:
        if event["side"] != self.side:
            await self.send_json(
                {
                    "type": "typing",
                    "conversation": event["conversation"],
                    "side": event["side"],
                    "name": event["name"] if event["side"] == Sender.AGENT else "",
                    "state": event["state"],
                }
            )


def _int(value: object) -> int:
    """A whole number from the client, 0 when it is none, never past what the database holds."""
    if isinstance(value, bool) or not isinstance(value, int):
        return 0
    return max(0, min(value, 2**31 - 1))


class CustomerChatConsumer(_ChatConsumer):
    side = Sender.CUSTOMER

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.identity: ChatIdentity | None = None
        self.conversation: Conversation | None = None
        self.language = "en"
        self.hello_timer: asyncio.TimerHandle | None = None

    async def connect(self) -> None:
        await self.accept()
        loop = asyncio.get_running_loop()
        self.hello_timer = loop.call_later(
            HELLO_TIMEOUT_S, lambda: asyncio.ensure_future(self._hello_timed_out())
        )

    async def _hello_timed_out(self) -> None:
        if self.identity is None:
            await self.close(code=CLOSE_HELLO_TIMEOUT, reason="Say hello first.")

    async def disconnect(self, code: int) -> None:
        if self.hello_timer is not None:
            self.hello_timer.cancel()
        await self._leave_all()

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.identity is None:
            await self._hello(text_data)
            return
        if self._flooding():
            return
        await super().receive(text_data, bytes_data)

    async def _hello(self, text_data: str | None) -> None:
        try:
            content = json.loads(text_data or "")
        except (ValueError, RecursionError):
            content = None
        if not isinstance(content, dict) or content.get("type") != "hello":
            await self.close(code=CLOSE_BAD_HELLO, reason="Send a hello first.")
            return
        language = content.get("language")
        languages = dict(settings.LANGUAGES)
        self.language = language if isinstance(language, str) and language in languages else "en"
        try:
            if content.get("token"):
                identity = identity_token_verify(content["token"])
            else:
                name = content.get("name")
                identity = ChatIdentity(
                    email=email_checked(content.get("email")),
                    name=name[:200] if isinstance(name, str) else "",
                )
        except InvalidToken as error:
            logger.warning("Chat hello refused: %s", error)
            await self.close(code=CLOSE_BAD_TOKEN, reason=str(error))
            return
        conversation = None
        if content.get("conversation") is not None:
            conversation = await database_sync_to_async(services.conversation_for_customer)(
                identity=identity,
                conversation_id=content.get("conversation"),
                access_key=content.get("key", ""),
            )
            if conversation is None:
                logger.warning("Chat hello for a conversation that is not theirs refused")
                await self.close(code=CLOSE_NOT_YOURS, reason=ERROR_NO_CONVERSATION)
                return
        self.identity = identity
        if identity.verified:
            await self._join(live.customer_group(identity.email))
        if conversation is not None:
            await self._follow(conversation)
        await self.send_json(await database_sync_to_async(self._welcome)())
        if conversation is not None:
            await self._resume(_int(content.get("after")))

    def _welcome(self) -> dict[str, Any]:
        with translation.override(self.language):
            return {
                "type": "welcome",
                "verified": self.identity.verified,
                "email": self.identity.email,
                "name": self.identity.name,
                "language": self.language,
                "payments": [payment_payload(p) for p in services.recent_payments(self.identity)],
                "alternatives": alternatives(),
                "agents_online": presence.team_available(default_team()),
                "conversation": _conversation_for_customer(self.conversation),
            }

    async def _follow(self, conversation: Conversation) -> None:
        if self.conversation is not None:
            await self._leave(live.conversation_group(self.conversation.pk))
        self.conversation = conversation
        await self._join(live.conversation_group(conversation.pk))

    async def _resume(self, after: int) -> None:
        messages = await database_sync_to_async(services.messages_after)(
            conversation=self.conversation, seq=after
        )
        await self._send_messages(messages)

    async def on_resume(self, content: dict[str, Any]) -> None:
        if self.conversation is None:
            await self._error(ERROR_NO_CONVERSATION)
            return
        await self._resume(_int(content.get("after")))

    async def on_message(self, content: dict[str, Any]) -> None:
        checked = await self._checked_message(content)
        if checked is None:
            return
        client_id, body = checked
        result = await database_sync_to_async(self._store_message)(
            client_id, body, content.get("attachment")
        )
        if isinstance(result, str):
            await self._nack(client_id, "refused", result)
            return
        message, caused, conversation, started = result
        if started:
            await self._follow(conversation)
            await self.send_json({"type": "conversation", "conversation": started})
        await self._ack_and_broadcast(message, caused)

    def _store_message(self, client_id: str, body: str, attachment_id: object):
        if not body.strip() and attachment_id is None:
            return services.ERROR_EMPTY
        try:
            if self.conversation is not None:
                try:
                    message, caused = services.customer_message_receive(
                        conversation=self.conversation,
                        body=body,
                        client_id=client_id,
                        attachment_id=attachment_id,
                    )
                    return message, caused, self.conversation, None
                except services.ConversationClosed:
                    pass  # closed since: this message starts a new conversation
            conversation, key = services.conversation_of_resent_first_message(
                identity=self.identity, client_id=client_id
            ) or services.conversation_start(identity=self.identity, language=self.language)
            message, caused = services.customer_message_receive(
                conversation=conversation,
                body=body,
                client_id=client_id,
                attachment_id=attachment_id,
            )
        except services.ChatError as error:
            return str(error)
        # A new conversation: the widget keeps its id and key, to come back to it.
        return (
            message,
            caused,
            conversation,
            {**_conversation_for_customer(conversation), "key": key},
        )

    async def on_typing(self, content: dict[str, Any]) -> None:
        if self.conversation is not None:
            await self._typing(self.conversation.pk, content, "")

    async def on_receipt(self, content: dict[str, Any]) -> None:
        if self.conversation is not None:
            await self._receipt(self.conversation.pk, content)

    async def on_agent(self, content: dict[str, Any]) -> None:
        if self.conversation is None:
            await self._error(ERROR_NO_CONVERSATION)
            return
        await database_sync_to_async(services.conversation_request_agent)(
            conversation=self.conversation
        )

    async def on_close(self, content: dict[str, Any]) -> None:
        if self.conversation is not None:
            await database_sync_to_async(services.conversation_close)(
                conversation=self.conversation, actor=None
            )

    async def on_rate(self, content: dict[str, Any]) -> None:
        if self.conversation is None:
            await self._error(ERROR_NO_CONVERSATION)
            return
        try:
            await database_sync_to_async(self._rate)(content)
        except services.ChatError as error:
            await self._error(str(error))
            return
        await self.send_json({"type": "rated", "rating": content.get("rating")})

    def _rate(self, content: dict[str, Any]) -> None:
        self.conversation.refresh_from_db()
        comment = content.get("comment", "")
        services.conversation_rate(
            conversation=self.conversation,
            rating=content.get("rating"),
            comment=comment if isinstance(comment, str) else "",
        )

    async def on_transcript(self, content: dict[str, Any]) -> None:
        if self.conversation is None:
            await self._error(ERROR_NO_CONVERSATION)
            return
        try:
            email = await database_sync_to_async(services.transcript_request)(
                conversation=self.conversation
            )
        except services.ChatError as error:
            await self._error(str(error))
            return
        await self.send_json({"type": "transcript", "email": email})

    # From the channel layer --------------------------------------------------------------------

    async def chat_conversation(self, event: dict[str, Any]) -> None:
        if self.conversation is None or event["conversation"] != self.conversation.pk:
            return
        await database_sync_to_async(self.conversation.refresh_from_db)()
        await self.send_json(
            {
                "type": "conversation",
                "conversation": await database_sync_to_async(_conversation_for_customer)(
                    self.conversation
                ),
            }
        )

    async def chat_payments(self, event: dict[str, Any]) -> None:
        await self.send_json(await database_sync_to_async(self._payments)())

    def _payments(self) -> dict[str, Any]:
        with translation.override(self.language):
            return {
                "type": "payments",
                "payments": [payment_payload(p) for p in services.recent_payments(self.identity)],
            }


def _conversation_for_customer(conversation: Conversation | None) -> dict[str, Any] | None:
    """What the customer may know of their conversation (no ticket internals)."""
    if conversation is None:
        return None
    return {
        "id": conversation.pk,
        "status": conversation.status,
        "last_seq": conversation.last_seq,
        "agent": live.agent_payload(conversation.assignee),
        "agent_delivered": conversation.agent_delivered_seq,
        "agent_read": conversation.agent_read_seq,
        "rating": conversation.rating,
    }


class AgentChatConsumer(_ChatConsumer):
    side = Sender.AGENT

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: Any = None
        # The conversations open in this agent's inbox, and when their access was last checked.
        self.open_conversations: dict[int, float] = {}
        self.refresher: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await database_sync_to_async(_may_use_the_desk)(user):
            await self.accept()
            signed_in = user is not None and user.is_authenticated
            await self.close(code=CLOSE_NOT_AGENT if signed_in else CLOSE_NOT_SIGNED_IN)
            return
        self.user = user
        for team_id in await database_sync_to_async(team_ids_heard_by)(user):
            await self._join(live.inbox_group(team_id))
        await self._join(live.agent_group(user.pk))
        await database_sync_to_async(presence.connection_open)(
            user=user, channel_name=self.channel_name
        )
        await self.accept()
        self.refresher = asyncio.create_task(self._refresh_connection())
        status = await database_sync_to_async(presence.agent_status)(user)
        await self.send_json({"type": "hello", "status": status})

    async def disconnect(self, code: int) -> None:
        if self.refresher is not None:
            self.refresher.cancel()
        if self.user is not None:
            await database_sync_to_async(presence.connection_close)(channel_name=self.channel_name)
        await self._leave_all()

    async def _refresh_connection(self) -> None:
        while True:
            await asyncio.sleep(presence.CONNECTION_REFRESH_S)
            try:
                await database_sync_to_async(presence.connection_refresh)(
                    channel_name=self.channel_name
                )
            except Exception:
                logger.warning("Could not refresh chat connection %s", self.channel_name)

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.user is not None:
            await super().receive(text_data, bytes_data)

    async def _conversation(self, content: dict[str, Any]) -> Conversation | None:
        conversation = await database_sync_to_async(_conversation_for_agent)(
            self.user, content.get("conversation")
        )
        if conversation is None:
            await self._error(ERROR_NO_CONVERSATION)
        return conversation

    async def on_status(self, content: dict[str, Any]) -> None:
        status = content.get("status")
        if status not in AgentStatus.values:
            await self._error(ERROR_STATUS)
            return
        await database_sync_to_async(presence.agent_status_set)(user=self.user, status=status)
        await self.send_json({"type": "status", "status": status})

    async def on_open(self, content: dict[str, Any]) -> None:
        conversation = await self._conversation(content)
        if conversation is None:
            return
        await self._join(live.conversation_group(conversation.pk))
        self.open_conversations[conversation.pk] = time.monotonic()
        await self.send_json(
            {"type": "conversation", "conversation": await self._details(conversation)}
        )
        messages = await database_sync_to_async(services.messages_after)(
            conversation=conversation, seq=_int(content.get("after"))
        )
        await self._send_messages(messages)

    async def on_leave(self, content: dict[str, Any]) -> None:
        conversation_id = _int(content.get("conversation"))
        self.open_conversations.pop(conversation_id, None)
        await self._leave(live.conversation_group(conversation_id))

    async def _open_conversation_id(self, content: dict[str, Any]) -> int | None:
        """The conversation a message, typing mark or receipt is about, when the agent may see
        it. These come many a minute: for an open conversation the check (a query) is
        redone at most every ACCESS_RECHECK_S, and at once when it is transferred or closed."""
        conversation_id = content.get("conversation")
        checked_at = (
            self.open_conversations.get(conversation_id)
            if isinstance(conversation_id, int) and not isinstance(conversation_id, bool)
            else None
        )
        if checked_at is not None and time.monotonic() - checked_at < ACCESS_RECHECK_S:
            return conversation_id
        if not await database_sync_to_async(_agent_may_see)(self.user, conversation_id):
            await self._error(ERROR_NO_CONVERSATION)
            if checked_at is not None:
                await self._forget(conversation_id)
            return None
        if checked_at is not None:
            self.open_conversations[conversation_id] = time.monotonic()
        return conversation_id

    async def _forget(self, conversation_id: int) -> None:
        self.open_conversations.pop(conversation_id, None)
        await self._leave(live.conversation_group(conversation_id))
        await self.send_json({"type": "gone", "conversation": conversation_id})

    async def on_message(self, content: dict[str, Any]) -> None:
        conversation_id = await self._open_conversation_id(content)
        if conversation_id is None:
            return
        checked = await self._checked_message(content)
        if checked is None:
            return
        client_id, body = checked
        result = await database_sync_to_async(self._store_message)(
            conversation_id, client_id, body, content.get("attachment")
        )
        if isinstance(result, str):
            await self._nack(client_id, "refused", result)
            return
        message, created = result
        await self._ack_and_broadcast(message, [message] if created else [])

    def _store_message(
        self, conversation_id: int, client_id: str, body: str, attachment_id: object
    ):
        try:
            return services.agent_message_post(
                conversation_id=conversation_id,
                agent=self.user,
                body=body,
                client_id=client_id,
                attachment_id=attachment_id,
            )
        except services.ChatError as error:
            return str(error)

    async def on_typing(self, content: dict[str, Any]) -> None:
        conversation_id = await self._open_conversation_id(content)
        if conversation_id is not None:
            await self._typing(conversation_id, content, display_name(self.user))

    async def on_receipt(self, content: dict[str, Any]) -> None:
        conversation_id = await self._open_conversation_id(content)
        if conversation_id is not None:
            await self._receipt(conversation_id, content)

    async def on_accept(self, content: dict[str, Any]) -> None:
        await self._act(
            content, lambda c: services.conversation_accept(conversation=c, agent=self.user)
        )

    async def on_close(self, content: dict[str, Any]) -> None:
        await self._act(
            content, lambda c: services.conversation_close(conversation=c, actor=self.user)
        )

    async def on_transfer(self, content: dict[str, Any]) -> None:
        def transfer(conversation: Conversation) -> None:
            agent = team = None
            if content.get("agent") is not None:
                agent = (
                    agents_for(user=self.user, team=conversation.team)
                    .filter(pk=_int(content["agent"]))
                    .first()
                )
            if content.get("team") is not None:
                team = Team.objects.filter(pk=_int(content["team"])).first()
            if agent is None and team is None:
                raise services.ChatError(ERROR_TRANSFER)
            services.conversation_transfer(
                conversation=conversation, actor=self.user, agent=agent, team=team
            )

        await self._act(content, transfer)

    async def _act(self, content: dict[str, Any], action) -> None:
        conversation = await self._conversation(content)
        if conversation is None:
            return
        try:
            await database_sync_to_async(action)(conversation)
        except (services.ChatError, services.AssignmentError) as error:
            await self._error(str(error))

    async def _details(self, conversation: Conversation) -> dict[str, Any]:
        return await database_sync_to_async(_conversation_for_agents)(conversation)

    # From the channel layer --------------------------------------------------------------------

    async def chat_conversation(self, event: dict[str, Any]) -> None:
        conversation_id = event["conversation"]
        if conversation_id not in self.open_conversations:
            return
        conversation = await database_sync_to_async(_conversation_for_agent)(
            self.user, conversation_id
        )
        if conversation is None:  # handed to a team this agent is not on
            await self._forget(conversation_id)
            return
        self.open_conversations[conversation_id] = time.monotonic()
        await self.send_json(
            {"type": "conversation", "conversation": await self._details(conversation)}
        )

    async def chat_inbox(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "inbox", "conversation": event["conversation"]})


def _conversation_for_agent(user: Any, conversation_id: object) -> Conversation | None:
    """The conversation, when its ticket is one the agent may see."""
    if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
        return None
    return conversation_get_for_agent(user=user, pk=conversation_id)


def _agent_may_see(user: Any, conversation_id: object) -> bool:
    """Whether the conversation is on a ticket the agent may see (one query, for rechecks)."""
    if isinstance(conversation_id, bool) or not isinstance(conversation_id, int):
        return False
    return conversations_visible_to(user).filter(pk=conversation_id).exists()


def _conversation_for_agents(conversation: Conversation) -> dict[str, Any]:
    customer = conversation.customer
    return {
        "id": conversation.pk,
        "ticket": conversation.ticket_id,
        "status": conversation.status,
        "status_label": str(ConversationStatus(conversation.status).label),
        "verified": conversation.verified,
        "customer": {"name": customer.name, "email": customer.email},
        "team": {"id": conversation.team_id, "name": conversation.team.name},
        "assignee": (
            {"id": conversation.assignee_id, **live.agent_payload(conversation.assignee)}
            if conversation.assignee_id
            else None
        ),
        "last_seq": conversation.last_seq,
        "customer_delivered": conversation.customer_delivered_seq,
        "customer_read": conversation.customer_read_seq,
        "rating": conversation.rating,
        "rating_comment": conversation.rating_comment,
    }
