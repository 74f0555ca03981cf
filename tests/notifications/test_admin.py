"""The notifications' admin pages, as a superuser uses them: what was sent and what failed, and
the customer emails' switches and wording."""

import smtplib

import pytest
from django.core import mail
from django.urls import reverse

from notifications.models import (
    AgentPreferences,
    Channel,
    CustomerEmail,
    CustomerEmailText,
    Kind,
    Notification,
    SatisfactionRating,
    Status,
    Unsubscribe,
)
from notifications.services import notification_deliver, notify
from tests.factories import TicketFactory

pytestmark = pytest.mark.django_db

NOTIFICATIONS = reverse("admin:notifications_notification_changelist")
CUSTOMER_EMAILS = reverse("admin:notifications_customeremail_changelist")


def reply_email(address: str, occasion: str = "1") -> Notification:
    """A reply to a customer, written down (not delivered: nothing runs on commit here)."""
    return notify(
        kind=Kind.AGENT_REPLIED, channel=Channel.EMAIL, subject_ref=f"entry:{occasion}",
        occasion=occasion, email=address, context={"body": "Please try again.", "agent": "Sam"},
    )  # fmt: skip


def failed_email(address: str, monkeypatch) -> Notification:
    """A reply whose only attempt the mail server refused for good."""
    notification = reply_email(address)
    with monkeypatch.context() as patched:
        patched.setattr("django.conf.settings.NOTIFICATION_MAX_ATTEMPTS", 1)
        patched.setattr("django.core.mail.EmailMessage.send", _refuse)
        notification_deliver(notification.pk)
    notification.refresh_from_db()
    assert notification.status == Status.FAILED
    return notification


def _refuse(self, *args, **kwargs):
    raise smtplib.SMTPRecipientsRefused({"x": (550, b"mailbox unavailable")})


def change_page(kind: Kind) -> str:
    email = CustomerEmail.objects.get(kind=kind)
    return reverse("admin:notifications_customeremail_change", args=[email.pk])


def texts_form(*texts: dict[str, str], enabled: bool = True, initial: int = 0) -> dict:
    """The CustomerEmail change form's POST data, with these inline texts."""
    data = {
        "enabled": "on" if enabled else "",
        "texts-TOTAL_FORMS": str(len(texts)),
        "texts-INITIAL_FORMS": str(initial),
        "texts-MIN_NUM_FORMS": "0",
        "texts-MAX_NUM_FORMS": "1000",
    }
    for index, text in enumerate(texts):
        data.update({f"texts-{index}-{name}": value for name, value in text.items()})
    return data


# Notifications --------------------------------------------------------------------------------


def test_the_notification_list_filters_by_status(admin_client, monkeypatch):
    failed_email("refused@example.com", monkeypatch)
    sent = reply_email("delivered@example.com", occasion="2")
    notification_deliver(sent.pk)

    everything = admin_client.get(NOTIFICATIONS).content.decode()
    only_failed = admin_client.get(NOTIFICATIONS, {"status__exact": "failed"}).content.decode()

    assert "refused@example.com" in everything
    assert "delivered@example.com" in everything
    assert "refused@example.com" in only_failed
    assert "mailbox unavailable" in only_failed  # the error, in the list
    assert "delivered@example.com" not in only_failed


def test_send_again_queues_a_failed_notification_which_then_gets_sent(
    admin_client, monkeypatch, django_capture_on_commit_callbacks
):
    failed = failed_email("ana@example.com", monkeypatch)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            NOTIFICATIONS,
            {"action": "send_again", "_selected_action": [failed.pk]},
            follow=True,
        )

    assert "1 queued again." in response.content.decode()
    failed.refresh_from_db()
    assert failed.status == Status.SENT
    assert failed.last_error == ""
    assert failed.attempts == 1
    (message,) = mail.outbox
    assert message.to == ["ana@example.com"]


