"""Who is an agent, and the checks views and the API use to keep everyone else out."""

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from rest_framework.permissions import BasePermission


def is_agent(user) -> bool:
    """Agents are staff users or members of a team; customers are neither."""
    if not (user and user.is_authenticated and user.is_active):
        return False
    return user.is_staff or user.teams.exists()


class IsAgent(BasePermission):
    message = "Only agents and admins can use the API."

    def has_permission(self, request, view) -> bool:
        return is_agent(request.user)


class IsAdmin(BasePermission):
    message = "Only admins can see this."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)


def agent_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Log in first; then only agents and admins get through (everyone else: 403)."""

    @wraps(view)
    def check(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not is_agent(request.user):
            raise PermissionDenied(ERROR_NOT_AGENT)
        return view(request, *args, **kwargs)

    return check


ERROR_NOT_AGENT = "The workspace is for support agents."
