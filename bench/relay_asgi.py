"""The framework floor of bench/chat.py: the least a Channels chat relay does, on the same server
and channel layer as Paydesk, without authentication, database or anything else.

    uvicorn bench.relay_asgi:application --ws-per-message-deflate false …

BENCH_LAYER picks the channel layer as bench/chat_settings.py does for Paydesk. The
protocol is a subset of Paydesk's customer socket, so the same load generator drives both:

    client → server   {"type": "hello", "conversation": <id>}          join the conversation
                      {"type": "message", "client_id": …, "body": …}
    server → client   {"type": "welcome"} · {"type": "ack", "client_id": …, "seq": 0}
                      {"type": "message", "message": {"client_id", "body", "sender"}}
"""

import os

import django
from django.conf import settings

from bench.common import channel_layer_settings

if not settings.configured:
    settings.configure(
        INSTALLED_APPS=["channels"],
        CHANNEL_LAYERS=channel_layer_settings(
            os.environ.get("BENCH_LAYER", "pubsub"), os.environ.get("REDIS_URL", "")
        ),
    )
    django.setup()

from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.routing import ProtocolTypeRouter


class RelayConsumer(AsyncJsonWebsocketConsumer):
    group = ""

    async def receive_json(self, content, **kwargs) -> None:
        kind = content.get("type")
        if kind == "hello":
            self.group = f"relay.conv.{int(content['conversation'])}"
            self.sender = content.get("sender", "customer")
            await self.channel_layer.group_add(self.group, self.channel_name)
            await self.send_json({"type": "welcome"})
        elif kind == "message" and self.group:
            client_id, body = content["client_id"], content["body"]
            await self.send_json({"type": "ack", "client_id": client_id, "seq": 0})
            message = {"client_id": client_id, "body": body, "sender": self.sender}
            await self.channel_layer.group_send(
                self.group, {"type": "chat.message", "message": message}
            )
        elif kind == "ping":
            await self.send_json({"type": "pong"})

    async def chat_message(self, event) -> None:
        await self.send_json({"type": "message", "message": event["message"]})

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)


async def health(scope, receive, send) -> None:
    """Any HTTP request: 200, so the bench knows the server is up."""
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


application = ProtocolTypeRouter({"http": health, "websocket": RelayConsumer.as_asgi()})
