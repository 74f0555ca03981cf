"""Live updates for the workspace: after a ticket changes, tell the agents who are looking.

Messages go, after the transaction commits, to the channel-layer group of each team the ticket
belongs to (the queue pages) and to the group of the ticket itself (the ticket pages). The
group names live here so the consumer (tickets/consumers.py) and the tests use the same ones.

A notice carries only the ticket id and what changed, never ticket content: a page that hears
it fetches what it shows through the views, which check access as usual.
"""

import asyncio
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

_loop: asyncio.AbstractEventLoop | None = None
_loop_pid: int | None = None
_loop_lock = threading.Lock()


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
    """Send from synchronous code (a view, a task). Never raises: it logs."""
    try:
        layer = get_channel_layer()
        if layer is None:
            return
        if isinstance(layer, InMemoryChannelLayer):
            # One process (the embedded setup): hop onto the loop the consumers run on.
            async_to_sync(_send_to_groups)(layer, groups, message)
        else:
            # From a worker thread async_to_sync would start an event loop per notice, and
            # channels-redis a connection per loop (4-5 ms a notice, on every webhook): a
            # process keeps one loop, and so its connections, for all its notices.
            sending = asyncio.run_coroutine_threadsafe(
                _send_to_groups(layer, groups, message), _notice_loop()
            )
            try:
                sending.result(timeout=SEND_TIMEOUT_S)
            except TimeoutError:
                # A Redis that accepts connections and never answers: stop waiting in the loop
                # too, or every later notice would pile up behind this one.
                sending.cancel()
                raise
    except Exception:
        logger.exception("Could not send %r to %s", message.get("type"), groups)


async def _send_to_groups(layer, groups: list[str], message: dict) -> None:
    for group in groups:
        await layer.group_send(group, message)


def _notice_loop() -> asyncio.AbstractEventLoop:
    """This process's event loop for sending notices, in a thread of its own, started on first
    use (and again in a forked child, which inherits the loop but not its thread)."""
    global _loop, _loop_pid
    with _loop_lock:
        if _loop is None or _loop_pid != os.getpid():
            _loop, _loop_pid = asyncio.new_event_loop(), os.getpid()
            threading.Thread(target=_loop.run_forever, name="live-notices", daemon=True).start()
        return _loop
