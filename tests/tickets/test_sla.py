"""SLA targets: business-time arithmetic (hours, weekends, holidays, time zones, DST), which
policy a ticket falls under, and how replies, waiting on the customer and solving move and
decide its targets."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import stripe_event, stripe_object_event
from tests.factories import SlaPolicyFactory, TeamFactory
from tickets.models import BusinessHours, Priority, Reason, SlaPolicy, Status, Ticket
from tickets.selectors import tickets_breaching_sla
from tickets.services import ticket_create, ticket_reply, ticket_update
from tickets.sla import (
    ALWAYS_OPEN,
    CalendarClosedError,
    SlaState,
    WorkingCalendar,
    add_business_time,
    business_time_between,
    due_after,
    most_specific_policy,
    sla_record_breaches,
    sla_summary,
)

ATHENS = ZoneInfo("Europe/Athens")
NEW_YORK = ZoneInfo("America/New_York")
NINE_TO_FIVE = ((time(9), time(17)),)
WEEKDAYS_NINE_TO_FIVE = (NINE_TO_FIVE,) * 5 + ((), ())


def at(zone: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def office(zone: ZoneInfo, holidays=()) -> WorkingCalendar:
    return WorkingCalendar(zone=zone, weekly=WEEKDAYS_NINE_TO_FIVE, holidays=frozenset(holidays))


def sundays_only(opens: time, closes: time, zone: ZoneInfo = ATHENS) -> WorkingCalendar:
    return WorkingCalendar(zone=zone, weekly=((),) * 6 + (((opens, closes),),))


def around_the_clock(zone: ZoneInfo) -> WorkingCalendar:
    """Open every hour of every day, but walked day by day like any calendar with hours: the one
    holiday, long past, only keeps it off the shortcut for calendars without any."""
    return WorkingCalendar(zone=zone, holidays=frozenset({date(1990, 1, 1)}))


# Business hours, weekends, holidays, time zones ---------------------------------------------


def test_two_hours_asked_on_friday_afternoon_are_due_on_monday_morning():
    friday = at(ATHENS, 2024, 3, 8, 16)

    assert add_business_time(friday, hours(2), office(ATHENS)) == at(ATHENS, 2024, 3, 11, 10)
    assert business_time_between(friday, at(ATHENS, 2024, 3, 11, 10), office(ATHENS)) == hours(2)


def test_time_asked_while_closed_starts_counting_at_the_next_opening():
    saturday = at(ATHENS, 2024, 3, 9, 12)

    assert add_business_time(saturday, hours(1), office(ATHENS)) == at(ATHENS, 2024, 3, 11, 10)


def test_a_target_ending_at_closing_time_is_due_at_closing_time_not_the_next_morning():
    assert add_business_time(at(ATHENS, 2024, 3, 8, 9), hours(8), office(ATHENS)) == at(
        ATHENS, 2024, 3, 8, 17
    )


def test_a_holiday_closes_the_whole_day():
    christmas_eve = at(ATHENS, 2024, 12, 24, 16)  # Tuesday
    calendar = office(ATHENS, holidays=[date(2024, 12, 25)])

    assert add_business_time(christmas_eve, hours(2), calendar) == at(ATHENS, 2024, 12, 26, 10)
    assert business_time_between(christmas_eve, at(ATHENS, 2024, 12, 27), calendar) == hours(9)


def test_a_holiday_closes_a_team_without_hours_too():
    calendar = WorkingCalendar(zone=ATHENS, holidays=frozenset({date(2024, 12, 25)}))

    assert add_business_time(at(ATHENS, 2024, 12, 24, 23), hours(2), calendar) == at(
        ATHENS, 2024, 12, 26, 1
    )


def test_the_same_moment_counts_in_each_teams_own_time_zone():
    monday = datetime(2024, 3, 4, 15, tzinfo=UTC)  # 17:00 in Athens, 10:00 in New York

    assert add_business_time(monday, hours(1), office(NEW_YORK)) == datetime(
        2024, 3, 4, 16, tzinfo=UTC
    )
    assert add_business_time(monday, hours(1), office(ATHENS)) == at(ATHENS, 2024, 3, 5, 10)


def test_overlapping_periods_count_once():
    calendar = WorkingCalendar(
        zone=ATHENS, weekly=(((time(9), time(12)), (time(11), time(14))),) + ((),) * 6
    )

    assert business_time_between(at(ATHENS, 2024, 3, 4), at(ATHENS, 2024, 3, 5), calendar) == (
        hours(5)
    )


def test_a_team_without_hours_counts_real_elapsed_time():
    saturday_noon = at(ATHENS, 2024, 3, 30, 12)  # the clocks go forward on Sunday

    assert add_business_time(saturday_noon, hours(48), ALWAYS_OPEN) == at(ATHENS, 2024, 4, 1, 13)


# DST ----------------------------------------------------------------------------------------


def test_office_hours_keep_their_wall_clock_across_a_dst_change():
    friday = at(NEW_YORK, 2024, 3, 8, 16)  # the clocks go forward on Sunday the 10th

    due = add_business_time(friday, hours(2), office(NEW_YORK))

    assert due == at(NEW_YORK, 2024, 3, 11, 10)
    assert due - friday == hours(65)  # one real hour less than the wall clocks say


@pytest.mark.parametrize(
    ("day", "open_time"),
    [
        (date(2024, 3, 24), hours(5)),  # an ordinary Sunday
        (date(2024, 3, 31), hours(4)),  # 03:00 becomes 04:00
        (date(2024, 10, 27), hours(6)),  # 04:00 becomes 03:00 again
    ],
)
def test_a_period_spanning_a_dst_change_lasts_the_real_time_between_its_ends(day, open_time):
    calendar = sundays_only(time(1), time(6))
    midnight = datetime.combine(day, time(0), tzinfo=ATHENS)

    assert business_time_between(midnight, midnight + timedelta(days=1), calendar) == open_time


def test_a_period_opening_in_the_skipped_hour_opens_when_the_clocks_jump():
    calendar = sundays_only(time(3, 30), time(5))
    midnight = at(ATHENS, 2024, 3, 31)

    assert business_time_between(midnight, at(ATHENS, 2024, 4, 1), calendar) == hours(1)
    due = add_business_time(midnight, timedelta(minutes=10), calendar)
    assert due == at(ATHENS, 2024, 3, 31, 4, 10)
    assert due == datetime(2024, 3, 31, 1, 10, tzinfo=UTC)


def test_a_period_opening_in_the_repeated_hour_opens_at_its_first_occurrence():
    calendar = sundays_only(time(3, 30), time(5))  # 03:30 summer time to 05:00 winter time
    midnight = at(ATHENS, 2024, 10, 27)

    due = add_business_time(midnight, timedelta(minutes=10), calendar)

    assert due == datetime(2024, 10, 27, 0, 40, tzinfo=UTC)
    assert business_time_between(midnight, at(ATHENS, 2024, 10, 28), calendar) == hours(2.5)


# Bounds and misuse --------------------------------------------------------------------------


def test_a_calendar_closed_for_over_a_year_raises_and_targets_fall_back_to_calendar_time():
    start = at(ATHENS, 2024, 1, 1, 12)
    every_day = {date(2024, 1, 1) + timedelta(days=n) for n in range(400)}
    closed = office(ATHENS, holidays=every_day)

    with pytest.raises(CalendarClosedError):
        add_business_time(start, hours(1), closed)
    assert due_after(start, hours(1), [], closed) == start + hours(1)


def test_naive_datetimes_and_negative_durations_are_refused():
    with pytest.raises(ValueError, match="aware"):
        add_business_time(datetime(2024, 1, 1), hours(1), office(ATHENS))  # noqa: DTZ001
    with pytest.raises(ValueError, match="negative"):
        add_business_time(at(ATHENS, 2024, 1, 1), -hours(1), office(ATHENS))


# Properties ---------------------------------------------------------------------------------

ZONES = [
    "UTC",
    "Europe/Athens",
    "America/New_York",
    "Asia/Tehran",
    "Australia/Lord_Howe",  # DST of half an hour
    "America/Santiago",  # its clocks change at midnight
]


@st.composite
def periods(draw) -> tuple[time, time]:
    opens = draw(st.integers(0, 24 * 60 - 2))
    closes = draw(st.integers(opens + 1, 24 * 60 - 1))
    return time(opens // 60, opens % 60), time(closes // 60, closes % 60)


calendars = st.builds(
    lambda zone, weekly, holidays: WorkingCalendar(
        zone=ZoneInfo(zone), weekly=tuple(tuple(day) for day in weekly), holidays=holidays
    ),
    st.sampled_from(ZONES),
    st.lists(st.lists(periods(), max_size=3), min_size=7, max_size=7),
    st.frozensets(st.dates(date(2023, 1, 1), date(2027, 12, 31)), max_size=30),
)
instants = st.datetimes(
    min_value=datetime(2023, 1, 1),  # noqa: DTZ001 (hypothesis bounds are naive)
    max_value=datetime(2026, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)
durations = st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20))
SETTINGS = settings(max_examples=150, deadline=None)


@SETTINGS
@given(calendar=calendars, start=instants, duration=durations)
def test_the_business_time_to_a_due_time_is_the_duration_asked(calendar, start, duration):
    due = add_business_time(start, duration, calendar)

    assert due >= start
    assert business_time_between(start, due, calendar) == duration


@SETTINGS
@given(calendar=calendars, start=instants, span=durations)
def test_adding_the_business_time_between_two_moments_never_passes_the_later(calendar, start, span):
    end = start + span
    due = add_business_time(start, business_time_between(start, end, calendar), calendar)

    assert due <= end
    assert business_time_between(due, end, calendar) == timedelta(0)  # closed in between


@SETTINGS
@given(calendar=calendars, start=instants, a=durations, b=durations)
def test_more_time_or_a_later_start_is_never_due_sooner(calendar, start, a, b):
    shorter, longer = sorted((a, b))

    assert add_business_time(start, shorter, calendar) <= add_business_time(start, longer, calendar)
    assert add_business_time(start, shorter, calendar) <= add_business_time(
        start + (longer - shorter), shorter, calendar
    )


@SETTINGS
@given(calendar=calendars, start=instants, a=durations, b=durations)
def test_business_time_adds_up_over_consecutive_spans(calendar, start, a, b):
    middle, end = start + a, start + a + b

    assert business_time_between(start, end, calendar) == business_time_between(
        start, middle, calendar
    ) + business_time_between(middle, end, calendar)
    assert business_time_between(end, start, calendar) == -business_time_between(
        start, end, calendar
    )


DST_CHANGES = [
    datetime(2024, 3, 31, 1, tzinfo=UTC),  # Athens, forward
    datetime(2024, 10, 27, 1, tzinfo=UTC),  # Athens, back
    datetime(2024, 3, 10, 7, tzinfo=UTC),  # New York, forward
    datetime(2024, 11, 3, 6, tzinfo=UTC),  # New York, back
]
near_a_dst_change = st.builds(
    lambda change, offset: change + offset,
    st.sampled_from(DST_CHANGES),
    st.timedeltas(min_value=timedelta(days=-3), max_value=timedelta(days=3)),
)


@SETTINGS
@given(
    zone=st.sampled_from([ATHENS, NEW_YORK]),
    start=st.one_of(instants, near_a_dst_change),
    duration=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=7)),
)
def test_open_around_the_clock_is_real_elapsed_time_across_dst(zone, start, duration):
    calendar = around_the_clock(zone)

    assert add_business_time(start, duration, calendar) == start + duration
    assert business_time_between(start, start + duration, calendar) == duration


# Which policy -------------------------------------------------------------------------------


def test_the_most_specific_active_policy_fits():
    def policy(**fields) -> SlaPolicy:
        return SlaPolicy(
            priority=Priority.HIGH, first_response_minutes=1, resolution_minutes=2, **fields
        )

    general = policy(name="any high")
    for_disputes = policy(name="disputes", reason=Reason.DISPUTE)
    for_team = policy(name="team 7", team_id=7)
    for_team_disputes = policy(name="team 7 disputes", team_id=7, reason=Reason.DISPUTE)
    retired = policy(name="old team 7 questions", team_id=7, reason=Reason.QUESTION, active=False)
    policies = [general, for_disputes, for_team, for_team_disputes, retired]

    def fitting(reason, team_id, priority=Priority.HIGH):
        return most_specific_policy(policies, priority=priority, reason=reason, team_id=team_id)

    assert fitting(Reason.DISPUTE, 7) is for_team_disputes
    assert fitting(Reason.QUESTION, 7) is for_team
    assert fitting(Reason.DISPUTE, 8) is for_disputes
    assert fitting(Reason.QUESTION, 8) is general
    assert fitting(Reason.QUESTION, 8, priority=Priority.LOW) is None


# Tickets ------------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock(monkeypatch) -> Clock:
    """Django's now, set by the test: a Monday morning to begin with."""
    from django.utils import timezone

    clock = Clock(datetime(2024, 3, 4, 7, tzinfo=UTC))
    monkeypatch.setattr(timezone, "now", lambda: clock.now)
    return clock


