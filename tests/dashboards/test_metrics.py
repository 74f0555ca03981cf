"""Each figure of the dashboard on the week of conftest.py, the right answer worked out by hand."""

from datetime import date, timedelta

import pytest

from dashboards import metrics
from dashboards.metrics import Filters
from tests.dashboards.conftest import NOW, WEEK, at, chat, entry, payment
from tickets.models import Channel, EntryKind, Reason

pytestmark = pytest.mark.django_db

EVERYTHING = Filters()


def minutes(count: float) -> timedelta:
    return timedelta(minutes=count)


# Volume ------------------------------------------------------------------------------------


def test_it_counts_tickets_opened_and_solved_per_day(week):
    volume = metrics.volume(WEEK, EVERYTHING)

    # t1…t5 opened one a day from the 10th; t1 solved on the 10th, t2 on the 12th.
    assert volume.per_day("opened") == {
        date(2026, 11, 10): 1, date(2026, 11, 11): 1, date(2026, 11, 12): 1,
        date(2026, 11, 13): 1, date(2026, 11, 14): 1, date(2026, 11, 15): 0,
        date(2026, 11, 16): 0,
    }  # fmt: skip
    assert volume.per_day("solved")[date(2026, 11, 10)] == 1
    assert volume.per_day("solved")[date(2026, 11, 12)] == 1
    assert (volume.opened, volume.solved) == (5, 2)


def test_it_counts_tickets_by_reason_and_by_channel(week):
    volume = metrics.volume(WEEK, EVERYTHING)

    assert volume.per("opened", "reason") == {
        Reason.PAYMENT_FAILED: 2, Reason.DISPUTE: 1, Reason.QUESTION: 1, Reason.REFUND_FAILED: 1,
    }  # fmt: skip
    assert volume.per("opened", "channel") == {
        Channel.WEBHOOK: 2, Channel.EMAIL: 1, Channel.CHAT: 1, Channel.AGENT: 1,
    }  # fmt: skip
    assert volume.per("solved", "reason") == {Reason.PAYMENT_FAILED: 1, Reason.DISPUTE: 1}
    by_reason = volume.per_day_and("opened", "reason")
    assert by_reason[Reason.PAYMENT_FAILED][date(2026, 11, 13)] == 1
    assert sum(by_reason[Reason.PAYMENT_FAILED].values()) == 2


def test_it_compares_the_volume_with_the_week_before(week):
    volume = metrics.volume(WEEK, EVERYTHING)

    # Only t6, opened and solved on the 5th; the ticket of October is in neither week.
    assert (volume.opened_previous, volume.solved_previous) == (1, 1)


def test_a_day_is_a_day_of_the_reporting_time_zone(week, settings):
    # 00:30 on the 10th in Athens is 22:30 on the 9th in UTC: the previous week's last day.
    settings.TIME_ZONE = "Europe/Athens"
    from django.utils import timezone

    timezone.activate("Europe/Athens")
    try:
        from tests.dashboards.conftest import stamp

        stamp(week.t1, created_at=at(9, 22, 30))
        volume = metrics.volume(WEEK, EVERYTHING)
    finally:
        timezone.deactivate()

    assert volume.per_day("opened")[date(2026, 11, 10)] == 1  # t1, 00:30 Athens time
    assert volume.opened == 5


# Speed and SLA -----------------------------------------------------------------------------


def test_it_gives_median_and_90th_percentile_of_first_response_and_resolution(week):
    speed = metrics.speed(WEEK, EVERYTHING)

    # First responses 10, 30 and 60 min: median 30; the 90th lies 0.8 of the way from 30 to 60.
    assert speed.get("first_response", "current", 0.5) == minutes(30)
    assert speed.get("first_response", "current", 0.9) == minutes(54)
    # Resolutions 2 h and 24 h: median 13 h; 90th at 2 h + 0.9 × 22 h.
    assert speed.get("resolution", "current", 0.5) == timedelta(hours=13)
    assert speed.get("resolution", "current", 0.9) == timedelta(hours=21, minutes=48)
    # The week before: t6 alone.
    assert speed.get("first_response", "previous", 0.5) == minutes(20)
    assert speed.get("resolution", "previous", 0.9) == timedelta(hours=2)


def test_speed_is_empty_without_tickets(db):
    speed = metrics.speed(WEEK, EVERYTHING)

    assert speed.get("first_response", "current", 0.5) is None


def test_it_gives_the_share_of_decided_sla_targets_met(week):
    sla = metrics.sla(WEEK, EVERYTHING, now=NOW)

    # Due in the week and decided: t1 both met, t2 first met and resolution breached, t3 and t4
    # first response breached. t5's target is due in the week but still open: not decided.
    assert (sla.met, sla.decided) == (3, 6)
    assert sla.compliance == 0.5
    assert (sla.met_previous, sla.decided_previous, sla.compliance_previous) == (2, 2, 1.0)


