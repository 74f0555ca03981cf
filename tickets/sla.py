"""Service-level targets: how soon a ticket must be answered and solved.

A target is counted in the ticket's team's business hours or in calendar time (its SlaPolicy
says which), from the ticket's creation. The clock stops while the ticket waits on the customer
(pending) and while it is solved or closed; when it runs again, every target not yet decided
moves later by the time it stood still. A dispute is solved by a fixed deadline instead (its
evidence deadline less the margin), which nothing moves.

The arithmetic at the top (WorkingCalendar, add_business_time, business_time_between) is pure:
aware datetimes in, aware UTC datetimes out, no database. The functions after it apply a policy
to a Ticket instance; tickets.services calls them and saves SLA_FIELDS.
"""

import bisect
import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db.models import Q, TextChoices
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.timesince import timeuntil
from django.utils.translation import gettext_lazy as _

from tickets.formatting import TIME_STRINGS
from tickets.hours import team_zone
from tickets.models import OPEN_STATUSES, EntryKind, SlaPolicy, Status, Team, Ticket

logger = logging.getLogger(__name__)

ZERO = timedelta(0)
_SECOND = timedelta(seconds=1)

# Business time is looked for this many days ahead at most: a calendar closed for longer (every
# day a holiday) is a mistake, and a due time must still come out of it.
MAX_CLOSED_DAYS = 370

Period = tuple[time, time]
Pause = tuple[datetime, datetime]


class CalendarClosedError(ValueError):
    """The calendar has no open time within MAX_CLOSED_DAYS days."""


def _merged(periods: Iterable[Period]) -> tuple[Period, ...]:
    """Sorted, with overlapping or touching periods joined (the admin does not forbid them)."""
    merged: list[Period] = []
    for opens, closes in sorted(periods):
        if not opens < closes:
            raise ValueError(f"a period must close after it opens: {opens}–{closes}")
        if merged and opens <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], closes))
        else:
            merged.append((opens, closes))
    return tuple(merged)


@dataclass(frozen=True)
class WorkingCalendar:
    """When a team works: opening periods per weekday (`weekly[0]` is Monday) in local wall-clock
    time of `zone`, and the local dates it is closed. With no periods at all it is open around
    the clock, except on its holidays (as tickets.hours.team_is_open has it)."""

    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))
    weekly: tuple[tuple[Period, ...], ...] = ((),) * 7
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.weekly) != 7:
            raise ValueError("weekly needs one tuple of periods per weekday, Monday first")
        object.__setattr__(self, "weekly", tuple(_merged(day) for day in self.weekly))
        object.__setattr__(self, "holidays", frozenset(self.holidays))

    @property
    def has_hours(self) -> bool:
        return any(self.weekly)

    @property
    def always_open(self) -> bool:
        return not self.has_hours and not self.holidays


ALWAYS_OPEN = WorkingCalendar()


def calendar_for_team(team: Team) -> WorkingCalendar:
    """The team's business hours and holidays (prefetch `business_hours` and `holidays` when
    building many)."""
    weekly: list[list[Period]] = [[] for _ in range(7)]
    for period in team.business_hours.all():
        weekly[period.weekday].append((period.opens, period.closes))
    return WorkingCalendar(
        zone=team_zone(team),
        weekly=tuple(tuple(day) for day in weekly),
        holidays=frozenset(holiday.date for holiday in team.holidays.all()),
    )


def _local(instant: datetime, zone: ZoneInfo) -> datetime:
    return instant.astimezone(zone).replace(tzinfo=None)


def _first_instant_at(zone: ZoneInfo, day: date, clock: time) -> datetime:
    """The first moment (in UTC) at which the wall clock of `zone` reads `day` `clock` or later.

    So in the hour repeated when clocks go back, a time is its first occurrence (fold=0); in the
    hour skipped when they go forward, it is the moment of the jump: a period opening at 03:30
    on a day the clocks go from 03:00 to 04:00 opens at 04:00.
    """
    wall = datetime.combine(day, clock)
    instant = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if _local(instant, zone) == wall:
        return instant
    # `wall` was skipped. Read with fold=1 it falls before the jump, with fold=0 after it: the
    # jump, at a whole second, is the first second in between whose wall time reaches `wall`.
    before = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    seconds = range(int((instant - before) / _SECOND) + 1)
    jump = bisect.bisect_left(
        seconds, True, key=lambda s: _local(before + s * _SECOND, zone) >= wall
    )
    return before + jump * _SECOND


