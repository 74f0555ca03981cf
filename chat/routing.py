"""Websocket routes. The live chat arrives with its own issue; the ASGI wiring is in place."""

websocket_urlpatterns: list = []
