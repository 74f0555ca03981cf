"""Deployment checks of the chat (`manage.py check --deploy`)."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def demo_checkout_is_off(app_configs, **kwargs) -> list[Warning]:
    """The demo checkout signs a chat identity for any email and signs Stripe events with the
    real webhook secret: anyone could act as any customer."""
    if not settings.DEMO_CHECKOUT:
        return []
    return [
        Warning(
            "DEMO_CHECKOUT is on: /demo/checkout/ lets anyone chat as any customer and forge "
            "Stripe events.",
            hint="Unset DEMO_CHECKOUT outside the demo.",
            id="chat.W001",
        )
    ]
