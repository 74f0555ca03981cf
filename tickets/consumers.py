"""The workspace's websocket (`ws/desk/`): queue and ticket pages hear when tickets change, and
agents who have the same ticket open see each other, so two of them do not answer one customer.

Client → server (JSON objects):
    {"type": "watch", "ticket": <id>}     open a ticket: hear its changes and its viewers
    {"type": "unwatch"}                   leave it
    {"type": "activity", "state": "viewing" | "replying"}   on the watched ticket
    {"type": "ping"}                      answered with {"type": "pong"}
    {"type": "unread"}                    answered with a "notification" message: the bell's
                                          count, for a page that may have missed notices
Server → client:
    {"type": "ticket.changed", "ticket": <id>, "change": <entry kind or "handed_off">}
        for every ticket of the agent's teams (every ticket for admins) and the watched one
    {"type": "watching", "ticket": <id> | null}     a watch or unwatch took effect
    {"type": "presence", "ticket": <id>, "viewers": [{"id", "name", "state"}, …]}
        who has the watched ticket open, the agent included, one entry per person ("replying"
        wins over "viewing" when they have it open twice); sent whenever that list changes
    {"type": "notification", "unread": <count>, "notification": <id> | null}
        a notification for the agent arrived (or some were read): the bell's unread count
    {"type": "error", "message": <one of the ERROR_ constants>}
A refused connection is accepted and closed at once with CLOSE_NOT_SIGNED_IN or CLOSE_NOT_AGENT,
so the page can tell a refusal (stop retrying) from a network failure (retry).

Presence is kept by the consumers themselves, over the channel layer; nothing is stored. Each
consumer watching a ticket holds the roster of that ticket's viewers, one entry per connection:
- on watch it joins the ticket's group, puts itself on its own roster, then announces itself
  there asking for replies; every consumer in the group adds it and answers straight to its
  channel, so the newcomer learns who was there. Of two agents who open the ticket at the same
  moment, at least one joins the group before the other announces, hears that announcement and
  answers it: both learn of each other (on Redis pub/sub a join takes effect a moment after
  the call returns; should both announcements fall in that moment, the next refresh mends it);
- a change of activity is announced to the group, and leaving (unwatch, another ticket,
  disconnect) sends a leave;
- every PRESENCE_REFRESH_S each consumer announces itself again and drops the entries it has
  not heard from for PRESENCE_TTL_S: a viewer whose server process died without a goodbye
  disappears after that time.
This works across server processes with channels-redis without shared mutable state, so there is
no read-modify-write race to lock against (the Django cache has no atomic update of a roster),
and it needs no client heartbeat: browsers throttle the timers of background tabs, a consumer's
timer keeps running. Dead browsers are noticed by the websocket server's pings, which disconnect
them, and the disconnect sends the leave.
"""

import asyncio
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async

from accounts.selectors import display_name, two_factor_setup_required
from helpdesk.consumers import JsonWebsocketConsumer
from notifications.services import unread_count
from tickets.live import team_group, ticket_group, user_group
from tickets.models import EntryKind
from tickets.permissions import is_agent
from tickets.selectors import team_ids_heard_by, ticket_get_for_agent

logger = logging.getLogger(__name__)

CLOSE_NOT_SIGNED_IN = 4401
CLOSE_NOT_AGENT = 4403

ERROR_MALFORMED = "Send a JSON object with a string 'type'."
ERROR_UNKNOWN_TYPE = "Unknown message type."
ERROR_NO_TICKET = "There is no such ticket, or it is not one you may see."
ERROR_NOT_WATCHING = "Watch a ticket first."
ERROR_ACTIVITY_STATE = "The state of an activity is 'viewing' or 'replying'."

VIEWING = "viewing"
REPLYING = "replying"
ACTIVITY_STATES = (VIEWING, REPLYING)

PRESENCE_REFRESH_S = 30.0
# Three refreshes may be missed (a busy layer, a slow process) before a viewer is dropped.
PRESENCE_TTL_S = 3 * PRESENCE_REFRESH_S + 5

_MAX_ID = 2**63 - 1


@dataclass
class _Viewer:
    user_id: int
    name: str
    state: str
    seen_at: float


