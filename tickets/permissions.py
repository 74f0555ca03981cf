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