@pytest.fixture
def policies(db):
    """Normal: answer within an hour, solve within eight; urgent: ten minutes and two hours.
    Calendar time."""
    SlaPolicy.objects.all().delete()
    return {
        Priority.NORMAL: SlaPolicyFactory(name="Normal"),
        Priority.URGENT: SlaPolicyFactory(
            name="Urgent",
            priority=Priority.URGENT,
            first_response_minutes=10,
            resolution_minutes=120,
        ),
    }


@pytest.fixture
def athens_office(db):
    team = TeamFactory(name="Athens office", time_zone="Europe/Athens")
    BusinessHours.objects.bulk_create(
        BusinessHours(team=team, weekday=day, opens=time(9), closes=time(17)) for day in range(5)
    )
    return team


def new_ticket(team, **kwargs) -> Ticket:
    return ticket_create(subject="Card declined", reason=Reason.PAYMENT_FAILED, team=team, **kwargs)


def reloaded(ticket: Ticket) -> Ticket:
    return Ticket.objects.get(pk=ticket.pk)


@pytest.mark.django_db
def test_a_new_ticket_is_due_by_its_policy(clock, policies, team):
    ticket = reloaded(new_ticket(team))

    assert ticket.sla_policy == policies[Priority.NORMAL]
    assert ticket.first_response_due_at == clock.now + hours(1)
    assert ticket.resolution_due_at == clock.now + hours(8)
    assert ticket.due_at == ticket.first_response_due_at
    assert (ticket.first_response_breached, ticket.resolution_breached) == (None, None)


