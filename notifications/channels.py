"""The two ways a notification leaves Paydesk: an email, or a notice in the agent's open tabs."""

import smtplib

from notifications import emails
from notifications.models import Channel, Notification
from tickets.live import send_to_groups, user_group

# Worth another try later: the mail server is down or slow, the connection broke.
TRANSIENT_ERRORS = (OSError, smtplib.SMTPException)

NOTICE = "notification.notice"


def send(notification: Notification) -> None:
    if notification.channel == Channel.EMAIL:
        emails.build(notification).send()
    else:
        announce_unread(notification.user, notice=notification.pk)


def announce_unread(user, *, notice: int | None = None) -> None:
    """Tell the agent's tabs their unread count (and which notice is new). A new notice is
    still being sent, so not yet counted among the sent ones: it adds itself."""
    from notifications.services import unread_count

    unread = unread_count(user) + (1 if notice is not None else 0)
    send_to_groups(
        [user_group(user.pk)], {"type": NOTICE, "unread": unread, "notification": notice}
    )
