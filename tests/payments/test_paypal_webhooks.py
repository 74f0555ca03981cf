"""PayPal deliveries through the real endpoint, signed as PayPal signs them, by a test CA and
certificate made here (the recorded deliveries' own certificates have expired; they are
checked in test_paypal_verify.py at their own time)."""

from datetime import UTC, datetime, timedelta

import pytest

from payments.models import (
    Dispute,
    DisputeOutcome,
    EventOutcome,
    Payment,
    PaymentStatus,
    Refund,
    RefundStatus,
    WebhookEvent,
)
from payments.paypal.verify import clear_cert_cache
from tests.payments.paypal_signing import PAYLOADS, PayPalTestSigner
from tickets.models import EntryKind, Priority, Reason, Ticket

pytestmark = pytest.mark.django_db

WEBHOOK_ID = "WH-TEST-PAYDESK"

# sample -> (payment id or None, payment status, ticket reason or None)
SAMPLES = {
    "PAYMENT.CAPTURE.COMPLETED": ("12A34567BC123456S", PaymentStatus.SUCCEEDED, None),
    "PAYMENT.CAPTURE.PENDING": ("02T21492PP3782704", PaymentStatus.PENDING, None),
    "PAYMENT.CAPTURE.DECLINED": (
        "7U133281TB3277326",
        PaymentStatus.FAILED,
        Reason.PAYMENT_FAILED,
    ),
    "PAYMENT.CAPTURE.DENIED": ("1YH34677BD7819356", PaymentStatus.FAILED, Reason.PAYMENT_FAILED),
    "PAYMENT.CAPTURE.REFUNDED": ("0JF852973C016714D", PaymentStatus.REFUNDED, None),
    "PAYMENT.CAPTURE.REVERSED": ("4L335234718889942", PaymentStatus.REFUNDED, None),
    "PAYMENT.SALE.COMPLETED": ("4EU7004268015634R", PaymentStatus.SUCCEEDED, None),
    "PAYMENT.SALE.REFUNDED": ("9T0916710M1105906", PaymentStatus.REFUNDED, None),
    "PAYMENT.SALE.REVERSED": (None, None, None),
    "BILLING.SUBSCRIPTION.PAYMENT.FAILED": (
        "I-BW452GLLEP1G",
        PaymentStatus.FAILED,
        Reason.PAYMENT_FAILED,
    ),
    "CUSTOMER.DISPUTE.CREATED": ("45V487086B989905H", PaymentStatus.DISPUTED, Reason.DISPUTE),
    "CUSTOMER.DISPUTE.RESOLVED": ("6C589962JJ4368547", PaymentStatus.DISPUTED, Reason.DISPUTE),
    "RISK.DISPUTE.CREATED": ("93U280418G152174E", PaymentStatus.DISPUTED, Reason.DISPUTE),
}


@pytest.fixture
def signer(tmp_path, settings, monkeypatch):
    signer = PayPalTestSigner()
    settings.PAYPAL_WEBHOOK_ID = WEBHOOK_ID
    settings.PAYPAL_CA_BUNDLE = signer.write_ca_bundle(tmp_path)
    monkeypatch.setattr("payments.paypal.verify.download_cert", signer.download_cert)
    clear_cert_cache()
    yield signer
    clear_cert_cache()


@pytest.fixture
def post_paypal(client, signer, django_capture_on_commit_callbacks):
    def post(body: bytes, *, signed_body: bytes | None = None, **header_kwargs):
        headers = signer.headers(signed_body or body, webhook_id=WEBHOOK_ID, **header_kwargs)
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(
                "/webhooks/paypal/", data=body, content_type="application/json", headers=headers
            )

    return post


def _raw(name: str) -> bytes:
    return (PAYLOADS / "paypal" / f"{name}.json").read_bytes()


def test_every_paypal_sample_is_covered():
    names = {path.stem for path in (PAYLOADS / "paypal").glob("*.json")}
    assert names == set(SAMPLES)


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_each_paypal_sample_leaves_the_expected_payment_and_ticket(post_paypal, name):
    payment_id, status, reason = SAMPLES[name]

    response = post_paypal(_raw(name))

    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get()
    assert bytes(event.body) == _raw(name)
    assert event.event_type == name
    assert event.outcome == EventOutcome.PROCESSED
    assert set(event.signature_headers) >= {"PayPal-Transmission-Sig", "PayPal-Cert-Url"}
    if payment_id is None:
        assert not Payment.objects.exists()
    else:
        payment = Payment.objects.get(provider="paypal", provider_payment_id=payment_id)
        assert payment.status == status
    if reason is None:
        assert not Ticket.objects.exists()
    else:
        ticket = Ticket.objects.get()
        assert ticket.reason == reason
        assert ticket.timeline.filter(kind=EntryKind.PAYMENT_EVENT, webhook_event=event).exists()