@pytest.mark.django_db
def test_a_business_hours_policy_counts_in_the_teams_hours_and_zone(clock, policies, athens_office):
    SlaPolicy.objects.update(business_hours=True)
    clock.now = at(ATHENS, 2024, 3, 8, 16, 30)  # Friday

    ticket = reloaded(new_ticket(athens_office))

    assert ticket.first_response_due_at == at(ATHENS, 2024, 3, 11, 9, 30)
    assert ticket.resolution_due_at == at(ATHENS, 2024, 3, 11, 16, 30)


@pytest.mark.django_db
def test_a_team_or_reason_policy_beats_the_general_one(clock, policies, team):
    disputes = SlaPolicyFactory(reason=Reason.DISPUTE, first_response_minutes=5)
    this_team = SlaPolicyFactory(team=team, first_response_minutes=30)
    elsewhere = TeamFactory(name="Wallets")

    assert reloaded(new_ticket(team)).sla_policy == this_team
    assert reloaded(new_ticket(elsewhere)).sla_policy == policies[Priority.NORMAL]
    dispute = ticket_create(subject="Dispute", reason=Reason.DISPUTE, team=elsewhere)
    assert reloaded(dispute).sla_policy == disputes
    assert reloaded(dispute).first_response_due_at == clock.now + timedelta(minutes=5)


