"""The periodic scans: SLA reminders and breaches, dispute deadlines, the admins' digest."""

from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail

from notifications.models import Channel, Kind, Notification
from notifications.scans import daily_digest, dispute_deadline_scan, sla_scan
from payments.models import Dispute, DisputeOutcome, Provider
from tests.factories import (
    AdminFactory,
    AgentFactory,
    PaymentFactory,
    TeamFactory,
    TicketFactory,
)
from tickets.models import Reason, Status
from tickets.services import ticket_create, ticket_update

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 12, 4, 10, 0, tzinfo=UTC)


@pytest.fixture
def team():
    return TeamFactory(name="Payments")


@pytest.fixture
def sam(team):
    return AgentFactory(team=team, email="sam@paydesk.test")


@pytest.fixture
def lee(team):
    return AgentFactory(team=team, email="lee@paydesk.test")


def notices(kind, user=None):
    found = Notification.objects.filter(kind=kind, channel=Channel.IN_APP)
    return found.filter(user=user) if user else found


def test_the_assignee_is_warned_an_hour_before_the_due_time_once(sam, lee, team):
    near = TicketFactory(team=team, assignee=sam, status=Status.OPEN,
                         due_at=NOW + timedelta(minutes=45))  # fmt: skip
    TicketFactory(team=team, assignee=sam, status=Status.OPEN, due_at=NOW + timedelta(hours=3))

    sla_scan(now=NOW)
    sla_scan(now=NOW + timedelta(minutes=1))

    (warning,) = notices(Kind.SLA_WARNING)
    assert (warning.user, warning.ticket) == (sam, near)
    assert not notices(Kind.SLA_WARNING, lee).exists()


def test_a_ticket_waiting_on_the_customer_is_not_chased(sam, team):
    from django.utils import timezone

    waiting = ticket_create(subject="Card", reason=Reason.PAYMENT_FAILED, team=team)
    ticket_update(ticket=waiting, actor=sam, assignee=sam, status=Status.PENDING)
    answered_soon = ticket_create(subject="Card 2", reason=Reason.PAYMENT_FAILED, team=team)
    ticket_update(ticket=answered_soon, actor=sam, assignee=sam)
    answered_soon.refresh_from_db()

    sla_scan(now=answered_soon.first_response_due_at - timedelta(minutes=30))

    (warning,) = notices(Kind.SLA_WARNING, sam)
    assert warning.ticket == answered_soon
    assert warning.context["target"] == "first_response"
    assert timezone.is_aware(answered_soon.first_response_due_at)


def test_an_unassigned_ticket_near_breach_warns_its_whole_team(sam, lee, team):
    TicketFactory(team=team, status=Status.NEW, due_at=NOW + timedelta(minutes=30))
    AgentFactory(team=TeamFactory(name="Billing"))

    sla_scan(now=NOW)

    assert set(notices(Kind.SLA_WARNING).values_list("user", flat=True)) == {sam.pk, lee.pk}


def test_a_breach_is_announced_once_emailed_by_default_and_recorded(
    sam, team, django_capture_on_commit_callbacks
):
    ticket = TicketFactory(team=team, assignee=sam, status=Status.OPEN,
                           due_at=NOW - timedelta(minutes=2),
                           first_response_due_at=NOW - timedelta(minutes=2))  # fmt: skip

    with django_capture_on_commit_callbacks(execute=True):
        sla_scan(now=NOW)
        sla_scan(now=NOW + timedelta(minutes=5))

    assert notices(Kind.SLA_BREACHED, sam).count() == 1
    (email,) = mail.outbox
    assert "breached its first-response target" in email.subject
    ticket.refresh_from_db()
    assert ticket.first_response_breached is True


def test_a_due_time_moved_later_warns_again_for_the_new_one(sam, team):
    ticket = TicketFactory(team=team, assignee=sam, status=Status.OPEN,
                           due_at=NOW + timedelta(minutes=30))  # fmt: skip
    sla_scan(now=NOW)
    ticket.due_at = NOW + timedelta(minutes=90)
    ticket.save(update_fields=["due_at"])

    sla_scan(now=NOW + timedelta(minutes=40))

    assert notices(Kind.SLA_WARNING, sam).count() == 2


def test_old_breaches_found_late_are_not_announced(sam, team, settings):
    settings.SLA_BREACH_NOTICE_HOURS = 24
    TicketFactory(team=team, assignee=sam, status=Status.OPEN, due_at=NOW - timedelta(days=3))
    sla_scan(now=NOW)
    assert not Notification.objects.exists()


