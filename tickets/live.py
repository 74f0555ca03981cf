"""Live updates for the workspace: after a ticket changes, tell the agents who are looking.

Messages go, after the transaction commits, to the channel-layer group of each team the ticket
belongs to (the queue pages) and to the group of the ticket itself (the ticket pages). The
group names live here so the consumer (tickets/consumers.py) and the tests use the same ones.

A notice carries only the ticket id and what changed, never ticket content: a page that hears
it fetches what it shows through the views, which check access as usual.
"""

import logging
import uuid
from functools import partial

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

logger = logging.getLogger(__name__)

TICKET_CHANGED = "ticket.changed"


def team_group(team_id: int) -> str:
    """The group of the agents who work a team's queue (and of every admin)."""
    return f"desk.team.{team_id}"


def ticket_group(ticket_id: int) -> str:
    """The group of the agents who have a ticket open."""
    return f"desk.ticket.{ticket_id}"


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
    try:
        layer = get_channel_layer()
        if layer is not None:
            # One trip into async for all the groups: each async_to_sync call from a worker
            # thread costs an event loop and, with channels-redis, a connection.
            async_to_sync(_send_to_groups)(layer, groups, message)
    except Exception:
        logger.exception("Could not announce change %r of ticket %s", change, ticket_id)


async def _send_to_groups(layer, groups: list[str], message: dict) -> None:
    for group in groups:
        await layer.group_send(group, message)