def _open_intervals(calendar: WorkingCalendar, day: date) -> Iterator[tuple[datetime, datetime]]:
    """The calendar's open time on local date `day`, as UTC intervals in order. Each lasts the
    real time between its opening and closing: an hour less or more across a DST change."""
    if day in calendar.holidays:
        return
    zone = calendar.zone
    if not calendar.has_hours:
        yield (
            _first_instant_at(zone, day, time.min),
            _first_instant_at(zone, day + timedelta(days=1), time.min),
        )
        return
    for opens, closes in calendar.weekly[day.weekday()]:
        start, end = _first_instant_at(zone, day, opens), _first_instant_at(zone, day, closes)
        if start < end:  # not when both fall in the hour skipped
            yield start, end


def _utc(instant: datetime) -> datetime:
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("business time needs aware datetimes")
    return instant.astimezone(UTC)


def add_business_time(start: datetime, duration: timedelta, calendar: WorkingCalendar) -> datetime:
    """The earliest moment by which `duration` of the calendar's open time has passed since
    `start` (so a duration ending exactly at a closing time ends there, not at the next opening).

    Raises CalendarClosedError when the calendar has no open time for MAX_CLOSED_DAYS days.
    """
    if duration < ZERO:
        raise ValueError("duration must not be negative")
    start = _utc(start)
    if calendar.always_open:
        return start + duration
    if duration == ZERO:
        return start
    remaining = duration
    day = start.astimezone(calendar.zone).date()
    closed_days = 0
    while True:
        closed_days += 1
        for opens, closes in _open_intervals(calendar, day):
            begin = max(opens, start)
            if begin >= closes:
                continue
            closed_days = 0
            if remaining <= closes - begin:
                return begin + remaining
            remaining -= closes - begin
        if closed_days > MAX_CLOSED_DAYS:
            raise CalendarClosedError(f"no open time in {MAX_CLOSED_DAYS} days after {day}")
        day += timedelta(days=1)


def business_time_between(start: datetime, end: datetime, calendar: WorkingCalendar) -> timedelta:
    """How much of the calendar's open time lies between `start` and `end` (negative when `end`
    comes first)."""
    start, end = _utc(start), _utc(end)
    if end < start:
        return -business_time_between(end, start, calendar)
    if calendar.always_open:
        return end - start
    total = ZERO
    day = start.astimezone(calendar.zone).date()
    while _first_instant_at(calendar.zone, day, time.min) < end:
        for opens, closes in _open_intervals(calendar, day):
            begin, finish = max(opens, start), min(closes, end)
            if begin < finish:
                total += finish - begin
        day += timedelta(days=1)
    return total


# Policies ----------------------------------------------------------------------------------


def most_specific_policy(
    policies: Iterable[SlaPolicy], *, priority: str, reason: str, team_id: int | None
) -> SlaPolicy | None:
    """The active policy that fits best: its team and reason, then its team, then its reason,
    then its priority alone."""
    fitting = [
        policy
        for policy in policies
        if policy.active
        and policy.priority == priority
        and policy.reason in ("", reason)
        and policy.team_id in (None, team_id)
    ]
    return max(
        fitting, key=lambda policy: (policy.team_id is not None, policy.reason != ""), default=None
    )


def sla_policy_for(ticket: Ticket) -> SlaPolicy | None:
    """The policy a ticket of this priority, reason and team falls under (one query)."""
    candidates = SlaPolicy.objects.filter(
        Q(team__isnull=True) | Q(team_id=ticket.team_id),
        active=True,
        priority=ticket.priority,
        reason__in=("", ticket.reason),
    ).order_by("pk")
    return most_specific_policy(
        candidates, priority=ticket.priority, reason=ticket.reason, team_id=ticket.team_id
    )


