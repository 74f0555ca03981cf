"""The chat widget's own texts. The widget fetches them in the customer's language
(chat.widget_views.widget_config) and fills in the %(name)s placeholders itself."""

from django.utils.translation import gettext_lazy as _

WIDGET_STRINGS = {
    # The launcher and the panel
    "open_chat": _("Chat with us"),
    "minimise": _("Minimise the chat"),
    "title": _("Help with your payment"),
    "subtitle": _("We usually answer within a few minutes."),
    "subtitle_offline": _("Nobody is online right now"),
    "unread": _("New messages"),
    "connecting": _("Connecting…"),
    "reconnecting": _("Connection lost. Reconnecting…"),
    "unavailable": _("The chat is unavailable right now. Please try again later."),
    # Who the customer is, when the merchant did not say
    "identify_intro": _("Tell us how to reach you, in case the chat is interrupted."),
    "email_label": _("Email"),
    "name_label": _("Name (optional)"),
    "start": _("Start chatting"),
    "email_invalid": _("Enter a valid email address."),
    # Payments
    "payments_title": _("Your recent payments"),
    "alternatives_title": _("Other ways to pay"),
    "payment_failed_teaser": _("We can help with your payment."),
    # Writing
    "message_label": _("Message"),
    "message_placeholder": _("Write a message…"),
    "send": _("Send"),
    "attach": _("Attach an image or PDF"),
    "attach_later": _("Send a first message, then you can attach files."),
    "attachment_too_big": _("Files can be at most %(size)s MB."),
    "attachment_wrong_type": _("Only images and PDF files can be sent."),
    "uploading": _("Uploading %(name)s…"),
    "upload_failed": _("%(name)s could not be sent: %(error)s"),
    "download": _("Download %(name)s"),
    # A message's fate
    "you": _("You"),
    "sending": _("Sending…"),
    "sent": _("Sent"),
    "delivered": _("Delivered"),
    "read": _("Read"),
    "not_sent": _("Not sent: %(error)s"),
    "too_long": _("This message is too long."),
    "retry": _("Try again"),
    "card_masked": _("We hid your card number for your safety. Never send card details in a chat."),
    # Answers
    "bot_label": _("Automatic answer"),
    "talk_to_person": _("Talk to a person"),
    "agent_typing": _("%(name)s is typing…"),
    "typing": _("Typing…"),
    "offline_notice": _(
        "Nobody is online right now. Leave a message and we will answer by email at %(email)s."
    ),
    # The end
    "end_chat": _("End the chat"),
    "closed": _("This chat has ended."),
    "rate_question": _("How did we do?"),
    "rating_value": _("%(rating)s out of 5"),
    "rate_comment": _("Anything you would like to add? (optional)"),
    "rate_send": _("Send rating"),
    "rated": _("Thank you for your feedback."),
    "transcript": _("Email me the transcript"),
    "transcript_sent": _("We sent the transcript to %(email)s."),
    "new_chat": _("Start a new chat"),
}