@pytest.mark.django_db
def test_without_a_fitting_policy_a_ticket_has_no_targets(clock, policies, team):
    SlaPolicy.objects.all().delete()

    ticket = reloaded(new_ticket(team))

    assert ticket.sla_policy is None
    assert (ticket.first_response_due_at, ticket.resolution_due_at, ticket.due_at) == (None,) * 3


@pytest.mark.django_db
def test_answering_in_time_meets_the_first_response_and_moves_due_to_the_resolution(
    clock, policies, team, agent
):
    ticket = new_ticket(team)
    clock.advance(minutes=59)

    ticket_reply(ticket=ticket, author=agent, body="Could you try another card?")

    ticket = reloaded(ticket)
    assert ticket.first_response_breached is False
    assert ticket.due_at == ticket.resolution_due_at


@pytest.mark.django_db
def test_answering_late_records_a_breached_first_response(clock, policies, team, agent):
    ticket = new_ticket(team)
    clock.advance(minutes=61)

    ticket_reply(ticket=ticket, author=agent, body="Sorry for the wait")
    ticket_reply(ticket=ticket, author=agent, body="A second reply decides nothing")

    assert reloaded(ticket).first_response_breached is True


@pytest.mark.django_db
def test_waiting_on_the_customer_stops_the_clock_and_resuming_moves_the_targets(
    clock, policies, team, agent
):
    created = clock.now
    ticket = new_ticket(team)
    clock.advance(minutes=20)

    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    paused = reloaded(ticket)
    assert paused.due_at is None
    assert paused.sla_paused_at == clock.now
    assert tickets_breaching_sla(within=timedelta(days=30)).count() == 0

    clock.advance(days=2)
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)

    resumed = reloaded(ticket)
    assert resumed.sla_paused_at is None
    assert resumed.first_response_due_at == created + hours(1) + timedelta(days=2)
    assert resumed.resolution_due_at == created + hours(8) + timedelta(days=2)
    assert resumed.due_at == resumed.first_response_due_at
    assert resumed.first_response_breached is None