def _dispute(ticket_team, assignee, due_in: timedelta, outcome=DisputeOutcome.OPEN):
    payment = PaymentFactory()
    dispute = Dispute.objects.create(
        provider=Provider.STRIPE, provider_dispute_id=f"dp_{payment.pk}", payment=payment,
        amount_minor=4900, currency="EUR", outcome=outcome, evidence_due_at=NOW + due_in,
    )  # fmt: skip
    ticket = TicketFactory(team=ticket_team, assignee=assignee, reason=Reason.DISPUTE,
                           status=Status.OPEN, payments=[payment])  # fmt: skip
    return dispute, ticket


def test_dispute_deadlines_remind_72_then_24_hours_ahead(sam, team):
    _dispute(team, sam, timedelta(hours=70))

    dispute_deadline_scan(now=NOW)
    dispute_deadline_scan(now=NOW + timedelta(hours=1))
    assert notices(Kind.DISPUTE_DEADLINE_72H, sam).count() == 1
    assert not notices(Kind.DISPUTE_DEADLINE_24H).exists()

    dispute_deadline_scan(now=NOW + timedelta(hours=47))  # 23 h left
    assert notices(Kind.DISPUTE_DEADLINE_24H, sam).count() == 1


def test_a_dispute_first_seen_a_day_before_gets_only_the_24_hour_reminder(sam, team):
    _dispute(team, sam, timedelta(hours=20))
    dispute_deadline_scan(now=NOW)
    assert not notices(Kind.DISPUTE_DEADLINE_72H).exists()
    assert notices(Kind.DISPUTE_DEADLINE_24H, sam).count() == 1


def test_decided_disputes_and_far_deadlines_remind_nobody(sam, team):
    _dispute(team, sam, timedelta(hours=10), outcome=DisputeOutcome.WON)
    _dispute(team, sam, timedelta(days=6))
    dispute_deadline_scan(now=NOW)
    assert not Notification.objects.exists()


def test_the_digest_tells_admins_the_figures_of_the_day_before(
    sam, team, settings, django_capture_on_commit_callbacks
):
    from django.utils import timezone

    from payments.models import Payment

    settings.TIME_ZONE = "UTC"
    timezone.activate("UTC")
    admin = AdminFactory(email="boss@paydesk.test")
    AdminFactory(email="")  # no address: nothing to send to
    yesterday = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
    day_before = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
    for created in (yesterday, yesterday + timedelta(hours=5), day_before):
        ticket = TicketFactory(team=team)
        type(ticket).objects.filter(pk=ticket.pk).update(created_at=created)
    solved = TicketFactory(team=team, status=Status.SOLVED, solved_at=yesterday)
    type(solved).objects.filter(pk=solved.pk).update(
        resolution_due_at=yesterday - timedelta(hours=1), resolution_breached=True
    )
    type(solved).objects.filter(pk=TicketFactory(team=team).pk).update(
        first_response_due_at=yesterday,
        first_response_breached=False,  # met: not counted
    )
    for amount, currency, when in ((4900, "EUR", yesterday), (1500, "EUR", yesterday),
                                   (2000, "USD", yesterday), (999, "USD", day_before)):  # fmt: skip
        payment = PaymentFactory(amount_minor=amount, currency=currency)
        Payment.objects.filter(pk=payment.pk).update(
            recovered_at=when, recovered_amount_minor=amount
        )
    _dispute(team, sam, timedelta(hours=30))

    with django_capture_on_commit_callbacks(execute=True):
        assert daily_digest(now=NOW) == 1
        assert daily_digest(now=NOW + timedelta(hours=1)) == 0  # once a day

    (email,) = mail.outbox
    assert email.to == ["boss@paydesk.test"]
    assert "Dec. 3, 2026" in email.subject
    body = email.body
    # Opened: the two of the 3rd, plus the ones the factories made today do not count.
    assert "Tickets opened: 2" in body
    assert "Tickets solved: 1" in body
    assert "SLA targets breached: 1" in body
    assert "Payments recovered: 3" in body
    assert "€64.00" in body
    assert "$20.00" in body
    assert "€49.00" in body  # the dispute due within 72 hours
    assert Notification.objects.get(kind=Kind.DAILY_DIGEST).user == admin


def test_a_scan_passes_over_tickets_it_already_told_of_without_a_query_each(
    sam, lee, team, django_assert_max_num_queries
):
    for minutes in (10, 20, 30, 40):
        TicketFactory(team=team, status=Status.OPEN, due_at=NOW + timedelta(minutes=minutes))
    assert sla_scan(now=NOW) == 8  # 4 tickets, each to both agents in the app

    with django_assert_max_num_queries(4):  # the tickets, two breach updates, who was told
        assert sla_scan(now=NOW + timedelta(seconds=30)) == 0
