"""Websocket routes of the chat. helpdesk/asgi.py checks each route's origins: the customer's
socket is opened from merchants' pages (CHAT_ALLOWED_ORIGINS), the agents' from Paydesk's."""

from django.urls import path

from chat.consumers import AgentChatConsumer, CustomerChatConsumer

customer_consumer = CustomerChatConsumer.as_asgi()
CUSTOMER_ROUTE = "ws/chat/"

websocket_urlpatterns = [path("ws/chat/agent/", AgentChatConsumer.as_asgi())]
