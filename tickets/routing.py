"""Websocket routes of the agent workspace."""

from django.urls import path

from tickets.consumers import DeskConsumer

websocket_urlpatterns = [
    path("ws/desk/", DeskConsumer.as_asgi()),
]
