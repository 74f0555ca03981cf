from django.conf import settings
from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from notifications.services import unread_count


def notifications(request: HttpRequest) -> dict:
    """The unread count of the bell in the top bar, for signed-in users. Counted (one COUNT)
    only by a template that shows it: the htmx fragments the live updates fetch do not."""
    user = getattr(request, "user", None)
    context = {"site_name": settings.SITE_NAME}
    if user is not None and user.is_authenticated:
        context["unread_notifications"] = SimpleLazyObject(lambda: unread_count(user))
    return context
