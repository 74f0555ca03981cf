"""Whether a team is open: its weekly business hours and holidays, in its own time zone."""

from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.utils import timezone

from tickets.models import Team


def team_zone(team: Team) -> ZoneInfo:
    try:
        return ZoneInfo(team.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def team_is_open(team: Team, at: datetime | None = None) -> bool:
    """Open at `at` (now by default). A team with no business hours is always open; a holiday
    closes it all day. Reads the team's `business_hours` and `holidays` (prefetch them when
    asking for many teams)."""
    local = (at or timezone.now()).astimezone(team_zone(team))
    if any(holiday.date == local.date() for holiday in team.holidays.all()):
        return False
    hours = list(team.business_hours.all())
    if not hours:
        return True
    now = local.time().replace(tzinfo=None)
    return any(
        period.weekday == local.weekday() and period.opens <= now < period.closes
        for period in hours
    )
