"""Notification emails: a plain-text part and an HTML part made from it, in the recipient's
language. Customer emails use the wording admins set in the admin (CustomerEmailText) or else
the text shipped in templates/notifications/customer/."""

from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Template
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from notifications import texts
from notifications.models import CustomerEmailText, Kind, Notification
from notifications.texts import absolute_url

UNSUBSCRIBE_SALT = "notifications.unsubscribe"


def unsubscribe_url(email: str) -> str:
    token = signing.dumps(email.strip().lower(), salt=UNSUBSCRIBE_SALT, compress=True)
    return absolute_url(reverse("notifications:unsubscribe", args=[token]))


def unsubscribe_email_from(token: str) -> str | None:
    try:
        return signing.loads(token, salt=UNSUBSCRIBE_SALT)
    except signing.BadSignature:
        return None


def build(notification: Notification) -> EmailMultiAlternatives:
    with translation.override(notification.language):
        if notification.user_id is None:
            subject, text = customer_text(notification.kind, notification.language,
                                          texts.customer_context(notification))  # fmt: skip
        else:
            subject, text = agent_text(notification)
        headers = {"Message-ID": _message_id(notification)}
        if notification.ticket_id:
            headers["X-Paydesk-Ticket"] = str(notification.ticket_id)
        unsubscribe = ""
        if notification.user_id is None:
            unsubscribe = unsubscribe_url(notification.email)
            headers["List-Unsubscribe"] = f"<{unsubscribe}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        message = EmailMultiAlternatives(
            subject=_one_line(subject), body=text, to=[notification.email], headers=headers
        )
        html = render_to_string(
            "notifications/email/layout.html", {"text": text, "unsubscribe_url": unsubscribe}
        )
        message.attach_alternative(html, "text/html")
    return message


def customer_text(kind: str, language: str, context: dict[str, Any]) -> tuple[str, str]:
    """The subject and body of a customer email: the admin's wording for the language if there
    is one, else Paydesk's own."""
    custom = (
        CustomerEmailText.objects.filter(email__kind=kind, language=language)
        .only("subject", "body")
        .first()
    )
    if custom is not None:
        plain = Context(context, autoescape=False)
        return Template(custom.subject).render(plain), Template(custom.body).render(plain)
    return default_customer_text(kind, context)


def default_customer_text(kind: str, context: dict[str, Any]) -> tuple[str, str]:
    subject = render_to_string(f"notifications/customer/{kind}_subject.txt", context)
    body = render_to_string(f"notifications/customer/{kind}.txt", context)
    return subject, body


def agent_text(notification: Notification) -> tuple[str, str]:
    if notification.kind == Kind.DAILY_DIGEST:
        context = texts.digest_context(notification)
        return (
            render_to_string("notifications/agent/digest_subject.txt", context),
            render_to_string("notifications/agent/digest.txt", context),
        )
    headline = texts.headline(notification)
    context = {"headline": headline, "link": texts.link(notification), "kind": notification.kind}
    return headline, render_to_string("notifications/agent/notice.txt", context)


def _one_line(subject: str) -> str:
    # A header with a line break in it is refused.
    return " ".join(subject.split())[:250]


def _message_id(notification: Notification) -> str:
    """The same for every attempt: a mail system that got a first attempt whose success we
    never heard of can tell the second one is the same message."""
    domain = urlsplit(settings.SITE_URL).hostname or "paydesk.localhost"
    return f"<notification.{notification.key[:32]}@{domain}>"
