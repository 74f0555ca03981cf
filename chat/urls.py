"""HTTP routes of the chat: what the widget fetches from merchants' pages, and the demo
merchant's checkout."""

from django.urls import path

from chat import attachment_views, demo_views, widget_views

app_name = "chat"

urlpatterns = [
    path("chat/api/widget/", widget_views.widget_config, name="widget_config"),
    path("chat/api/attachments/", attachment_views.attachment_upload, name="attachment_upload"),
    path(
        "chat/attachments/<int:pk>/<str:signature>/",
        attachment_views.attachment_download,
        name="attachment_download",
    ),
    path("demo/checkout/", demo_views.demo_checkout, name="demo_checkout"),
    path("demo/checkout/pay/", demo_views.demo_checkout_pay, name="demo_checkout_pay"),
]
