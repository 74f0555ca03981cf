"""Live updates for the workspace: after a ticket changes, tell the agents who are looking.

Messages go, after the transaction commits, to the channel-layer group of each team the ticket
belongs to (the queue pages) and to the group of the ticket itself (the ticket pages). The
group names live here so the consumer (tickets/consumers.py) and the tests use the same ones.

A notice carries only the ticket id and what changed, never ticket content: a page that hears
it fetches what it shows through the views, which check access as usual.
"""

import asyncio
import atexit
import logging
import os
import threading
import uuid
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

TICKET_CHANGED = "ticket.changed"
SEND_TIMEOUT_S = 5
MAX_UNSENT_NOTICES = 10_000


def team_group(team_id: int) -> str:
    """The group of the agents who work a team's queue (and of every admin)."""
    return f"desk.team.{team_id}"


def ticket_group(ticket_id: int) -> str:
    """The group of the agents who have a ticket open."""
    return f"desk.ticket.{ticket_id}"


def user_group(user_id: int) -> str:
    """Every workspace tab of one agent: their own notifications."""
    return f"desk.user.{user_id}"


def ticket_changed(*, ticket_id: int, team_ids: tuple[int, ...], change: str) -> None:
    """Announce on commit that ticket `ticket_id` changed. `change` is the kind of the timeline
    entry that recorded it ("ticket_created", "status_change", …), or "handed_off" for the team
    that let the ticket go to another; `team_ids` are the teams whose queues should hear of it.

    Never raises: live updates are a convenience, and a broken channel layer must not fail the
    webhook or the reply that changed the ticket.
    """
    # A plain str: an EntryKind would reach msgpack (channels-redis) as an enum.
    transaction.on_commit(partial(_send, ticket_id, tuple(team_ids), str(change)))


def _send(ticket_id: int, team_ids: tuple[int, ...], change: str) -> None:
    # One id for every copy: an agent in both a team group and the ticket group gets the notice
    # twice, and the consumer passes it on once.
    message = {
        "type": TICKET_CHANGED,
        "id": uuid.uuid4().hex,
        "ticket": ticket_id,
        "change": change,
    }
    groups = [
        *(team_group(team_id) for team_id in dict.fromkeys(team_ids)),
        ticket_group(ticket_id),
    ]
    send_to_groups(groups, message)


def announce_on_commit(groups: list[str], message: dict) -> None:
    """Send `message` to each group once the transaction commits (at once outside one)."""
    transaction.on_commit(partial(send_to_groups, list(groups), message))


def send_to_groups(groups: list[str], message: dict) -> None:
    """Send from synchronous code (a view, a task, a consumer's database call) without waiting
    for the channel layer. Never raises: it logs."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            # One process (the embedded setup): hop onto the loop the consumers run on.
            async_to_sync(_send_to_groups)(layer, groups, message)
        else:
            _notice_sender().put(layer, groups, message)
    except Exception:
        logger.exception("Could not send %r to %s", message.get("type"), groups)


async def _send_to_groups(layer, groups: list[str], message: dict) -> None:
    for group in groups:
        await layer.group_send(group, message)


class _NoticeSender:
    """This process's sender of notices: an event loop in a thread of its own that sends them
    one at a time, in the order they were given.

    From a worker thread async_to_sync would start an event loop per notice, and channels-redis
    a connection per loop (4-5 ms a notice, on every webhook): one loop keeps its connections
    for all the process's notices. The caller does not wait for Redis: a chat consumer's
    database thread, which every socket of the process queues for, goes on to the next message.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = _new_event_loop()
        self.queue: asyncio.Queue = asyncio.Queue(maxsize=MAX_UNSENT_NOTICES)
        threading.Thread(target=self.loop.run_forever, name="live-notices", daemon=True).start()
        asyncio.run_coroutine_threadsafe(self._send_all(), self.loop)
        atexit.register(self.flush)

    def put(self, layer, groups: list[str], message: dict) -> None:
        self.loop.call_soon_threadsafe(self._enqueue, (layer, groups, message))

    def _enqueue(self, notice: tuple) -> None:
        try:
            self.queue.put_nowait(notice)
        except asyncio.QueueFull:
            # A channel layer that has stopped answering: what cannot be sent is let go.
            logger.error(
                "Could not send %r to %s: too many unsent", notice[2].get("type"), notice[1]
            )

    async def _send_all(self) -> None:
        while True:
            layer, groups, message = await self.queue.get()
            try:
                # A Redis that accepts connections and never answers: give up on this notice,
                # or every later one would wait behind it.
                await asyncio.wait_for(_send_to_groups(layer, groups, message), SEND_TIMEOUT_S)
            except Exception:
                logger.exception("Could not send %r to %s", message.get("type"), groups)
            finally:
                self.queue.task_done()

    def flush(self, timeout: float = 2) -> bool:
        """Wait up to `timeout` seconds for every notice given to be sent (or given up on):
        a command's last notices, at its exit. Whether they all were."""
        if os.getpid() != self.pid or not self.loop.is_running():
            return False
        joined = asyncio.run_coroutine_threadsafe(self.queue.join(), self.loop)
        try:
            joined.result(timeout)
        except TimeoutError:
            joined.cancel()
            logger.warning("%s live notices still unsent", self.queue.qsize())
            return False
        return True


def _new_event_loop() -> asyncio.AbstractEventLoop:
    # uvloop (which uvicorn brings) where there is one: about 15% less CPU a notice here.
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


_sender: _NoticeSender | None = None
_sender_lock = threading.Lock()


def _notice_sender() -> _NoticeSender:
    """This process's notice sender, started on first use (and again in a forked child, which
    inherits the sender but not its thread)."""
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():
            _sender = _NoticeSender()
        return _sender
