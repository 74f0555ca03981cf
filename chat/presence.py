"""Which agents can take a chat now: their chosen status, a live socket, their team's hours."""

from datetime import timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef
from django.utils import timezone

from chat.models import AgentConnection, AgentPresence, AgentStatus
from tickets.hours import team_is_open
from tickets.models import Team

# Consumers refresh their row every CONNECTION_REFRESH_S; a row older than the TTL belongs to a
# socket whose process died without closing it.
CONNECTION_REFRESH_S = 30
CONNECTION_TTL_S = 3 * CONNECTION_REFRESH_S + 5


def connection_open(*, user: AbstractBaseUser, channel_name: str) -> None:
    AgentConnection.objects.update_or_create(
        channel_name=channel_name, defaults={"user": user, "seen_at": timezone.now()}
    )


def connection_refresh(*, channel_name: str) -> None:
    AgentConnection.objects.filter(channel_name=channel_name).update(seen_at=timezone.now())


def connection_close(*, channel_name: str) -> None:
    AgentConnection.objects.filter(channel_name=channel_name).delete()


def live_connections():
    cutoff = timezone.now() - timedelta(seconds=CONNECTION_TTL_S)
    return AgentConnection.objects.filter(seen_at__gte=cutoff)


def agent_status(user: AbstractBaseUser) -> str:
    """What the agent appears as: their chosen status while a tab is connected, else offline."""
    if not live_connections().filter(user=user).exists():
        return AgentStatus.OFFLINE
    presence = AgentPresence.objects.filter(user=user).first()
    return presence.status if presence else AgentStatus.ONLINE


def agent_status_set(*, user: AbstractBaseUser, status: AgentStatus) -> None:
    AgentPresence.objects.update_or_create(user=user, defaults={"status": status})


def online_agents(team: Team):
    """The team's members (and admins) who are online with a tab open."""
    from django.contrib.auth import get_user_model

    chose_away = AgentPresence.objects.filter(
        user=OuterRef("pk"), status__in=(AgentStatus.AWAY, AgentStatus.OFFLINE)
    )
    connected = live_connections().filter(user=OuterRef("pk"))
    members = get_user_model().objects.filter(is_active=True, teams=team)
    return members.filter(Exists(connected)).exclude(Exists(chose_away))


def team_available(team: Team) -> bool:
    """Someone can answer a chat for this team now."""
    return team_is_open(team) and online_agents(team).exists()
