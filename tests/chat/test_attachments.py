"""Chat attachments: uploaded over HTTP (from a merchant's page or the workspace), checked by
content, fetched back through a signed link, and shown in the chat with that link."""

import httpx
import pytest
from channels.db import database_sync_to_async
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from chat.attachments import attachment_signature, display_name
from chat.identity import ChatIdentity
from chat.models import Attachment, Conversation
from chat.services import conversation_close, conversation_start
from tests.chat.conftest import SHOP, receive_until, token_for
from tests.factories import AgentFactory, TeamFactory

ANA = "ana@example.com"
BEN = "ben@example.com"
UPLOAD = "/chat/api/attachments/"

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00" + b"\x00" * 64
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01" + b"\x00" * 32
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 \x18\x00\x00\x00" + b"\x00" * 32
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 64 + b"PE\x00\x00"


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def upload(
    client: Client,
    conversation_id: object,
    content: bytes,
    name: str = "receipt.png",
    declared: str = "image/png",
    **auth: str,
):
    data = {"file": SimpleUploadedFile(name, content, content_type=declared)}
    data |= {"conversation": conversation_id, **auth}
    return client.post(UPLOAD, data)


def started(email: str = ANA, *, verified: bool = False) -> tuple[Conversation, str]:
    return conversation_start(identity=ChatIdentity(email=email, verified=verified), language="en")


@pytest.fixture
def ana_chat(db) -> tuple[Conversation, str]:
    """Ana's conversation (she typed her email) and its access key."""
    return started()


# Uploading ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PNG, "receipt.png", "image/png"),
        (JPEG, "photo.jpg", "image/jpeg"),
        (GIF, "anim.gif", "image/gif"),
        (WEBP, "shot.webp", "image/webp"),
        (PDF, "statement.pdf", "application/pdf"),
    ],
)
def test_a_customer_sends_an_image_or_a_pdf_with_the_conversations_key(
    client, ana_chat, settings, content, name, content_type
):
    conversation, key = ana_chat

    response = upload(client, conversation.pk, content, name, content_type, key=key)

    assert response.status_code == 201
    body = response.json()
    assert body["name"] == name
    assert body["content_type"] == content_type
    assert body["size"] == len(content)
    attachment = Attachment.objects.get(pk=body["id"])
    assert attachment.conversation == conversation
    assert attachment.uploaded_by == "customer"
    assert name not in attachment.file.name  # stored under a generated name
    assert (settings.MEDIA_ROOT / attachment.file.name).read_bytes() == content
    assert client.get(body["url"]).getvalue() == content
    conversation.refresh_from_db()
    assert conversation.attachment_count == 1


def test_the_type_comes_from_the_content_not_the_name_or_the_declared_type(client, ana_chat):
    conversation, key = ana_chat

    response = upload(client, conversation.pk, PNG, "scan.pdf", "application/pdf", key=key)

    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"
    assert response.json()["name"] == "scan.pdf.png"
    assert client.get(response.json()["url"])["Content-Type"] == "image/png"


def test_the_name_shown_is_cleaned_of_folders_and_direction_tricks(client, ana_chat):
    conversation, key = ana_chat

    response = upload(client, conversation.pk, PNG, "..\\..\\evil\u202egnp.exe", key=key)

    name = response.json()["name"]
    assert name.startswith("evil")
    assert name.endswith("gnp.exe.png")
    assert not {"\u202e", "/", "\\", ".."} & set(name.replace("..", "/"))


@pytest.mark.parametrize(
    ("name", "content_type", "shown"),
    [
        ("receipt.PNG", "image/png", "receipt.PNG"),
        ("photo.jpeg", "image/jpeg", "photo.jpeg"),
        ("scan.pdf", "image/png", "scan.pdf.png"),
        ("C:\\Users\\ana\\bank letter.pdf", "application/pdf", "bank letter.pdf"),
        ("a\u202egnp.exe", "image/png", "a gnp.exe.png"),
        ("<script>.gif", "image/gif", "script.gif"),
        ("رسید\u200cپرداخت.png", "image/png", "رسید\u200cپرداخت.png"),
        ("", "application/pdf", "attachment.pdf"),
        ("x" * 300 + ".pdf", "application/pdf", "x" * 96 + ".pdf"),
    ],
)
def test_display_names(name, content_type, shown):
    assert display_name(name, content_type) == shown


@pytest.mark.parametrize(
    ("content", "name"),
    [(HTML, "cat.png"), (EXE, "invoice.png"), (b"just some text", "notes.pdf"), (b"", "x.png")],
)
def test_anything_but_an_image_or_a_pdf_is_refused_whatever_its_name(
    client, ana_chat, content, name, caplog
):
    conversation, key = ana_chat

    response = upload(client, conversation.pk, content, name, "image/png", key=key)

    assert response.status_code == 415
    assert "PNG" in response.json()["error"] or "empty" in response.json()["error"]
    assert not Attachment.objects.exists()
    conversation.refresh_from_db()
    assert conversation.attachment_count == 0
    assert "upload refused (415" in caplog.text


