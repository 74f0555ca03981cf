"""The JSON API, under /api/: tickets for agents, payments, and provider events for admins."""

from rest_framework.routers import SimpleRouter

from payments.api import PaymentViewSet, WebhookEventViewSet
from tickets.api import TicketViewSet

app_name = "api"

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("payments", PaymentViewSet, basename="payment")
router.register("webhook-events", WebhookEventViewSet, basename="webhook-event")

urlpatterns = router.urls
