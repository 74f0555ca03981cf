"""Files sent in a chat: images and PDFs, checked by what they contain, not by their name.

An upload is stored under a generated name; the name the customer or agent gave it is kept,
cleaned, for display. It is fetched back through a capability URL: the attachment's id and a
signature only Paydesk can make, so whoever was sent the link (the customer's widget on a
merchant's page, without cookies) can open it, and nobody can guess another's.
"""

import logging
import secrets
import unicodedata
from pathlib import PurePosixPath

import filetype
from django.conf import settings
from django.core import signing
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import F
from django.urls import reverse

from chat.models import Attachment, Conversation, ConversationStatus, Sender
from chat.redaction import redact_pans

logger = logging.getLogger(__name__)

# The content types accepted, each with the extension its stored file gets and the extensions
# its display name may keep.
ACCEPTED_TYPES = {
    "image/png": ("png", ("png",)),
    "image/jpeg": ("jpg", ("jpg", "jpeg")),
    "image/gif": ("gif", ("gif",)),
    "image/webp": ("webp", ("webp",)),
    "application/pdf": ("pdf", ("pdf",)),
}
INLINE_TYPES = frozenset(mime for mime in ACCEPTED_TYPES if mime.startswith("image/"))
SIGNATURE_SALT = "chat.attachment"
MAX_NAME_CHARS = 100
# filetype reads at most this many bytes to recognise a file.
_HEAD_BYTES = 8192
_UNSAFE_NAME_CHARS = frozenset('<>:"/\\|?*')
_ZERO_WIDTH_JOINERS = frozenset("\u200c\u200d")


class AttachmentError(ValueError):
    """An upload the chat refuses; the message says why, in words a person understands."""


class AttachmentTooLarge(AttachmentError):
    pass


class AttachmentTypeRefused(AttachmentError):
    pass


class TooManyAttachments(AttachmentError):
    pass


class ConversationClosed(AttachmentError):
    pass


def too_large_message() -> str:
    return f"That file is too large: at most {settings.CHAT_MAX_ATTACHMENT_BYTES // 2**20} MB."


ERROR_TYPE = "Only images (PNG, JPEG, GIF, WebP) and PDF documents can be sent."
ERROR_EMPTY = "That file is empty."
ERROR_CLOSED = "This conversation is closed; start a new one."


def attachment_store(
    *, conversation: Conversation, upload: UploadedFile, uploaded_by: Sender
) -> Attachment:
    """Check an uploaded file and keep it as an attachment of the conversation.

    Raises AttachmentTooLarge, AttachmentTypeRefused, TooManyAttachments or ConversationClosed
    (all AttachmentErrors) with a message for the person who sent it."""
    if upload.size > settings.CHAT_MAX_ATTACHMENT_BYTES:
        raise AttachmentTooLarge(too_large_message())
    if upload.size == 0:
        raise AttachmentTypeRefused(ERROR_EMPTY)
    content_type = content_type_of(upload)
    if content_type not in ACCEPTED_TYPES:
        raise AttachmentTypeRefused(ERROR_TYPE)
    extension, _ = ACCEPTED_TYPES[content_type]
    with transaction.atomic():
        counted = (
            Conversation.objects.filter(
                pk=conversation.pk, attachment_count__lt=settings.CHAT_MAX_ATTACHMENTS
            )
            .exclude(status=ConversationStatus.CLOSED)
            .update(attachment_count=F("attachment_count") + 1)
        )
        if not counted:
            current = Conversation.objects.get(pk=conversation.pk)
            if current.status == ConversationStatus.CLOSED:
                raise ConversationClosed(ERROR_CLOSED)
            raise TooManyAttachments(
                f"A conversation holds at most {settings.CHAT_MAX_ATTACHMENTS} attachments."
            )
        attachment = Attachment(
            conversation=conversation,
            name=display_name(upload.name or "", content_type),
            content_type=content_type,
            size=upload.size,
            uploaded_by=uploaded_by,
        )
        upload.seek(0)
        attachment.file.save(f"{secrets.token_urlsafe(18)}.{extension}", upload, save=False)
        try:
            attachment.save()
        except BaseException:
            attachment.file.delete(save=False)
            raise
    logger.info(
        "Chat attachment %s (%s, %d bytes) stored in conversation %s by the %s",
        attachment.pk,
        content_type,
        attachment.size,
        conversation.pk,
        uploaded_by,
    )
    return attachment


def content_type_of(upload: UploadedFile) -> str | None:
    """The file's type as its first bytes say it is, or None if they say nothing we know."""
    upload.seek(0)
    head = upload.read(_HEAD_BYTES)
    upload.seek(0)
    kind = filetype.guess(head)
    return kind.mime if kind is not None else None


def display_name(name: str, content_type: str) -> str:
    """The sender's file name without folders, control characters or direction overrides,
    short enough, and ending in an extension that says what the file really is."""
    name = unicodedata.normalize("NFC", name.replace("\\", "/").rsplit("/", 1)[-1])
    name = "".join(char if _shown_as_is(char) else " " for char in name)
    name = " ".join(name.split()).strip(". ") or "attachment"
    # A card number in a file name travels as far as the name does: the chat, the transcript.
    name = redact_pans(name)[0]
    default_extension, extensions = ACCEPTED_TYPES[content_type]
    path = PurePosixPath(name)
    if path.suffix.lower().lstrip(".") in extensions:
        stem, extension = path.stem, path.suffix
    else:
        stem, extension = path.name, f".{default_extension}"
    return (stem[: MAX_NAME_CHARS - len(extension)].rstrip(". ") or "attachment") + extension


def _shown_as_is(char: str) -> bool:
    # Persian writes some words with a zero-width non-joiner; other format characters (the
    # bidirectional overrides among them) could make a name read as something else.
    if char in _ZERO_WIDTH_JOINERS:
        return True
    return unicodedata.category(char)[0] not in "CZ" and char not in _UNSAFE_NAME_CHARS


def attachment_signature(attachment_id: int) -> str:
    return signing.Signer(salt=SIGNATURE_SALT).sign(str(attachment_id)).rsplit(":", 1)[1]


def attachment_for_signature(attachment_id: int, signature: str) -> Attachment | None:
    """The attachment, when the signature is the one made for it."""
    try:
        signing.Signer(salt=SIGNATURE_SALT).unsign(f"{attachment_id}:{signature}")
    except signing.BadSignature:
        return None
    return Attachment.objects.filter(pk=attachment_id).first()


def attachment_url(attachment: Attachment) -> str:
    """Where the attachment can be fetched, by anyone who has this link (a path on Paydesk's
    own origin: the widget on a merchant's page resolves it against Paydesk's address)."""
    return reverse(
        "chat:attachment_download",
        kwargs={"pk": attachment.pk, "signature": attachment_signature(attachment.pk)},
    )


def attachment_payload(attachment: Attachment) -> dict[str, object]:
    return {
        "id": attachment.pk,
        "name": attachment.name,
        "content_type": attachment.content_type,
        "size": attachment.size,
        "url": attachment_url(attachment),
    }
