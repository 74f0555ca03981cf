"""Who hears what, in which language, once: notifications from the things that happen in Paydesk."""

import smtplib
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone, translation

from chat.models import Conversation
from notifications.models import (
    Channel,
    CustomerEmail,
    CustomerEmailText,
    Kind,
    Notification,
    SatisfactionRating,
    Status,
)
from notifications.services import (
    agent_preferences_update,
    notification_deliver,
    notifications_sweep,
    notify,
    unread_count,
    unsubscribe,
)
from tests.conftest import stripe_event
from tests.factories import AgentFactory, CustomerFactory, TeamFactory, TicketFactory
from tickets.models import EntryKind, Priority, Reason
from tickets.models import Status as TicketStatus
from tickets.services import (
    ticket_add_entry,
    ticket_create,
    ticket_reply,
    ticket_update,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    return TeamFactory(name="Payments")


@pytest.fixture
def sam(team):
    return AgentFactory(team=team, first_name="Sam", last_name="Rivera", email="sam@paydesk.test")


@pytest.fixture
def lee(team):
    return AgentFactory(team=team, first_name="Lee", last_name="Chan", email="lee@paydesk.test")


@pytest.fixture
def on_commit(django_capture_on_commit_callbacks):
    """Run what a change queues on commit (delivery runs in-process), nested callbacks too."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def emails_to(address: str) -> list:
    return [message for message in mail.outbox if address in message.to]


# Customers ------------------------------------------------------------------------------------


def test_a_failed_payment_emails_the_customer_once_however_often_stripe_reports_it(post_stripe):
    failed = stripe_event(
        "payment_intent.payment_failed", event_id="evt_pf_1", receipt_email="ana@example.com"
    )
    charge = stripe_event(
        "charge.failed", event_id="evt_cf_1", receipt_email="ana@example.com",
        payment_intent=failed["data"]["object"]["id"],
    )  # fmt: skip

    for event in (failed, failed, charge):
        assert post_stripe(event).status_code == 200

    (message,) = emails_to("ana@example.com")
    assert "did not go through" in message.subject
    assert "insufficient funds" in message.body.lower() or "declined" in message.body.lower()
    assert message.extra_headers["List-Unsubscribe"].startswith("<http")
    assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message.alternatives[0][1] == "text/html"


def test_a_greek_customer_reads_the_payment_email_in_greek(post_stripe):
    CustomerFactory(email="maria@example.gr", locale="el", stripe_customer_id="")
    event = stripe_event(
        "payment_intent.payment_failed", event_id="evt_pf_el", receipt_email="maria@example.gr"
    )

    post_stripe(event)

    (message,) = emails_to("maria@example.gr")
    assert "πληρωμή" in message.subject.lower()
    assert 'lang="el"' in message.alternatives[0][0]


def test_a_reply_reaches_the_customer_by_email_once_even_if_the_task_runs_twice(
    sam, team, on_commit
):
    customer = CustomerFactory(email="ana@example.com")
    ticket = TicketFactory(team=team, customer=customer, subject="Card declined")
    with on_commit():
        entry = ticket_reply(ticket=ticket, author=sam, body="Please try again now.")

    notification = Notification.objects.get(kind=Kind.AGENT_REPLIED)
    notification_deliver(notification.pk)  # a duplicate of the task
    notification_deliver(notification.pk)

    (message,) = mail.outbox
    assert message.subject == f"Re: [#{ticket.pk}] Card declined"
    assert "Please try again now." in message.body
    assert "Sam Rivera" in message.body
    notification.refresh_from_db()
    assert notification.status == Status.SENT
    assert notification.attempts == 1
    assert notification.subject_ref == f"entry:{entry.pk}"


def test_an_email_an_admin_switched_off_is_not_sent(sam, team, on_commit):
    CustomerEmail.objects.filter(kind=Kind.AGENT_REPLIED).update(enabled=False)
    ticket = TicketFactory(team=team, customer=CustomerFactory(email="ana@example.com"))

    with on_commit():
        ticket_reply(ticket=ticket, author=sam, body="Hello")

    assert mail.outbox == []
    notification = Notification.objects.get(kind=Kind.AGENT_REPLIED)
    assert notification.status == Status.SKIPPED
    assert "switched off" in notification.last_error


def test_the_admins_wording_is_used_in_its_language_and_pauls_default_elsewhere(
    sam, team, on_commit
):
    setting = CustomerEmail.objects.get(kind=Kind.AGENT_REPLIED)
    CustomerEmailText.objects.create(
        email=setting, language="el", subject="Απάντηση για το #{{ ticket_number }}",
        body="Γεια σας {{ customer_name }},\n\n{{ body }}\n\n{{ agent_name }}, Lumen & Oak",
    )  # fmt: skip
    greek = CustomerFactory(email="maria@example.gr", name="Μαρία", locale="el")
    english = CustomerFactory(email="ana@example.com", locale="en")
    with on_commit():
        for customer in (greek, english):
            ticket = TicketFactory(team=team, customer=customer, subject="Card")
            ticket_reply(ticket=ticket, author=sam, body="Δοκιμάστε ξανά & <b>σήμερα</b>")

    (to_greek,) = emails_to("maria@example.gr")
    assert to_greek.subject.startswith("Απάντηση για το #")
    assert to_greek.body.startswith("Γεια σας Μαρία,")
    assert "Δοκιμάστε ξανά & <b>σήμερα</b>" in to_greek.body  # plain text, not escaped
    assert "Lumen & Oak" in to_greek.body
    assert "&lt;b&gt;σήμερα&lt;/b&gt;" in to_greek.alternatives[0][0]  # the HTML part is
    (to_english,) = emails_to("ana@example.com")
    assert to_english.subject.startswith("Re: [#")


def test_an_unsubscribed_customer_gets_no_payment_alert_but_still_gets_replies(
    post_stripe, sam, team, on_commit
):
    unsubscribe("Ana@Example.com")
    post_stripe(
        stripe_event(
            "payment_intent.payment_failed", event_id="evt_un", receipt_email="ana@example.com"
        )
    )
    assert emails_to("ana@example.com") == []
    ticket = Notification.objects.get(kind=Kind.PAYMENT_FAILED).ticket

    with on_commit():
        ticket_reply(ticket=ticket, author=sam, body="We saw your payment fail.")

    (reply,) = emails_to("ana@example.com")
    assert "We saw your payment fail." in reply.body


def test_a_solved_ticket_sends_a_survey_whose_link_records_the_rating(client, sam, team, on_commit):
    ticket = TicketFactory(team=team, customer=CustomerFactory(email="ana@example.com"))
    with on_commit():
        ticket_update(ticket=ticket, actor=sam, status=TicketStatus.SOLVED)

    (message,) = mail.outbox
    link = next(word for word in message.body.split() if "/rate/" in word)
    path = link.split("://", 1)[1].split("/", 1)[1]
    page = client.get(f"/{path}")
    assert page.status_code == 200
    assert b'name="rating"' in page.content

    answered = client.post(f"/{path}", {"rating": "4", "comment": "Quick, thanks"})

    assert answered.status_code == 200
    rating = SatisfactionRating.objects.get(ticket=ticket)
    assert (rating.rating, rating.comment) == (4, "Quick, thanks")
    assert ticket.timeline.filter(body__contains="rated the support 4/5").exists()
    assert client.get("/rate/forged-token/").status_code == 400


def test_solving_a_ticket_again_after_it_reopened_sends_a_new_survey(sam, team, on_commit):
    ticket = TicketFactory(team=team, customer=CustomerFactory(email="ana@example.com"))
    with on_commit():
        ticket_update(ticket=ticket, actor=sam, status=TicketStatus.SOLVED)
        ticket_update(ticket=ticket, actor=sam, status=TicketStatus.OPEN)
        ticket_update(ticket=ticket, actor=sam, status=TicketStatus.SOLVED)
    assert len(mail.outbox) == 2


def test_the_unsubscribe_link_in_an_email_works_with_one_click(client, sam, team, on_commit):
    ticket = TicketFactory(team=team, customer=CustomerFactory(email="ana@example.com"))
    with on_commit():
        ticket_update(ticket=ticket, actor=sam, status=TicketStatus.SOLVED)
    header = mail.outbox[0].extra_headers["List-Unsubscribe"].strip("<>")
    path = "/" + header.split("://", 1)[1].split("/", 1)[1]

    assert b"ana@example.com" in client.get(path).content
    response = client.post(path, {"List-Unsubscribe": "One-Click"})  # no CSRF token: mail client

    assert response.status_code == 200
    from notifications.models import Unsubscribe

    assert Unsubscribe.objects.filter(email="ana@example.com").exists()
    assert client.post(path[:-3] + "xx/").status_code == 400


# Agents ---------------------------------------------------------------------------------------


def test_an_assignment_tells_the_assignee_in_the_app_and_by_email(sam, lee, team, on_commit):
    ticket = TicketFactory(team=team)
    with on_commit():
        ticket_update(ticket=ticket, actor=lee, assignee=sam)

    notices = Notification.objects.filter(user=sam, kind=Kind.TICKET_ASSIGNED)
    assert set(notices.values_list("channel", flat=True)) == {Channel.IN_APP, Channel.EMAIL}
    assert unread_count(sam) == 1
    (message,) = emails_to("sam@paydesk.test")
    assert f"#{ticket.pk}" in message.subject
    assert f"/desk/tickets/{ticket.pk}/" in message.body


def test_taking_a_ticket_yourself_notifies_nobody(sam, team, on_commit):
    with on_commit():
        ticket_update(ticket=TicketFactory(team=team), actor=sam, assignee=sam)
    assert not Notification.objects.exists()


def test_an_agent_who_turned_off_an_email_gets_the_notice_only_in_the_app(
    sam, lee, team, on_commit
):
    agent_preferences_update(user=sam, email_kinds=[Kind.SLA_BREACHED])
    with on_commit():
        ticket_update(ticket=TicketFactory(team=team), actor=lee, assignee=sam)

    assert list(Notification.objects.values_list("channel", flat=True)) == [Channel.IN_APP]
    assert mail.outbox == []


def test_an_agents_email_is_in_their_own_language(sam, lee, team, on_commit):
    from accounts.models import Profile

    Profile.objects.create(user=sam, language="el")
    with on_commit():
        ticket_update(ticket=TicketFactory(team=team), actor=lee, assignee=sam)
    (message,) = mail.outbox
    assert "ανατέθηκε" in message.subject


def test_a_customer_message_tells_the_assignee_unless_they_are_in_the_chat(sam, team, on_commit):
    ticket = TicketFactory(team=team, assignee=sam)
    with on_commit():
        ticket_add_entry(ticket=ticket, kind=EntryKind.CUSTOMER_MESSAGE, body="Any news?")
    assert Notification.objects.filter(user=sam, kind=Kind.CUSTOMER_REPLIED).count() == 1

    # The chat marks a message its agent, the ticket's assignee, reads as it arrives.
    with on_commit():
        ticket_add_entry(
            ticket=ticket, kind=EntryKind.CUSTOMER_MESSAGE, body="Still there?",
            data={"conversation": 1, "via": "chat", "assignee_in_chat": True},
        )  # fmt: skip
    assert Notification.objects.filter(user=sam, kind=Kind.CUSTOMER_REPLIED).count() == 1


def test_a_customer_message_on_a_ticket_nobody_has_tells_nobody(team, on_commit):
    with on_commit():
        ticket_add_entry(
            ticket=TicketFactory(team=team), kind=EntryKind.CUSTOMER_MESSAGE, body="Hi"
        )
    assert not Notification.objects.filter(kind=Kind.CUSTOMER_REPLIED).exists()


def test_a_new_dispute_tells_everyone_on_its_team_and_nobody_else(sam, lee, team, on_commit):
    outsider = AgentFactory(team=TeamFactory(name="Billing"))
    with on_commit():
        ticket_create(subject="Dispute opened", reason=Reason.DISPUTE, priority=Priority.URGENT,
                      team=team)  # fmt: skip

    told = set(Notification.objects.filter(kind=Kind.URGENT_TICKET).values_list("user", flat=True))
    assert told == {sam.pk, lee.pk}
    assert outsider.pk not in told
    assert {m.to[0] for m in mail.outbox} == {"sam@paydesk.test", "lee@paydesk.test"}


def test_a_normal_ticket_is_not_announced_to_the_team(sam, team, on_commit):
    with on_commit():
        ticket_create(subject="Question", reason=Reason.QUESTION, team=team)
    assert not Notification.objects.exists()


# Delivery -------------------------------------------------------------------------------------


def _customer_notice(email="ana@example.com", occasion="1") -> Notification:
    return notify(
        kind=Kind.AGENT_REPLIED, channel=Channel.EMAIL, subject_ref="entry:1",
        occasion=occasion, email=email, context={"body": "Hello", "agent": "Sam"},
    )  # fmt: skip


def test_the_same_occasion_noticed_twice_is_one_notification():
    assert _customer_notice() is not None
    assert _customer_notice() is None
    assert _customer_notice(email="ANA@example.com ") is None
    assert _customer_notice(occasion="2") is not None
    assert Notification.objects.count() == 2


def test_a_mail_server_that_fails_is_retried_with_backoff_then_marked_failed(settings, monkeypatch):
    settings.NOTIFICATION_MAX_ATTEMPTS = 3
    settings.NOTIFICATION_SWEEP_AFTER_S = 0
    notification = _customer_notice()

    def refuse(self, *args, **kwargs):
        raise smtplib.SMTPServerDisconnected("connection closed")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)

    delays = []
    for _attempt in range(3):
        delivery = notification_deliver(notification.pk)
        delays.append(delivery.retry_in)
        # An early copy of the task (the sweep's, the broker's) waits for the retry time.
        early = notification_deliver(notification.pk)
        if delivery.retry_in is not None:
            assert early.status == Status.PENDING
            assert early.retry_in == pytest.approx(delivery.retry_in, abs=2)
            assert notifications_sweep() == 0
        # Time passes until the retry is due.
        Notification.objects.filter(pk=notification.pk).update(
            next_attempt_at=timezone.now() - timedelta(seconds=1)
        )

    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    assert notification.attempts == 3  # the early copies took no attempt
    assert "connection closed" in notification.last_error
    assert delays[0] < delays[1]  # 30 s, then about a minute
    assert delays[2] is None  # given up


def test_a_broken_admin_template_fails_at_once_without_retrying(settings):
    setting = CustomerEmail.objects.get(kind=Kind.AGENT_REPLIED)
    CustomerEmailText.objects.create(email=setting, language="en", subject="Hi",
                                     body="{% if %}")  # fmt: skip
    notification = _customer_notice()

    delivery = notification_deliver(notification.pk)

    assert delivery.status == Status.FAILED
    assert delivery.retry_in is None
    assert mail.outbox == []


def test_a_claim_held_by_a_live_worker_is_not_sent_again_but_a_dead_ones_is(settings):
    settings.NOTIFICATION_SEND_LEASE_S = 120
    notification = _customer_notice()
    started = timezone.now() - timedelta(seconds=30)
    Notification.objects.filter(pk=notification.pk).update(
        status=Status.SENDING, claimed_at=started, attempts=1
    )

    waiting = notification_deliver(notification.pk)

    assert waiting.status == Status.SENDING
    assert 85 < waiting.retry_in <= 91  # until the lease ends
    assert mail.outbox == []

    Notification.objects.filter(pk=notification.pk).update(
        claimed_at=timezone.now() - timedelta(seconds=121)
    )
    assert notification_deliver(notification.pk).status == Status.SENT
    assert len(mail.outbox) == 1


def test_the_sweep_queues_what_was_never_delivered(settings, monkeypatch):
    settings.NOTIFICATION_SWEEP_AFTER_S = 60
    monkeypatch.setattr("notifications.services.enqueue_delivery", lambda pk: False)
    stuck = _customer_notice()  # the broker was down: never queued
    Notification.objects.filter(pk=stuck.pk).update(
        created_at=timezone.now() - timedelta(minutes=5)
    )
    fresh = _customer_notice(occasion="fresh")
    monkeypatch.undo()

    assert notifications_sweep() == 1

    stuck.refresh_from_db()
    fresh.refresh_from_db()
    assert stuck.status == Status.SENT
    assert fresh.status == Status.PENDING
    assert len(mail.outbox) == 1


# Every kind ------------------------------------------------------------------------------------


def _customer_notice_of(kind: Kind, customer) -> Notification:
    """A notification of `kind` to `customer` about a real ticket, as the receivers write it."""

    ticket = TicketFactory(customer=customer, subject="Card declined")
    context = {
        Kind.PAYMENT_FAILED: lambda: {"payment": ticket.payments.create(
            provider="stripe", provider_payment_id=f"pi_{kind}_{customer.pk}", amount_minor=4900,
            currency="EUR", failure_code="insufficient_funds", customer=customer).pk},
        Kind.AGENT_REPLIED: lambda: {"body": "Try again", "agent": "Sam Rivera"},
        Kind.TICKET_SOLVED: dict,
        Kind.CHAT_TRANSCRIPT: lambda: {"conversation": Conversation.objects.create(
            ticket=ticket, customer=customer, team=ticket.team, language=customer.locale).pk},
    }[kind]()  # fmt: skip
    return notify(
        kind=kind, channel=Channel.EMAIL, subject_ref=f"ticket:{ticket.pk}", customer=customer,
        email=customer.email, ticket=ticket, language=customer.locale, context=context,
    )  # fmt: skip


CUSTOMER_KINDS_IN_GREEK = {
    Kind.PAYMENT_FAILED: "πληρωμή",
    Kind.AGENT_REPLIED: "Re: [#",
    Kind.TICKET_SOLVED: "#",
    Kind.CHAT_TRANSCRIPT: "#",
}


@pytest.mark.parametrize("kind", list(CUSTOMER_KINDS_IN_GREEK))
def test_each_customer_email_goes_once_in_the_customers_language_unless_switched_off(kind):
    from notifications.emails import build

    greek = CustomerFactory(email="maria@example.gr", locale="el")
    notification = _customer_notice_of(kind, greek)

    notification_deliver(notification.pk)
    notification_deliver(notification.pk)  # the task again

    (message,) = mail.outbox
    assert message.to == ["maria@example.gr"]
    assert 'lang="el"' in message.alternatives[0][0]
    with translation.override("en"):
        english = build(Notification(**{**_fields(notification), "language": "en"}))
    assert message.body != english.body  # written in Greek, not in English
    assert message.extra_headers["List-Unsubscribe"]

    CustomerEmail.objects.filter(kind=kind).update(enabled=False)
    off = _customer_notice_of(kind, CustomerFactory(email="ana@example.com"))
    assert notification_deliver(off.pk).status == Status.SKIPPED
    assert len(mail.outbox) == 1


def _fields(notification: Notification) -> dict:
    return {f.attname: getattr(notification, f.attname) for f in Notification._meta.fields}


@pytest.mark.parametrize(
    "kind",
    [
        Kind.TICKET_ASSIGNED, Kind.CUSTOMER_REPLIED, Kind.URGENT_TICKET, Kind.SLA_WARNING,
        Kind.SLA_BREACHED, Kind.DISPUTE_DEADLINE_72H, Kind.DISPUTE_DEADLINE_24H,
    ],
)  # fmt: skip
def test_each_agent_notice_reads_in_the_agents_language(kind, sam):
    from notifications.texts import headline

    notice = Notification(
        kind=kind, channel=Channel.IN_APP, user=sam,
        context={"number": 7, "subject": "Card", "customer": "Ana", "team": "Payments",
                 "due_at": "2026-12-05T10:00:00+00:00", "target": "first_response"},
    )  # fmt: skip
    with translation.override("en"):
        english = headline(notice)
    for language in ("el", "fa"):
        with translation.override(language):
            translated = headline(notice)
        assert translated != english, language
        assert "#7" in translated or "7" in translated


def test_with_the_broker_down_notifications_wait_in_the_database_without_a_wait_each(
    monkeypatch, settings
):
    from helpdesk.celery import broker_backoff_reset
    from notifications.services import enqueue_delivery
    from notifications.tasks import deliver_notification

    broker_backoff_reset()
    tries = []

    def broker_down(*args):
        tries.append(args)
        raise ConnectionError("broker down")

    monkeypatch.setattr(deliver_notification, "delay", broker_down)
    first, second = _customer_notice(occasion="a"), _customer_notice(occasion="b")

    assert enqueue_delivery(first.pk) is False
    assert enqueue_delivery(second.pk) is False
    assert len(tries) == 1  # the second did not wait on the broker again
    monkeypatch.undo()
    settings.NOTIFICATION_SWEEP_AFTER_S = 0

    from notifications.tasks import sweep_notifications

    assert sweep_notifications() == 2  # the sweep runs, so the broker is back: both go out
    assert len(mail.outbox) == 2
