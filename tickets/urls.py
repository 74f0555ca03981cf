from django.urls import path

from tickets import views

app_name = "tickets"

urlpatterns = [
    path("", views.queue, name="queue"),
    path("counts/", views.queue_counts, name="queue_counts"),
    path("bulk/", views.bulk_action, name="bulk"),
    path("tickets/<int:pk>/", views.ticket_detail, name="detail"),
    path("tickets/<int:pk>/reply/", views.ticket_reply_view, name="reply"),
    path("tickets/<int:pk>/note/", views.ticket_note_view, name="note"),
    path("tickets/<int:pk>/update/", views.ticket_update_view, name="update"),
    path("tickets/<int:pk>/assign-to-me/", views.ticket_assign_to_me, name="assign_to_me"),
    path("tickets/<int:pk>/merge/", views.ticket_merge_view, name="merge"),
    path("tickets/<int:pk>/canned/", views.canned_responses, name="canned"),
]
