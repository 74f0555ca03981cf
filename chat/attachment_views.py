"""Uploading a chat attachment, and fetching one back.

The widget uploads from a merchant's page (CORS, no cookies): the customer proves the
conversation is theirs with their signed identity token or the conversation's access key, so
those uploads need no CSRF token. An agent uploads from the workspace with their session, and a
session upload is CSRF-checked like any other form.
"""

import logging

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import FileResponse, Http404, HttpRequest, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.middleware.csrf import CsrfViewMiddleware
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from chat import attachments
from chat.identity import ChatIdentity, InvalidToken, identity_token_verify
from chat.models import Conversation, Sender
from chat.services import conversation_for_customer
from tickets.selectors import ticket_get_for_agent

logger = logging.getLogger(__name__)

# What a multipart body may add around the file itself (boundaries, headers, the other fields).
MULTIPART_OVERHEAD_BYTES = 64 * 1024

ERROR_MALFORMED = "The upload is not a well-formed multipart form."
ERROR_NO_FILE = "Send the file in a multipart form field named 'file'."
ERROR_CONVERSATION = "Say which conversation the file is for ('conversation': its number)."
ERROR_NOT_YOURS = "There is no such conversation, or it is not yours."
ERROR_SIGN_IN = "Sign in, or send the conversation's identity token or access key."
ERROR_CSRF = "The form's CSRF token is missing or wrong; reload the page and try again."

STATUS_FOR_ERROR = {
    attachments.AttachmentTooLarge: 413,
    attachments.AttachmentTypeRefused: 415,
    attachments.TooManyAttachments: 429,
    attachments.ConversationClosed: 409,
}


def _refuse(status: int, message: str, reason: str) -> JsonResponse:
    logger.warning("Chat attachment upload refused (%d, %s): %s", status, reason, message)
    return JsonResponse({"error": message}, status=status)


@csrf_exempt
@require_POST
def attachment_upload(request: HttpRequest) -> JsonResponse:
    """POST multipart `file` and `conversation`, with `token` or `key` (a customer) or a
    session (an agent). 201 with the attachment; 400, 403, 409, 413, 415 or 429 with an error."""
    length = request.META.get("CONTENT_LENGTH") or "0"
    limit = settings.CHAT_MAX_ATTACHMENT_BYTES + MULTIPART_OVERHEAD_BYTES
    if length.isdigit() and int(length) > limit:
        # Refused before the body is parsed: nobody spools a huge upload to disk for nothing.
        return _refuse(413, attachments.too_large_message(), "request too large")
    try:
        conversation_id = _conversation_id(request.POST.get("conversation", ""))
        upload = request.FILES.get("file")
    except RequestDataTooBig:
        return _refuse(413, attachments.too_large_message(), "form fields too large")
    except (MultiPartParserError, SuspiciousOperation) as error:
        return _refuse(400, ERROR_MALFORMED, f"malformed form: {error}")
    if conversation_id is None:
        return _refuse(400, ERROR_CONVERSATION, "no conversation")
    if upload is None:
        return _refuse(400, ERROR_NO_FILE, "no file")

    token, key = request.POST.get("token", ""), request.POST.get("key", "")
    if token or key:
        try:
            identity = identity_token_verify(token) if token else ChatIdentity(email="")
        except InvalidToken as error:
            return _refuse(403, str(error), "bad token")
        conversation = conversation_for_customer(
            identity=identity, conversation_id=conversation_id, access_key=key
        )
        sender = Sender.CUSTOMER
    else:
        if not request.user.is_authenticated:
            return _refuse(403, ERROR_SIGN_IN, "not signed in")
        if not _csrf_passes(request):
            return _refuse(403, ERROR_CSRF, "csrf")
        conversation = _conversation_for_agent(request, conversation_id)
        sender = Sender.AGENT
    if conversation is None:
        return _refuse(403, ERROR_NOT_YOURS, f"conversation {conversation_id} not theirs")

    try:
        attachment = attachments.attachment_store(
            conversation=conversation, upload=upload, uploaded_by=sender
        )
    except attachments.AttachmentError as error:
        return _refuse(
            STATUS_FOR_ERROR.get(type(error), 400), str(error), f"conversation {conversation.pk}"
        )
    return JsonResponse(attachments.attachment_payload(attachment), status=201)


def _csrf_passes(request: HttpRequest) -> bool:
    """The check CsrfViewMiddleware makes on views that are not exempt."""
    return CsrfViewMiddleware(lambda request: None).process_view(request, None, (), {}) is None


def _conversation_id(value: str) -> int | None:
    return int(value) if value.isascii() and value.isdigit() and len(value) <= 18 else None


def _conversation_for_agent(request: HttpRequest, conversation_id: int) -> Conversation | None:
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if conversation is None:
        return None
    ticket = ticket_get_for_agent(user=request.user, pk=conversation.ticket_id, details=False)
    return conversation if ticket is not None else None


@require_GET
def attachment_download(request: HttpRequest, pk: int, signature: str) -> FileResponse:
    """The file, to whoever holds its link: images shown inline, PDFs downloaded, and nothing
    in it ever run (no sniffing, no scripts, no styles, no frames)."""
    attachment = attachments.attachment_for_signature(pk, signature)
    if attachment is None:
        logger.warning("Chat attachment %s asked for with a wrong signature", pk)
        raise Http404("No such attachment.")
    try:
        file = attachment.file.open("rb")
    except FileNotFoundError as error:
        logger.error("Chat attachment %s has no file in storage", pk)
        raise Http404("No such attachment.") from error
    response = FileResponse(
        file,
        content_type=attachment.content_type,
        as_attachment=attachment.content_type not in attachments.INLINE_TYPES,
        filename=attachment.name,
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "private, max-age=86400"
    return response
