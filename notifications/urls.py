from django.urls import path

from notifications import views

app_name = "notifications"

urlpatterns = [
    path("desk/notifications/", views.notification_list, name="list"),
    path("desk/notifications/read/", views.mark_all_read, name="read_all"),
    path("desk/notifications/<int:pk>/", views.notification_open, name="open"),
    path("desk/notifications/settings/", views.preferences, name="preferences"),
    path("notifications/unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
    path("rate/<str:token>/", views.rate, name="rate"),
]