def test_a_declined_capture_says_why_in_words(post_paypal):
    post_paypal(_raw("PAYMENT.CAPTURE.DECLINED"))

    ticket = Ticket.objects.get()
    assert ticket.priority == Priority.NORMAL
    assert "185.10 USD" in ticket.subject
    assert "PayPal declined the payment." in ticket.timeline.last().body


def test_a_failed_subscription_payment_names_the_customer(post_paypal):
    post_paypal(_raw("BILLING.SUBSCRIPTION.PAYMENT.FAILED"))

    ticket = Ticket.objects.get()
    assert ticket.customer.email == "customer@example.com"
    assert ticket.customer.name == "John Doe"
    assert ticket.customer.paypal_payer_id == "2J6QB8YJQSJRJ"
    assert ticket.payments.get().amount_minor == 50000


def test_a_resolved_dispute_in_the_buyers_favour_is_lost(post_paypal):
    post_paypal(_raw("CUSTOMER.DISPUTE.RESOLVED"))

    dispute = Dispute.objects.get()
    assert dispute.outcome == DisputeOutcome.LOST
    assert dispute.amount_minor == 998
    assert Ticket.objects.get().priority == Priority.URGENT


def test_a_capture_refund_is_recorded_on_its_capture(post_paypal):
    post_paypal(_raw("PAYMENT.CAPTURE.REFUNDED"))

    refund = Refund.objects.get()
    assert refund.status == RefundStatus.SUCCEEDED
    assert refund.payment.provider_payment_id == "0JF852973C016714D"
    assert refund.payment.refunded_amount_minor == 198


def test_a_paypal_duplicate_is_acknowledged_and_applied_once(post_paypal):
    answers = [post_paypal(_raw("CUSTOMER.DISPUTE.CREATED")) for _ in range(3)]

    assert [a.json()["duplicate"] for a in answers] == [False, True, True]
    assert WebhookEvent.objects.get().deliveries == 3
    assert Ticket.objects.get().timeline.filter(kind=EntryKind.PAYMENT_EVENT).count() == 1


def test_a_tampered_body_is_refused(post_paypal):
    body = _raw("PAYMENT.CAPTURE.DECLINED")

    response = post_paypal(body.replace(b"185.10", b"1.00"), signed_body=body)

    assert response.status_code == 400
    assert response.json() == {"error": "invalid signature: signature does not match"}
    assert not WebhookEvent.objects.exists()


def test_a_delivery_signed_for_another_webhook_is_refused(client, signer):
    body = _raw("PAYMENT.CAPTURE.DECLINED")
    headers = signer.headers(body, webhook_id="WH-SOMEBODY-ELSE")

    response = client.post(
        "/webhooks/paypal/", data=body, content_type="application/json", headers=headers
    )

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_stale_transmission_time_is_refused(post_paypal):
    sent = datetime.now(UTC) - timedelta(seconds=301)

    response = post_paypal(_raw("PAYMENT.CAPTURE.DECLINED"), transmission_time=sent)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_certificate_on_a_host_that_is_not_paypal_is_refused(post_paypal):
    url = "https://evil.example/v1/notifications/certs/CERT-1"

    response = post_paypal(_raw("PAYMENT.CAPTURE.DECLINED"), cert_url=url)

    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_an_unsigned_paypal_delivery_is_refused(client, signer):
    response = client.post(
        "/webhooks/paypal/", data=_raw("PAYMENT.CAPTURE.DECLINED"), content_type="application/json"
    )

    assert response.status_code == 400
    assert "missing header" in response.json()["error"]


def test_an_unknown_paypal_event_type_is_stored_as_ignored(post_paypal):
    body = _raw("PAYMENT.CAPTURE.COMPLETED").replace(
        b'"event_type":"PAYMENT.CAPTURE.COMPLETED"', b'"event_type":"VAULT.PAYMENT-TOKEN.CREATED"'
    )

    response = post_paypal(body)

    assert response.status_code == 200
    assert WebhookEvent.objects.get().outcome == EventOutcome.IGNORED


def test_paypal_is_refused_when_no_webhook_id_is_configured(post_paypal, settings):
    settings.PAYPAL_WEBHOOK_ID = ""

    response = post_paypal(_raw("PAYMENT.CAPTURE.DECLINED"))

    assert response.status_code == 400
    assert "no PayPal webhook id" in response.json()["error"]
