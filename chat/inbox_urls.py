from django.urls import path

from chat import inbox_views

app_name = "chat_inbox"

urlpatterns = [
    path("", inbox_views.inbox, name="inbox"),
    path("count/", inbox_views.inbox_count, name="count"),
    path("<int:pk>/", inbox_views.conversation_panel, name="panel"),
    path("<int:pk>/ticket/", inbox_views.ticket_panel, name="ticket"),
]
