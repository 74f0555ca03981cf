from django.conf import settings
from django.http import HttpRequest

from notifications.services import unread_count


def notifications(request: HttpRequest) -> dict:
    """The unread count of the bell in the top bar (one COUNT, for signed-in users only)."""
    user = getattr(request, "user", None)
    context = {"site_name": settings.SITE_NAME}
    if user is not None and user.is_authenticated:
        context["unread_notifications"] = unread_count(user)
    return context