@pytest.mark.django_db
def test_a_wait_over_the_weekend_moves_targets_by_the_business_hours_it_took(
    clock, policies, athens_office, agent
):
    SlaPolicy.objects.update(business_hours=True)
    clock.now = at(ATHENS, 2024, 3, 8, 15)  # Friday: answer by 16:00, solve by Monday 15:00
    ticket = new_ticket(athens_office)
    clock.now = at(ATHENS, 2024, 3, 8, 15, 30)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)

    clock.now = at(ATHENS, 2024, 3, 11, 10)  # 1.5 h on Friday, 1 h on Monday
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)

    ticket = reloaded(ticket)
    assert ticket.first_response_due_at == at(ATHENS, 2024, 3, 11, 10, 30)
    assert ticket.resolution_due_at == at(ATHENS, 2024, 3, 12, 9, 30)  # Tuesday morning


@pytest.mark.django_db
def test_a_reply_while_waiting_on_the_customer_does_not_count_the_wait(
    clock, policies, team, agent
):
    created = clock.now
    ticket = new_ticket(team)
    clock.advance(minutes=30)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    clock.advance(hours=2)  # past the hour, but the clock stood still

    ticket_reply(ticket=ticket, author=agent, body="Any news from your bank?")

    ticket = reloaded(ticket)
    assert ticket.first_response_breached is False
    assert ticket.first_response_due_at == created + hours(3)
    assert ticket.due_at is None  # still waiting on the customer


@pytest.mark.django_db
def test_a_target_already_past_due_when_the_wait_begins_stays_breached(
    clock, policies, team, agent
):
    ticket = new_ticket(team)
    clock.advance(hours=2)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    due_before = reloaded(ticket).first_response_due_at
    clock.advance(days=1)
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)

    ticket = reloaded(ticket)
    assert ticket.first_response_breached is True
    assert ticket.first_response_due_at == due_before
    assert ticket.resolution_breached is None  # still an hour to go on that one


@pytest.mark.django_db
def test_solving_in_time_meets_the_resolution_and_reopening_gives_back_the_time_left(
    clock, policies, team, agent
):
    created = clock.now
    ticket = new_ticket(team)
    clock.advance(minutes=10)
    ticket_reply(ticket=ticket, author=agent, body="Refund on its way")
    clock.advance(hours=5)

    ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED)
    solved = reloaded(ticket)
    assert solved.resolution_breached is False
    assert solved.due_at is None

    clock.advance(days=3)  # the customer writes again
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)
    reopened = reloaded(ticket)
    assert reopened.resolution_breached is None
    assert reopened.resolution_due_at == created + hours(8) + timedelta(days=3)
    assert reopened.due_at == reopened.resolution_due_at
    assert reopened.first_response_breached is False