def test_it_counts_open_tickets_breached_now_and_breaching_soon(week):
    sla = metrics.sla(WEEK, EVERYTHING, now=NOW)

    # t4 was due at 11:00, t5 is due at 12:30 (within the 60 warning minutes); t3 next week.
    assert (sla.breached_now, sla.breaching_soon) == (1, 1)


# Payments ----------------------------------------------------------------------------------


def test_it_gives_the_failure_rate_by_provider(week):
    payments = metrics.payments(WEEK, EVERYTHING)

    # Stripe: p1 p2 p4 p5 p6 created in the week, all but p5 failed. PayPal: p3, failed.
    rates = {row.provider: (row.failed, row.payments) for row in payments.by_provider}
    assert rates == {"stripe": (4, 5), "paypal": (1, 1)}
    assert payments.failure_rate == 5 / 6
    assert payments.failure_rate_previous == 1.0  # p7


def test_it_gives_the_failure_rate_by_decline_code(week):
    payments = metrics.payments(WEEK, EVERYTHING)

    codes = {row.code: (row.failed, row.rate) for row in payments.by_decline_code}
    assert codes == {
        "insufficient_funds": (2, 2 / 6),
        "card_declined": (1, 1 / 6),
        "INSTRUMENT_DECLINED": (1, 1 / 6),
        "expired_card": (1, 1 / 6),
    }
    assert payments.by_decline_code[0].code == "insufficient_funds"


def test_it_lists_open_disputes_and_counts_won_and_lost_ones(week):
    payments = metrics.payments(WEEK, EVERYTHING)

    # dp_open is at stake; dp_won was won in the week; dp_lost was lost before it.
    assert [(d.currency, d.open, d.at_stake_minor, d.won, d.won_minor, d.lost) for d in
            payments.disputes] == [("USD", 1, 1_000, 1, 1_500, 0)]  # fmt: skip
    assert payments.open_disputes == [week.d1]


def test_it_counts_failed_refunds(week):
    payments = metrics.payments(WEEK, EVERYTHING)

    assert [(r.currency, r.count, r.amount_minor, r.count_previous) for r in
            payments.refunds_failed] == [("USD", 1, 500, 1)]  # fmt: skip


# Recovered revenue -------------------------------------------------------------------------


def test_recovered_revenue_counts_payments_that_failed_had_a_contact_then_succeeded(week):
    recovered = metrics.recovered(WEEK, EVERYTHING)

    # p1 (a chat after its failure) and p6 (an agent reply on its ticket). Not p2 (no contact),
    # p3 (failed again, never succeeded), p4 (its only chat came before the failure).
    amounts = {row.currency: (row.count, row.amount_minor) for row in recovered.by_currency}
    assert amounts["USD"] == (1, 4_900)
    assert amounts["EUR"] == (1, 3_000)
    assert recovered.count == 2
    # Failed in the week: p1 p2 p3 p4 p6.
    assert recovered.failed == 5
    assert recovered.share_of_failed == 2 / 5


def test_recovered_revenue_of_the_week_before_comes_from_a_customer_message(week):
    recovered = metrics.recovered(WEEK, EVERYTHING)

    # p7: its customer wrote on its ticket after the failure.
    assert {row.currency: row.amount_minor_previous for row in recovered.by_currency} == {
        "USD": 1_500,
        "EUR": 0,
    }
    assert (recovered.count_previous, recovered.failed_previous) == (1, 1)


def test_a_recovery_without_contact_does_not_count(week):
    lone = payment(
        created=at(15, 8), failed_at=at(15, 8), succeeded_at=at(15, 9), recovered_at=at(15, 9),
        recovered_amount_minor=100, status="succeeded",
    )  # fmt: skip
    # A note agents wrote to each other on its ticket is no contact with the customer.
    ticket = week.t5
    ticket.payments.add(lone)
    entry(ticket, EntryKind.INTERNAL_NOTE, at(15, 8, 30))

    assert metrics.recovered(WEEK, EVERYTHING).count == 2


def test_a_contact_after_the_success_does_not_count(week):
    late = payment(
        created=at(15, 8), failed_at=at(15, 8), succeeded_at=at(15, 9), recovered_at=at(15, 9),
        recovered_amount_minor=100, status="succeeded",
    )  # fmt: skip
    chat(ticket=week.t5, customer=late.customer, created=at(15, 10))

    assert metrics.recovered(WEEK, EVERYTHING).count == 2