def test_a_file_of_the_size_limit_is_accepted_and_one_byte_more_refused(client, ana_chat, settings):
    conversation, key = ana_chat
    limit = settings.CHAT_MAX_ATTACHMENT_BYTES
    assert limit == 10 * 1024 * 1024
    exactly = PNG + b"\x00" * (limit - len(PNG))

    accepted = upload(client, conversation.pk, exactly, key=key)
    refused = upload(client, conversation.pk, exactly + b"\x00", key=key)

    assert accepted.status_code == 201
    assert accepted.json()["size"] == limit
    assert refused.status_code == 413
    assert "10 MB" in refused.json()["error"]
    assert Attachment.objects.count() == 1


def test_a_request_far_over_the_limit_is_refused_before_it_is_read(client, db):
    response = client.post(
        UPLOAD, b"", content_type="multipart/form-data; boundary=x", CONTENT_LENGTH="50000000"
    )

    assert response.status_code == 413


def test_a_verified_customer_uploads_with_their_identity_token(client, db):
    conversation, _ = started(ANA, verified=True)

    response = upload(client, conversation.pk, PNG, token=token_for(ANA))

    assert response.status_code == 201


def test_another_customers_conversation_is_refused(client, db):
    anas, _ = started(ANA, verified=True)

    response = upload(client, anas.pk, PNG, token=token_for(BEN))

    assert response.status_code == 403
    assert response.json()["error"] == "There is no such conversation, or it is not yours."
    assert not Attachment.objects.exists()


def test_a_wrong_key_is_refused(client, ana_chat):
    conversation, _ = ana_chat
    _, other_key = started(BEN)

    assert upload(client, conversation.pk, PNG, key="guess").status_code == 403
    assert upload(client, conversation.pk, PNG, key=other_key).status_code == 403


def test_a_forged_token_is_refused_with_the_reason(client, ana_chat):
    conversation, _ = ana_chat

    response = upload(client, conversation.pk, PNG, token="e30.forged")

    assert response.status_code == 403
    assert "signature" in response.json()["error"]


def test_a_conversation_holds_a_limited_number_of_attachments(client, ana_chat, settings):
    settings.CHAT_MAX_ATTACHMENTS = 2
    conversation, key = ana_chat

    statuses = [upload(client, conversation.pk, PNG, key=key).status_code for _ in range(3)]

    assert statuses == [201, 201, 429]
    conversation.refresh_from_db()
    assert conversation.attachment_count == 2
    assert conversation.attachments.count() == 2


def test_a_closed_conversation_takes_no_more_files(client, ana_chat):
    conversation, key = ana_chat
    conversation_close(conversation=conversation, actor=None)

    response = upload(client, conversation.pk, PNG, key=key)

    assert response.status_code == 409
    assert "closed" in response.json()["error"]


@pytest.mark.parametrize(
    ("data", "error"),
    [
        ({"conversation": "1", "key": "k"}, "'file'"),
        ({"key": "k", "file": SimpleUploadedFile("a.png", PNG)}, "conversation"),
        ({"conversation": "first", "key": "k", "file": SimpleUploadedFile("a.png", PNG)}, "number"),
    ],
)
def test_an_incomplete_upload_says_what_is_missing(client, db, data, error):
    response = client.post(UPLOAD, data)

    assert response.status_code == 400
    assert error in response.json()["error"]


def test_a_merchants_page_may_upload_cross_origin(client, ana_chat, settings):
    settings.CORS_ALLOWED_ORIGINS = [SHOP]  # as settings.py derives it from CHAT_ALLOWED_ORIGINS
    conversation, key = ana_chat
    data = {"file": SimpleUploadedFile("a.png", PNG), "conversation": conversation.pk, "key": key}

    response = client.post(UPLOAD, data, HTTP_ORIGIN=SHOP)

    assert response.status_code == 201
    assert response["Access-Control-Allow-Origin"] == SHOP


# Agents ---------------------------------------------------------------------------------------


CSRF_SECRET = "a" * 32


def agent_client(agent) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(agent)
    client.cookies["csrftoken"] = CSRF_SECRET
    return client


def test_an_agent_of_the_conversations_team_uploads_with_their_session(ana_chat, support_team):
    conversation, _ = ana_chat
    agent = AgentFactory(team=support_team)

    response = upload(
        agent_client(agent), conversation.pk, PDF, "refund.pdf", "", csrfmiddlewaretoken=CSRF_SECRET
    )

    assert response.status_code == 201
    assert Attachment.objects.get().uploaded_by == "agent"


def test_an_agents_upload_needs_the_csrf_token(ana_chat, support_team):
    conversation, _ = ana_chat
    agent = AgentFactory(team=support_team)

    response = upload(agent_client(agent), conversation.pk, PNG)

    assert response.status_code == 403
    assert "CSRF" in response.json()["error"]
    assert not Attachment.objects.exists()


def test_an_agent_of_another_team_is_refused(ana_chat):
    conversation, _ = ana_chat
    outsider = AgentFactory(team=TeamFactory(name="Other shop"))

    response = upload(agent_client(outsider), conversation.pk, PNG, csrfmiddlewaretoken=CSRF_SECRET)

    assert response.status_code == 403
    assert "not yours" in response.json()["error"]
    assert not Attachment.objects.exists()