def sla_calendar(ticket: Ticket) -> WorkingCalendar:
    """The clock the ticket's targets run on: its team's business hours when its policy counts
    in them, else calendar time."""
    policy = ticket.sla_policy
    if policy is None or not policy.business_hours:
        return ALWAYS_OPEN
    return calendar_for_team(ticket.team)


# A ticket's targets --------------------------------------------------------------------------

# The clock stands still in these; a target is decided when the ticket reaches DONE_STATUSES.
CLOCK_STOPPED_STATUSES = (Status.PENDING, Status.SOLVED, Status.CLOSED)
DONE_STATUSES = (Status.SOLVED, Status.CLOSED)

# The fields the functions below change, for save(update_fields=…).
SLA_FIELDS = [
    "sla_policy",
    "first_response_due_at",
    "resolution_due_at",
    "sla_paused_at",
    "first_response_breached",
    "resolution_breached",
    "due_at",
]


def _add(start: datetime, duration: timedelta, calendar: WorkingCalendar) -> datetime:
    try:
        return add_business_time(start, duration, calendar)
    except CalendarClosedError:
        # A due time must come out even of a calendar closed for a year: calendar time.
        logger.warning("An SLA calendar has no open time; counting in calendar time")
        return _utc(start) + duration


def due_after(
    start: datetime, target: timedelta, pauses: Sequence[Pause], calendar: WorkingCalendar
) -> datetime:
    """When a target of `target` (open time of `calendar`) started at `start` is due, after the
    clock stood still for `pauses` (oldest first). A pause that began after the target was due
    does not move it: the target was breached by then."""
    due = _add(start, target, calendar)
    for paused_at, resumed_at in pauses:
        if paused_at <= due:
            due = _add(due, business_time_between(paused_at, resumed_at, calendar), calendar)
    return due


def pauses_from_status_changes(
    changes: Iterable[tuple[datetime, str, str]],
) -> tuple[list[Pause], datetime | None]:
    """From a ticket's status changes (time, from, to), oldest first: the spans its clock stood
    still, and since when it stands still now (None if it runs)."""
    pauses: list[Pause] = []
    stopped_since: datetime | None = None
    for at, before, after in changes:
        stops, was_stopped = after in CLOCK_STOPPED_STATUSES, before in CLOCK_STOPPED_STATUSES
        if stops and not was_stopped:
            stopped_since = at
        elif was_stopped and not stops and stopped_since is not None:
            pauses.append((stopped_since, at))
            stopped_since = None
    return pauses, stopped_since


def _pauses_so_far(ticket: Ticket, now: datetime) -> list[Pause]:
    """The ticket's pauses from its timeline, the one going on (if any) ending now."""
    changes = ticket.timeline.filter(kind=EntryKind.STATUS_CHANGE).values_list("created_at", "data")
    pauses, stopped_since = pauses_from_status_changes(
        (at, data.get("from"), data.get("to")) for at, data in changes
    )
    if ticket.sla_paused_at is not None:
        # The timeline entry is written just after the pause begins; a ticket stored as
        # pending by other means has none.
        since = min(stopped_since or ticket.sla_paused_at, ticket.sla_paused_at)
        pauses.append((since, now))
    return pauses


def sla_set_targets(
    ticket: Ticket, *, now: datetime, pauses: Sequence[Pause] | None = None
) -> None:
    """Put the ticket under the policy that fits it now, and count its undecided targets again
    from its creation, each moved by the pauses so far (`pauses`, oldest first; read from the
    ticket's timeline when None). A decided target keeps the due time it was decided against;
    a `resolution_deadline` is the resolution's due time, whatever the policy."""
    if pauses is None:
        pauses = _pauses_so_far(ticket, now) if ticket.pk else []
    ticket.sla_policy = policy = sla_policy_for(ticket)
    calendar = sla_calendar(ticket)
    if ticket.first_response_breached is None:
        ticket.first_response_due_at = (
            due_after(
                ticket.created_at,
                timedelta(minutes=policy.first_response_minutes),
                pauses,
                calendar,
            )
            if policy
            else None
        )
    if ticket.resolution_breached is None:
        if ticket.resolution_deadline or not policy:
            ticket.resolution_due_at = ticket.resolution_deadline
        else:
            ticket.resolution_due_at = due_after(
                ticket.created_at, timedelta(minutes=policy.resolution_minutes), pauses, calendar
            )
    if ticket.sla_paused_at is not None:
        # The pause going on was counted up to now; the rest of it is counted when it ends.
        ticket.sla_paused_at = now
    ticket.due_at = sla_next_due(ticket)