@pytest.mark.django_db
def test_solving_late_records_a_breached_resolution(clock, policies, team, agent):
    ticket = new_ticket(team)
    clock.advance(hours=9)

    ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED)

    ticket = reloaded(ticket)
    assert ticket.resolution_breached is True
    assert ticket.first_response_breached is True  # never answered, and it was due


@pytest.mark.django_db
def test_solving_straight_from_pending_counts_the_wait(clock, policies, team, agent):
    ticket = new_ticket(team)
    clock.advance(hours=7)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    clock.advance(hours=5)  # twelve hours after opening, seven of them running

    ticket_update(ticket=ticket, actor=agent, status=Status.SOLVED)

    assert reloaded(ticket).resolution_breached is False


@pytest.mark.django_db
def test_a_priority_change_counts_again_from_the_opening_keeping_the_waits(
    clock, policies, team, agent
):
    created = clock.now
    ticket = new_ticket(team)
    clock.advance(minutes=5)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    clock.advance(hours=1)
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)

    ticket_update(ticket=ticket, actor=agent, priority=Priority.URGENT)

    ticket = reloaded(ticket)
    assert ticket.sla_policy == policies[Priority.URGENT]
    assert ticket.first_response_due_at == created + timedelta(minutes=10) + hours(1)
    assert ticket.resolution_due_at == created + hours(2) + hours(1)
    assert ticket.due_at == ticket.first_response_due_at


@pytest.mark.django_db
def test_a_priority_change_while_waiting_counts_the_whole_wait_once(clock, policies, team, agent):
    created = clock.now
    ticket = new_ticket(team)
    clock.advance(minutes=5)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    clock.advance(hours=1)
    ticket_update(ticket=ticket, actor=agent, priority=Priority.URGENT)
    clock.advance(hours=1)

    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)

    ticket = reloaded(ticket)
    assert ticket.first_response_due_at == created + timedelta(minutes=10) + hours(2)


@pytest.mark.django_db
def test_a_team_change_counts_in_the_new_teams_hours(clock, policies, team, athens_office, agent):
    SlaPolicy.objects.update(business_hours=True)
    clock.now = at(ATHENS, 2024, 3, 9, 12)  # Saturday
    ticket = new_ticket(team)  # a team without hours: open now
    assert reloaded(ticket).first_response_due_at == clock.now + hours(1)

    ticket_update(ticket=ticket, actor=None, team=athens_office)

    assert reloaded(ticket).first_response_due_at == at(ATHENS, 2024, 3, 11, 10)


# Disputes -----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_dispute_is_solved_by_its_deadline_while_the_first_response_follows_the_policy(
    clock, policies, team, agent
):
    created = clock.now
    deadline = created + timedelta(days=10)
    ticket = ticket_create(
        subject="Dispute opened",
        reason=Reason.DISPUTE,
        priority=Priority.URGENT,
        team=team,
        due_at=deadline,
    )
    ticket = reloaded(ticket)
    assert ticket.resolution_due_at == deadline
    assert ticket.first_response_due_at == clock.now + timedelta(minutes=10)
    assert ticket.due_at == ticket.first_response_due_at

    clock.advance(minutes=5)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    assert reloaded(ticket).due_at == deadline  # waiting on evidence: the deadline still runs
    clock.advance(days=2)
    ticket_update(ticket=ticket, actor=agent, status=Status.OPEN)

    ticket = reloaded(ticket)
    assert ticket.resolution_due_at == deadline
    assert ticket.first_response_due_at == created + timedelta(minutes=10, days=2)