def test_send_again_leaves_a_sent_notification_alone(
    admin_client, django_capture_on_commit_callbacks
):
    sent = reply_email("ana@example.com")
    notification_deliver(sent.pk)
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            NOTIFICATIONS, {"action": "send_again", "_selected_action": [sent.pk]}, follow=True
        )

    assert "0 queued again." in response.content.decode()
    assert mail.outbox == []


def test_a_notification_is_shown_but_cannot_be_added_or_changed(admin_client):
    notification = reply_email("ana@example.com")
    url = reverse("admin:notifications_notification_change", args=[notification.pk])

    page = admin_client.get(url)

    assert page.status_code == 200
    assert b"ana@example.com" in page.content
    assert b'name="_save"' not in page.content
    add = reverse("admin:notifications_notification_add")
    assert admin_client.get(add).status_code == 403


def test_an_agent_cannot_open_the_notification_admin(client, sam):
    client.force_login(sam)

    response = client.get(NOTIFICATIONS)

    assert response.status_code == 302
    assert "login" in response["Location"]


@pytest.mark.parametrize(
    "model", ["notification", "customeremail", "unsubscribe", "satisfactionrating",
              "agentpreferences"],
)  # fmt: skip
def test_every_notifications_admin_page_loads(admin_client, sam, team, model):
    reply_email("ana@example.com")
    Unsubscribe.objects.create(email="gone@example.com")
    SatisfactionRating.objects.create(ticket=TicketFactory(team=team), rating=4, comment="Fine")
    AgentPreferences.objects.create(user=sam, email_kinds=[Kind.SLA_BREACHED])
    obj = {
        "notification": Notification,
        "customeremail": CustomerEmail,
        "unsubscribe": Unsubscribe,
        "satisfactionrating": SatisfactionRating,
        "agentpreferences": AgentPreferences,
    }[model].objects.first()

    listing = admin_client.get(reverse(f"admin:notifications_{model}_changelist"))
    change = admin_client.get(reverse(f"admin:notifications_{model}_change", args=[obj.pk]))

    assert listing.status_code == 200
    assert change.status_code == 200


# Customer emails ------------------------------------------------------------------------------


def test_the_customer_email_page_previews_every_language_and_lists_the_placeholders(
    admin_client,
):
    CustomerEmailText.objects.create(
        email=CustomerEmail.objects.get(kind=Kind.PAYMENT_FAILED), language="el",
        subject="Η πληρωμή {{ amount }} απέτυχε", body="Γεια σας {{ customer_name }},",
    )  # fmt: skip

    page = admin_client.get(change_page(Kind.PAYMENT_FAILED)).content.decode()

    assert '<section class="email-preview" lang="en" dir="ltr"><h3>English</h3>' in page
    assert '<section class="email-preview" lang="el" dir="ltr"><h3>Ελληνικά</h3>' in page
    assert '<section class="email-preview" lang="fa" dir="rtl"><h3>فارسی</h3>' in page
    assert "Your payment of €49.00 did not go through" in page  # Paydesk's own, made-up values
    assert "Γεια σας Ana Souza," in page  # the admin's Greek wording
    assert "Placeholders" in page
    for placeholder in ("customer_name", "ticket_number", "amount", "decline_reason", "link"):
        assert f"{{{{ {placeholder} }}}}" in page


@pytest.mark.parametrize(
    "kind", [Kind.PAYMENT_FAILED, Kind.AGENT_REPLIED, Kind.TICKET_SOLVED, Kind.CHAT_TRANSCRIPT]
)
def test_every_customer_email_previews_in_every_language(admin_client, kind):
    page = admin_client.get(change_page(kind)).content.decode()

    assert page.count('<section class="email-preview"') == 3
    assert "does not render" not in page