def _first_response_open(ticket: Ticket) -> bool:
    return ticket.first_response_due_at is not None and ticket.first_response_breached is None


def _resolution_open(ticket: Ticket) -> bool:
    return ticket.resolution_due_at is not None and ticket.resolution_breached is None


def sla_next_due(ticket: Ticket) -> datetime | None:
    """The `due_at` the queue sorts by: the sooner of the targets still to meet (the first
    response until there is one, then the resolution). None while the clock stands still, but
    a fixed deadline (a dispute's) stays due while the ticket waits on the customer: the card
    network does not wait."""
    if ticket.status in DONE_STATUSES:
        return None
    first_response = (ticket.first_response_due_at, ticket.first_response_at)
    resolution = (ticket.resolution_due_at, ticket.solved_at)
    if ticket.sla_paused_at is not None or ticket.status in CLOCK_STOPPED_STATUSES:
        running = [resolution] if ticket.resolution_deadline else []
    else:
        running = [first_response, resolution]
    return min((due for due, done in running if due and not done), default=None)


def _catch_up(ticket: Ticket, now: datetime) -> None:
    """Count the pause going on into the undecided due times, as if it ended now and began
    again; a fixed deadline does not move."""
    if ticket.sla_paused_at is None:
        return
    calendar = sla_calendar(ticket)
    paused = business_time_between(ticket.sla_paused_at, now, calendar)
    if paused > ZERO:
        if _first_response_open(ticket):
            ticket.first_response_due_at = _add(ticket.first_response_due_at, paused, calendar)
        if _resolution_open(ticket) and not ticket.resolution_deadline:
            ticket.resolution_due_at = _add(ticket.resolution_due_at, paused, calendar)
    ticket.sla_paused_at = now


def _notice_breaches(ticket: Ticket, now: datetime) -> None:
    unanswered = ticket.first_response_at is None
    if _first_response_open(ticket) and unanswered and ticket.first_response_due_at < now:
        ticket.first_response_breached = True
    if _resolution_open(ticket) and ticket.resolution_due_at < now:
        ticket.resolution_breached = True


def sla_first_response(ticket: Ticket, *, at: datetime) -> None:
    """The customer got the first reply at `at`: the first-response target is met or breached
    (counting a pause going on), and the ticket is next due at its resolution target."""
    _catch_up(ticket, at)
    if ticket.first_response_breached is None and ticket.first_response_due_at:
        ticket.first_response_breached = at > ticket.first_response_due_at
    ticket.first_response_at = ticket.first_response_at or at
    ticket.due_at = sla_next_due(ticket)


def sla_status_changed(ticket: Ticket, *, previous: str, now: datetime) -> None:
    """Keep the clock in step with a status change (`ticket.status` is the new one).

    Entering pending, solved or closed stops the clock (a target already past due is breached
    then); leaving them moves every undecided target later by the time stood still. Solving
    decides the resolution target, and a first response never given is breached if it was due
    already. Reopening makes a met resolution undecided again.
    """
    done, was_done = ticket.status in DONE_STATUSES, previous in DONE_STATUSES
    stops, was_stopped = ticket.status in CLOCK_STOPPED_STATUSES, previous in CLOCK_STOPPED_STATUSES
    if was_done and not done and ticket.resolution_breached is False:
        ticket.resolution_breached = None
    if was_stopped:
        _catch_up(ticket, now)
    if done and not was_done:
        if _resolution_open(ticket):
            ticket.resolution_breached = (ticket.solved_at or now) > ticket.resolution_due_at
        _notice_breaches(ticket, now)  # a first response never given
    if stops and not was_stopped:
        _notice_breaches(ticket, now)
        ticket.sla_paused_at = now
    elif was_stopped and not stops:
        ticket.sla_paused_at = None
    ticket.due_at = sla_next_due(ticket)