def test_a_chat_of_the_customer_on_another_ticket_counts(week):
    helped = payment(
        created=at(15, 8), failed_at=at(15, 8), succeeded_at=at(15, 9), recovered_at=at(15, 9),
        recovered_amount_minor=100, status="succeeded",
    )  # fmt: skip
    chat(ticket=week.t5, customer=helped.customer, created=at(15, 8, 30))

    assert metrics.recovered(WEEK, EVERYTHING).count == 3


# Satisfaction ------------------------------------------------------------------------------


def test_csat_and_response_rate_of_ticket_surveys(week):
    tickets = metrics.satisfaction(WEEK, EVERYTHING).tickets

    # Ratings 5 (t1) and 2 (t2); three "request solved" emails sent in the week.
    assert (tickets.count, tickets.happy, tickets.surveys) == (2, 1, 3)
    assert tickets.csat == 0.5
    assert tickets.mean == 3.5
    assert tickets.response_rate == 2 / 3


def test_csat_and_response_rate_of_chats(week):
    chats = metrics.satisfaction(WEEK, EVERYTHING).chats

    # Three chats closed, two rated: 4 and 1.
    assert (chats.count, chats.happy, chats.surveys) == (2, 1, 3)
    assert chats.csat == 0.5
    assert chats.mean == 2.5


def test_csat_combines_surveys_and_chats(week):
    satisfaction = metrics.satisfaction(WEEK, EVERYTHING)

    combined = satisfaction.combined
    assert (combined.count, combined.happy, combined.surveys) == (4, 2, 6)
    assert combined.csat == 0.5
    assert combined.mean == 3.0
    assert combined.response_rate == 4 / 6
    # The week before: t6 rated 4 of one survey.
    previous = satisfaction.combined_previous
    assert (previous.csat, previous.response_rate) == (1.0, 1.0)


def test_it_shows_the_latest_comments_first(week):
    comments = metrics.satisfaction(WEEK, EVERYTHING).comments

    assert [(c.text, c.source, c.rating, c.ticket_id) for c in comments] == [
        ("Too slow", "ticket", 2, week.t2.pk),
        ("Quick, thanks", "ticket", 5, week.t1.pk),
        ("Nice chat", "chat", 4, week.t1.pk),
    ]


# Agents ------------------------------------------------------------------------------------


def test_it_gives_each_agents_figures(week):
    rows = metrics.agents(WEEK, EVERYTHING)

    alice, bob = rows
    assert alice.agent == week.alice
    # Solved t1 and t2; answered in 10 and 30 min; rated 5 and 2 (surveys) and 4 (chat).
    assert (alice.solved, alice.median_first_response) == (2, minutes(20))
    assert (alice.ratings.count, alice.ratings.happy, alice.chats_handled) == (3, 2, 1)
    # Answered t3 in 60 min; took two chats, one rated 1.
    assert bob.agent == week.bob
    assert (bob.solved, bob.median_first_response) == (0, minutes(60))
    assert (bob.ratings.count, bob.ratings.csat, bob.chats_handled) == (1, 0.0, 2)


# Filters -----------------------------------------------------------------------------------


def test_the_team_filter_narrows_every_figure(week):
    wallets = Filters(team_id=week.wallets.pk)

    assert metrics.volume(WEEK, wallets).opened == 1  # t3
    assert metrics.speed(WEEK, wallets).get("first_response", "current", 0.5) == minutes(60)
    # p3 is the only payment on a Wallets ticket.
    assert metrics.payments(WEEK, wallets).failed == 1
    assert metrics.recovered(WEEK, wallets).count == 0


@pytest.mark.parametrize(
    ("filters", "opened"),
    [
        (Filters(reason=Reason.DISPUTE), 1),
        (Filters(channel=Channel.WEBHOOK), 2),
        (Filters(provider="paypal"), 1),  # t3, with p3
        (Filters(provider="stripe"), 3),  # t1 (p1), t4 (p6), t5 (p5)
    ],
)
def test_reason_channel_and_provider_filters(week, filters, opened):
    assert metrics.volume(WEEK, filters).opened == opened


def test_the_provider_filter_narrows_payments(week):
    paypal = metrics.payments(WEEK, Filters(provider="paypal"))

    assert [(row.provider, row.failed, row.payments) for row in paypal.by_provider] == [
        ("paypal", 1, 1)
    ]


def test_an_agents_own_figures(week):
    own = Filters(assignee_id=week.alice.pk)

    assert metrics.volume(WEEK, own).opened == 2  # t1, t2
    assert [row.agent for row in metrics.agents(WEEK, own)] == [week.alice]
    satisfaction = metrics.satisfaction(WEEK, own)
    assert (satisfaction.tickets.count, satisfaction.chats.count) == (2, 1)
    # Her tickets hold p1, recovered after the chat.
    assert metrics.recovered(WEEK, own).count == 1