def test_the_preview_shows_an_admins_markup_as_text(admin_client):
    CustomerEmailText.objects.create(
        email=CustomerEmail.objects.get(kind=Kind.AGENT_REPLIED), language="en",
        subject="Hi", body="<script>alert(1)</script> {{ body }}",
    )  # fmt: skip

    page = admin_client.get(change_page(Kind.AGENT_REPLIED)).content.decode()

    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_an_admins_wording_is_saved_from_the_change_page(admin_client):
    response = admin_client.post(
        change_page(Kind.TICKET_SOLVED),
        texts_form(
            {"language": "en", "subject": "Done: #{{ ticket_number }}", "body": "Rate us"},
        ),
    )

    assert response.status_code == 302, response.content.decode()
    (text,) = CustomerEmailText.objects.all()
    assert (text.email.kind, text.language, text.subject) == (
        Kind.TICKET_SOLVED,
        "en",
        "Done: #{{ ticket_number }}",
    )


@pytest.mark.parametrize(
    ("field", "broken"),
    [
        ("body", "Hello {% if %}"),
        ("body", "Hello {{ customer_name|no_such_filter }}"),
        ("subject", "Payment {% for %}"),
        ("body", "{% load no_such_library %}"),
    ],
)
def test_a_text_with_a_template_syntax_error_is_refused_with_a_message(admin_client, field, broken):
    text = {"language": "en", "subject": "Hello", "body": "Hello {{ customer_name }}"}
    text[field] = broken

    response = admin_client.post(change_page(Kind.AGENT_REPLIED), texts_form(text))

    assert response.status_code == 200
    assert "This text does not render" in response.content.decode()
    assert not CustomerEmailText.objects.exists()


@pytest.mark.parametrize(
    "broken",
    [
        '{% include "no/such/template.txt" %}',
        "{% url 'no-such-page' %}",
        '{% extends "no/such/base.txt" %}',
    ],
)
def test_a_text_that_only_fails_when_sent_is_refused_too(admin_client, broken):
    text = {"language": "en", "subject": "Hello", "body": f"Hello {broken}"}

    response = admin_client.post(change_page(Kind.AGENT_REPLIED), texts_form(text))

    assert response.status_code == 200
    assert "This text does not render" in response.content.decode()
    assert not CustomerEmailText.objects.exists()


def test_two_texts_in_one_language_are_refused_with_a_message(admin_client):
    text = {"language": "el", "subject": "Γεια", "body": "Γεια σας"}

    response = admin_client.post(change_page(Kind.AGENT_REPLIED), texts_form(text, text))

    assert response.status_code == 200
    assert "Please correct the duplicate data" in response.content.decode()
    assert not CustomerEmailText.objects.exists()


def test_switching_an_email_off_in_the_list_is_saved_and_stops_it(admin_client):
    emails = list(CustomerEmail.objects.order_by("pk"))
    data = {
        "form-TOTAL_FORMS": str(len(emails)),
        "form-INITIAL_FORMS": str(len(emails)),
        "form-MIN_NUM_FORMS": "0",
        "form-MAX_NUM_FORMS": "1000",
        "_save": "Save",
    }
    for index, email in enumerate(emails):
        data[f"form-{index}-id"] = str(email.pk)
        if email.kind != Kind.AGENT_REPLIED:
            data[f"form-{index}-enabled"] = "on"

    response = admin_client.post(CUSTOMER_EMAILS, data)

    assert response.status_code == 302, response.content.decode()
    switched = dict(CustomerEmail.objects.values_list("kind", "enabled"))
    assert switched == {
        Kind.AGENT_REPLIED: False,
        Kind.CHAT_TRANSCRIPT: True,
        Kind.PAYMENT_FAILED: True,
        Kind.TICKET_SOLVED: True,
    }
    notification_deliver(reply_email("ana@example.com").pk)
    assert mail.outbox == []


def test_customer_emails_cannot_be_added_or_deleted(admin_client):
    email = CustomerEmail.objects.get(kind=Kind.PAYMENT_FAILED)

    assert admin_client.get(reverse("admin:notifications_customeremail_add")).status_code == 403
    delete = reverse("admin:notifications_customeremail_delete", args=[email.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert CustomerEmail.objects.filter(pk=email.pk).exists()