@pytest.mark.django_db
def test_a_dispute_webhook_sets_the_resolution_due_from_the_evidence_deadline(
    post_stripe, settings
):
    settings.DISPUTE_DUE_MARGIN_HOURS = 48
    opened = stripe_event("charge.dispute.created", event_id="evt_open", created=1_700_000_000)
    dispute = opened["data"]["object"]
    first_deadline = datetime.fromtimestamp(dispute["evidence_details"]["due_by"], tz=UTC)
    later = first_deadline + timedelta(days=7)
    extended = stripe_object_event(
        "dispute",
        event_type="charge.dispute.updated",
        event_id="evt_extended",
        created=1_700_100_000,
        id=dispute["id"],
        charge=dispute["charge"],
        evidence_details={**dispute["evidence_details"], "due_by": int(later.timestamp())},
    )

    post_stripe(opened)
    assert Ticket.objects.get().resolution_due_at == first_deadline - hours(48)
    post_stripe(extended)

    ticket = Ticket.objects.get()
    assert ticket.resolution_due_at == later - hours(48)
    assert ticket.resolution_deadline == later - hours(48)


# Noticing breaches, and what the page shows -------------------------------------------------


@pytest.mark.django_db
def test_the_breach_sweep_records_passed_targets_of_running_clocks_only(
    clock, policies, team, agent
):
    late = new_ticket(team)
    waiting = new_ticket(team)
    clock.advance(minutes=30)
    ticket_update(ticket=waiting, actor=agent, status=Status.PENDING)
    fresh = new_ticket(team)
    clock.advance(minutes=45)

    assert sla_record_breaches() == 1
    assert sla_record_breaches() == 0

    assert reloaded(late).first_response_breached is True
    assert reloaded(waiting).first_response_breached is None
    assert reloaded(fresh).first_response_breached is None


@pytest.mark.django_db
def test_a_breach_noticed_on_one_ticket_is_recorded_on_it_alone(clock, policies, team, agent):
    late, also_late = new_ticket(team), new_ticket(team)
    clock.advance(hours=9)

    assert sla_record_breaches(ticket=late) == 2

    assert (late.first_response_breached, late.resolution_breached) == (True, True)
    assert reloaded(also_late).first_response_breached is None
    ticket_reply(ticket=late, author=agent, body="Sorry")
    assert reloaded(late).first_response_breached is True  # a late reply does not undo it


@pytest.mark.django_db
def test_a_dispute_deadline_passed_while_waiting_on_the_customer_is_a_breach(
    clock, policies, team, agent
):
    ticket = ticket_create(
        subject="Dispute",
        reason=Reason.DISPUTE,
        team=team,
        due_at=clock.now + hours(3),
    )
    ticket_reply(ticket=ticket, author=agent, body="Please send the delivery receipt")
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    clock.advance(hours=4)

    assert sla_record_breaches() == 1
    assert reloaded(ticket).resolution_breached is True


@pytest.mark.django_db
def test_breaching_soon_lists_open_tickets_due_within_the_window_and_what_is_due(
    clock, policies, team, agent
):
    overdue = new_ticket(team)
    answered = new_ticket(team)
    ticket_reply(ticket=answered, author=agent, body="On it")
    clock.advance(hours=7, minutes=30)
    soon = new_ticket(team)
    solved = new_ticket(team)
    ticket_update(ticket=solved, actor=agent, status=Status.SOLVED)

    breaching = list(tickets_breaching_sla(within=timedelta(hours=1)))

    assert breaching == [overdue, answered, soon]
    assert [ticket.sla_target for ticket in breaching] == [
        "first_response",
        "resolution",
        "first_response",
    ]
    assert list(tickets_breaching_sla(within=timedelta(0))) == [overdue]


@pytest.mark.django_db
def test_the_summary_says_what_is_met_running_or_paused(clock, policies, team, agent):
    ticket = new_ticket(team)
    clock.advance(minutes=30)
    ticket_reply(ticket=ticket, author=agent, body="Hello")
    clock.advance(hours=1)
    ticket_update(ticket=ticket, actor=agent, status=Status.PENDING)
    clock.advance(hours=3)

    summary = sla_summary(reloaded(ticket))

    first_response, resolution = summary.targets
    assert first_response.state == SlaState.MET
    assert resolution.state == SlaState.PAUSED
    assert resolution.left == hours(8) - hours(1.5)
    assert resolution.left_in_words.replace("\xa0", " ") == "6 hours"