def sla_record_breaches(*, ticket: Ticket | None = None, now: datetime | None = None) -> int:
    """Record as breached each undecided target whose due time has passed, of one open ticket
    (also on the instance) or of every open one: for the reports, since the queue and the
    ticket page see a passed due time anyway. A target waits while the clock stands still,
    except a fixed deadline. Conditional updates, safe to run as often as wanted and beside any
    other change; returns how many targets were recorded."""
    now = now or timezone.now()
    tickets = Ticket.objects.filter(status__in=OPEN_STATUSES)
    if ticket is not None:
        tickets = tickets.filter(pk=ticket.pk)
    first_responses = tickets.filter(
        sla_paused_at__isnull=True,
        first_response_at__isnull=True,
        first_response_breached__isnull=True,
        first_response_due_at__lt=now,
    ).update(first_response_breached=True)
    resolutions = tickets.filter(
        Q(sla_paused_at__isnull=True) | Q(resolution_deadline__isnull=False),
        resolution_breached__isnull=True,
        resolution_due_at__lt=now,
    ).update(resolution_breached=True)
    if ticket is not None and first_responses + resolutions:
        ticket.refresh_from_db(fields=["first_response_breached", "resolution_breached"])
    return first_responses + resolutions


# What the ticket page shows ------------------------------------------------------------------


class SlaState(TextChoices):
    RUNNING = "running", _("Running")
    PAUSED = "paused", _("Paused")
    MET = "met", _("Met")
    BREACHED = "breached", _("Breached")


@dataclass(frozen=True)
class SlaTarget:
    """One target as an agent reads it: `done_at` when it was met or missed, `left` the open
    time still left while the clock stands still."""

    name: str
    label: str | Promise
    due_at: datetime
    state: SlaState
    done_at: datetime | None = None
    left: timedelta | None = None

    @property
    def left_in_words(self) -> str:
        """ "3 hours", in the active language."""
        if self.left is None:
            return ""
        now = timezone.now()
        return timeuntil(now + self.left, now, time_strings=TIME_STRINGS, depth=1)


@dataclass(frozen=True)
class SlaSummary:
    policy: SlaPolicy | None
    business_hours: bool
    time_zone: str
    targets: list[SlaTarget]


def sla_summary(ticket: Ticket, *, now: datetime | None = None) -> SlaSummary:
    """The ticket's targets, each running, paused, met or breached, and the clock they run on
    (reads the team's business hours and holidays when its policy counts in them)."""
    now = now or timezone.now()
    calendar = sla_calendar(ticket)
    targets = []
    for name, label, due, done_at, breached in (
        (
            "first_response",
            _("First response"),
            ticket.first_response_due_at,
            ticket.first_response_at,
            ticket.first_response_breached,
        ),
        (
            "resolution",
            _("Resolution"),
            ticket.resolution_due_at,
            ticket.solved_at,
            ticket.resolution_breached,
        ),
    ):
        if due is None:
            continue
        if breached is None and done_at is not None:
            breached = done_at > due  # met or missed before it was recorded
        fixed = name == "resolution" and ticket.resolution_deadline is not None
        if breached is not None:
            state = SlaState.BREACHED if breached else SlaState.MET
            targets.append(SlaTarget(name, label, due, state, done_at=done_at))
        elif ticket.status in DONE_STATUSES:
            continue  # solved without it: no longer a target
        elif ticket.sla_paused_at is not None and not fixed:
            left = business_time_between(ticket.sla_paused_at, due, calendar)
            targets.append(SlaTarget(name, label, due, SlaState.PAUSED, left=left))
        else:
            state = SlaState.BREACHED if due < now else SlaState.RUNNING
            targets.append(SlaTarget(name, label, due, state))
    return SlaSummary(
        policy=ticket.sla_policy,
        business_hours=not calendar.always_open,
        time_zone=str(calendar.zone) if not calendar.always_open else "",
        targets=targets,
    )