class DeskConsumer(JsonWebsocketConsumer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user: Any = None
        self.team_groups: list[str] = []
        self.watched: int | None = None
        self.activity = VIEWING
        self.viewers: dict[str, _Viewer] = {}  # channel name → viewer, of the watched ticket
        self.presence_sent: list[dict[str, Any]] | None = None
        self.notices_seen: deque[str] = deque(maxlen=100)
        self.refresher: asyncio.Task | None = None

    async def connect(self) -> None:
        user = self.scope.get("user")
        if not await database_sync_to_async(_may_use_the_desk)(user):
            # Accept, then close with a code: a browser sees a refusal before the handshake
            # only as a failed connection, and would keep retrying.
            await self.accept()
            signed_in = user is not None and user.is_authenticated
            await self.close(code=CLOSE_NOT_AGENT if signed_in else CLOSE_NOT_SIGNED_IN)
            return
        self.user = user
        team_ids = await database_sync_to_async(team_ids_heard_by)(user)
        self.team_groups = [team_group(team_id) for team_id in team_ids] + [user_group(user.pk)]
        for group in self.team_groups:
            await self.channel_layer.group_add(group, self.channel_name)
        # Accepted only once in the groups: a page that sees the socket open misses no change.
        await self.accept()
        self.refresher = asyncio.create_task(self._tick_presence())

    async def disconnect(self, code: int) -> None:
        if self.refresher is not None:
            self.refresher.cancel()
        for group in self.team_groups:
            await self.channel_layer.group_discard(group, self.channel_name)
        await self._leave_ticket()

    # From the browser --------------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.user is None:  # refused, and closing
            return
        try:
            content = json.loads(text_data) if text_data is not None else None
        except (ValueError, RecursionError):  # not JSON, or nested deeper than Python goes
            content = None
        kind = content.get("type") if isinstance(content, dict) else None
        if not isinstance(kind, str):
            await self._error(ERROR_MALFORMED)
            return
        handler = {
            "watch": self._watch,
            "unwatch": self._unwatch,
            "activity": self._activity,
            "ping": self._ping,
            "unread": self._unread,
        }.get(kind)
        if handler is None:
            await self._error(ERROR_UNKNOWN_TYPE)
            return
        await handler(content)

    async def _watch(self, content: dict[str, Any]) -> None:
        ticket_id = content.get("ticket")
        if isinstance(ticket_id, bool) or not isinstance(ticket_id, int):
            await self._error(ERROR_NO_TICKET)
            return
        if not 0 < ticket_id <= _MAX_ID or not await self._may_see(ticket_id):
            await self._error(ERROR_NO_TICKET)
            return
        if ticket_id == self.watched:
            self.presence_sent = None
            await self.send_json({"type": "watching", "ticket": ticket_id})
            await self._send_presence()
            return
        await self._leave_ticket()
        self.watched = ticket_id
        self.activity = VIEWING
        await self.channel_layer.group_add(ticket_group(ticket_id), self.channel_name)
        await self.send_json({"type": "watching", "ticket": ticket_id})
        await self._see_myself()
        await self._announce(want_replies=True)

    async def _unwatch(self, content: dict[str, Any]) -> None:
        await self._leave_ticket()
        await self.send_json({"type": "watching", "ticket": None})

    async def _activity(self, content: dict[str, Any]) -> None:
        state = content.get("state")
        if not isinstance(state, str) or state not in ACTIVITY_STATES:
            await self._error(ERROR_ACTIVITY_STATE)
            return
        if self.watched is None:
            await self._error(ERROR_NOT_WATCHING)
            return
        if state != self.activity:
            self.activity = state
            await self._see_myself()
            await self._announce()

    async def _ping(self, content: dict[str, Any]) -> None:
        await self.send_json({"type": "pong"})

    async def _unread(self, content: dict[str, Any]) -> None:
        unread = await database_sync_to_async(unread_count)(self.user)
        await self.send_json({"type": "notification", "unread": unread, "notification": None})

    async def _error(self, message: str) -> None:
        await self.send_json({"type": "error", "message": message})

    # From the channel layer --------------------------------------------------------------------

    async def ticket_changed(self, event: dict[str, Any]) -> None:
        if event["id"] in self.notices_seen:
            return
        self.notices_seen.append(event["id"])
        ticket_id = event["ticket"]
        await self.send_json(
            {"type": "ticket.changed", "ticket": ticket_id, "change": event["change"]}
        )
        # A ticket handed to a team the agent is not on is no longer theirs to follow.
        if (
            ticket_id == self.watched
            and event["change"] == EntryKind.TEAM_CHANGE
            and not await self._may_see(ticket_id)
        ):
            await self._unwatch({})

    async def notification_notice(self, event: dict[str, Any]) -> None:
        """A notification for this agent (notifications/channels.py): the bell's new count."""
        await self.send_json(
            {
                "type": "notification",
                "unread": event["unread"],
                "notification": event["notification"],
            }
        )

    async def presence_announce(self, event: dict[str, Any]) -> None:
        if event["ticket"] != self.watched:
            return  # meant for a ticket this consumer has left since
        channel = event["channel"]
        self.viewers[channel] = _Viewer(
            user_id=event["user"],
            name=event["name"],
            state=event["state"],
            seen_at=time.monotonic(),
        )
        if event["want_replies"] and channel != self.channel_name:
            await self._announce(to_channel=channel)
        await self._send_presence()

    async def presence_leave(self, event: dict[str, Any]) -> None:
        if event["ticket"] == self.watched and self.viewers.pop(event["channel"], None):
            await self._send_presence()

    async def presence_tick(self, event: dict[str, Any]) -> None:
        if self.watched is None:
            return
        await self._announce()
        cutoff = time.monotonic() - PRESENCE_TTL_S
        for channel, viewer in list(self.viewers.items()):
            if viewer.seen_at < cutoff and channel != self.channel_name:
                del self.viewers[channel]
        await self._send_presence()

    # Presence ----------------------------------------------------------------------------------

    async def _see_myself(self) -> None:
        """Put this connection on its own roster without waiting to hear its announcement: on
        Redis pub/sub a group just joined may not be subscribed yet when the announcement is
        published, and the consumer would not see itself until the next refresh."""
        self.viewers[self.channel_name] = _Viewer(
            user_id=self.user.pk,
            name=self._display_name(),
            state=self.activity,
            seen_at=time.monotonic(),
        )
        await self._send_presence()

    def _display_name(self) -> str:
        return display_name(self.user)

    async def _announce(self, *, want_replies: bool = False, to_channel: str = "") -> None:
        """Tell the watched ticket's group (or only the newcomer `to_channel`) who is here."""
        message = {
            "type": "presence.announce",
            "ticket": self.watched,
            "channel": self.channel_name,
            "user": self.user.pk,
            "name": self._display_name(),
            "state": self.activity,
            "want_replies": want_replies,
        }
        if to_channel:
            await self.channel_layer.send(to_channel, message)
        else:
            await self.channel_layer.group_send(ticket_group(self.watched), message)

    async def _leave_ticket(self) -> None:
        if self.watched is None:
            return
        group = ticket_group(self.watched)
        await self.channel_layer.group_discard(group, self.channel_name)
        await self.channel_layer.group_send(
            group, {"type": "presence.leave", "ticket": self.watched, "channel": self.channel_name}
        )
        self.watched = None
        self.viewers = {}
        self.presence_sent = None

    async def _send_presence(self) -> None:
        """Send the watched ticket's viewers, one per person, if they changed since last sent."""
        people: dict[int, _Viewer] = {}
        for viewer in self.viewers.values():
            if viewer.user_id not in people or viewer.state == REPLYING:
                people[viewer.user_id] = viewer
        viewers = [
            {"id": viewer.user_id, "name": viewer.name, "state": viewer.state}
            for viewer in sorted(people.values(), key=lambda v: (v.name.lower(), v.user_id))
        ]
        if viewers == self.presence_sent:
            return
        self.presence_sent = viewers
        await self.send_json({"type": "presence", "ticket": self.watched, "viewers": viewers})

    async def _tick_presence(self) -> None:
        # The tick goes through the consumer's own channel, so that the refresh runs between
        # the consumer's other messages, never interleaved with them.
        while True:
            await asyncio.sleep(PRESENCE_REFRESH_S)
            try:
                await self.channel_layer.send(self.channel_name, {"type": "presence.tick"})
            except Exception:
                logger.warning("Could not refresh presence of %s", self.channel_name, exc_info=True)

    async def _may_see(self, ticket_id: int) -> bool:
        ticket = await database_sync_to_async(ticket_get_for_agent)(
            user=self.user, pk=ticket_id, details=False
        )
        return ticket is not None


def _may_use_the_desk(user) -> bool:
    """An agent, and one the two-factor policy lets into the workspace (pages redirect such a
    user to the setup; the socket refuses them)."""
    return is_agent(user) and not two_factor_setup_required(user)
