"""What every websocket consumer of Paydesk shares."""

from typing import Any

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncJsonWebsocketConsumer


class JsonWebsocketConsumer(AsyncJsonWebsocketConsumer):
    """Channels' asynchronous JSON consumer, dispatching each event straight to its handler.

    Channels closes stale database connections before every handler it calls, on the one
    thread a process runs its database calls on: each frame and each channel-layer event (a
    chat message to pass on, an inbox notice) waited there behind every other socket's queries.
    Our handlers reach the database only through `database_sync_to_async`, which closes stale
    connections itself, in that thread, around each call.
    """

    async def dispatch(self, message: dict[str, Any]) -> None:
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)
