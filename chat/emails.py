"""Email that leaves a chat: the transcript the customer asked for."""

import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from chat.models import Conversation, Sender

logger = logging.getLogger(__name__)


def transcript_email_send(conversation_id: int) -> bool:
    """Email the conversation's messages to its customer, in the conversation's language."""
    conversation = Conversation.objects.select_related("customer").get(pk=conversation_id)
    email = conversation.customer.email
    if not email:
        return False
    messages = conversation.messages.select_related("author", "attachment", "article")
    language = conversation.language if conversation.language in dict(settings.LANGUAGES) else "en"
    with translation.override(language):
        context = {"conversation": conversation, "messages": messages, "Sender": Sender}
        subject = " ".join(render_to_string("chat/email/transcript_subject.txt", context).split())
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string("chat/email/transcript.txt", context),
            to=[email],
            headers={"X-Paydesk-Ticket": str(conversation.ticket_id)},
        )
        message.attach_alternative(
            render_to_string("chat/email/transcript.html", context), "text/html"
        )
    message.send()
    logger.info("Emailed the transcript of chat %s", conversation.pk)
    return True