def test_nobody_signed_in_and_without_a_key_is_refused(client, ana_chat):
    conversation, _ = ana_chat

    response = upload(client, conversation.pk, PNG)

    assert response.status_code == 403
    assert "Sign in" in response.json()["error"]


# Downloading ----------------------------------------------------------------------------------


def uploaded(client, content: bytes, name: str) -> dict:
    conversation, key = started()
    response = upload(client, conversation.pk, content, name, key=key)
    assert response.status_code == 201
    return response.json()


def test_an_image_is_shown_inline_and_never_sniffed_or_run(client, db):
    attachment = uploaded(client, PNG, "receipt.png")

    response = client.get(attachment["url"])

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response["Content-Disposition"] == 'inline; filename="receipt.png"'


def test_a_pdf_is_downloaded_not_opened_in_the_page(client, db):
    attachment = uploaded(client, PDF, "statement.pdf")

    response = client.get(attachment["url"])

    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="statement.pdf"'
    assert response["Content-Security-Policy"].startswith("default-src 'none'")
    assert response.getvalue() == PDF


def test_a_wrong_signature_finds_nothing(client, db):
    first = uploaded(client, PNG, "a.png")
    second = uploaded(client, PNG, "b.png")

    def url(pk: int, signature: str) -> str:
        return reverse("chat:attachment_download", kwargs={"pk": pk, "signature": signature})

    assert client.get(url(first["id"], "forged")).status_code == 404
    # One attachment's signature does not open another.
    assert client.get(url(second["id"], attachment_signature(first["id"]))).status_code == 404
    assert client.get(url(first["id"], attachment_signature(first["id"]))).status_code == 200


# In the chat ----------------------------------------------------------------------------------


async def chat_and_upload(customer_socket, client: Client, content: bytes, name: str):
    """Ana starts a chat and uploads a file to it: (her socket, the upload's response)."""
    socket, _ = await customer_socket(email=ANA)
    await socket.send_json_to({"type": "message", "client_id": "1", "body": "Hello"})
    conversation = (await receive_until(socket, type="conversation"))["conversation"]
    response = await database_sync_to_async(upload)(
        client, conversation["id"], content, name, key=conversation["key"]
    )
    return socket, response


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_chat_message_shows_its_attachment_with_a_link_that_opens_it(customer_socket):
    client = Client()
    socket, response = await chat_and_upload(customer_socket, client, PNG, "receipt.png")
    assert response.status_code == 201
    attachment_id = response.json()["id"]
    await socket.send_json_to(
        {"type": "message", "client_id": "2", "body": "My receipt", "attachment": attachment_id}
    )
    while True:
        message = (await receive_until(socket, type="message"))["message"]
        if message["client_id"] == "2":
            break

    assert message["attachment"]["id"] == attachment_id
    assert message["attachment"]["name"] == "receipt.png"
    assert message["attachment"]["url"] == response.json()["url"]
    download = await database_sync_to_async(client.get)(message["attachment"]["url"])
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_message_with_an_attachment_sent_again_is_acknowledged_as_stored(customer_socket):
    socket, response = await chat_and_upload(customer_socket, Client(), PDF, "invoice.pdf")
    sent = {
        "type": "message",
        "client_id": "2",
        "body": "Invoice",
        "attachment": response.json()["id"],
    }
    await socket.send_json_to(sent)
    first = await receive_until(socket, type="ack", client_id="2")

    # The connection dropped before the ack arrived: the widget sends the message again.
    await socket.send_json_to(sent)
    again = await receive_until(socket, type="ack", client_id="2")

    assert again["seq"] == first["seq"]
    stored = await database_sync_to_async(
        lambda: list(Conversation.objects.get().messages.filter(client_id="2"))
    )()
    assert len(stored) == 1


def test_a_file_of_the_size_limit_goes_through_the_real_asgi_server(asgi_live_server, settings):
    """Django's own upload limits (FILE_UPLOAD_MAX_MEMORY_SIZE, DATA_UPLOAD_MAX_MEMORY_SIZE)
    must not turn a 10 MB attachment into an error under uvicorn."""
    conversation, key = started()
    limit = settings.CHAT_MAX_ATTACHMENT_BYTES
    content = PDF + b"\n" * (limit - len(PDF))

    def post(body: bytes) -> httpx.Response:
        return httpx.post(
            asgi_live_server.url + UPLOAD,
            data={"conversation": str(conversation.pk), "key": key},
            files={"file": ("statement.pdf", body, "application/pdf")},
            headers={"Origin": SHOP},
            timeout=30,
        )

    accepted, refused = post(content), post(content + b"\n")

    assert accepted.status_code == 201
    assert accepted.json()["size"] == limit
    assert refused.status_code == 413
    assert refused.json() == {"error": "That file is too large: at most 10 MB."}


def test_a_card_number_in_a_file_name_is_masked():
    from chat.attachments import display_name

    name = display_name("card 4242 4242 4242 4242.png", "image/png")

    assert "4242 4242 4242 4242" not in name
    assert name.endswith(".png")
