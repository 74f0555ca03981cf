"""The demo merchant's checkout: only when DEMO_CHECKOUT is on; it vouches for its customer to
the widget, and its "Pay" makes the event Stripe would send, which the webhook accepts."""

import json
import re

import pytest
from django.test import Client

from chat.demo_views import basket_total_minor
from chat.identity import identity_token_verify
from payments.models import Payment, PaymentStatus
from tests.conftest import STRIPE_SECRET
from tickets.models import Reason, Ticket

pytestmark = pytest.mark.django_db

ANA = "ana.souza@example.com"  # in the demo data (load_demo_data)


@pytest.fixture
def demo_on(settings):
    settings.DEMO_CHECKOUT = True


def widget_token(page: str) -> str:
    match = re.search(r'<script src="[^"]*chat/widget\.js" data-token="([^"]+)"', page)
    assert match, "the page embeds the widget with a token"
    return match.group(1)


def pay(client: Client, outcome: str, email: str = ANA, **fields: str):
    return client.post(
        "/demo/checkout/pay/",
        {"outcome": outcome, "email": email, "order": "LO-12345", **fields},
    )


def deliver(client: Client, answer: dict, capture):
    """What the page's JavaScript does with the answer: post it to the webhook, signed."""
    with capture(execute=True):
        return client.post(
            answer["webhook_url"],
            data=answer["body"].encode(),
            content_type="application/json",
            HTTP_STRIPE_SIGNATURE=answer["signature"],
        )


def test_the_demo_checkout_is_not_there_unless_turned_on(client, settings):
    settings.DEMO_CHECKOUT = False

    assert client.get("/demo/checkout/").status_code == 404
    assert pay(client, "insufficient_funds").status_code == 404


def test_the_checkout_vouches_for_the_demo_customer_to_the_widget(client, demo_on):
    response = client.get("/demo/checkout/")

    assert response.status_code == 200
    page = response.content.decode()
    identity = identity_token_verify(widget_token(page))
    assert (identity.email, identity.name, identity.verified) == (ANA, "Ana Souza", True)
    assert re.match(r"LO-\d{5}$", identity.order)
    assert "€79.90" in page  # the basket's total


def test_the_checkout_can_play_another_customer_in_another_language(client, demo_on):
    response = client.get("/demo/checkout/", {"email": "Ben.Okafor@example.net", "language": "fa"})

    page = response.content.decode()
    assert identity_token_verify(widget_token(page)).email == "ben.okafor@example.net"
    assert '<html lang="fa" dir="rtl">' in page


def test_a_checkout_for_something_that_is_not_an_email_is_refused(client, demo_on):
    response = client.get("/demo/checkout/", {"email": "not-an-email"})

    assert response.status_code == 400
    assert b"not an email address" in response.content


def test_without_an_identity_secret_the_widget_asks_for_an_email(client, demo_on, settings):
    settings.CHAT_IDENTITY_SECRET = ""

    page = client.get("/demo/checkout/").content.decode()

    assert "chat/widget.js" in page
    assert "data-token" not in page


def test_paying_needs_the_pages_csrf_token(demo_on):
    client = Client(enforce_csrf_checks=True)
    assert pay(client, "insufficient_funds").status_code == 403

    page = client.get("/demo/checkout/").content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    assert pay(client, "insufficient_funds", csrfmiddlewaretoken=csrf).status_code == 200


def test_a_declined_payment_becomes_a_failed_payment_and_a_ticket(
    client, demo_on, django_capture_on_commit_callbacks
):
    answer = pay(client, "insufficient_funds").json()

    response = deliver(client, answer, django_capture_on_commit_callbacks)

    assert response.status_code == 200, response.content
    payment = Payment.objects.get(provider_payment_id=answer["payment"])
    assert payment.status == PaymentStatus.FAILED
    assert payment.failure_code == "insufficient_funds"
    assert (payment.amount_minor, payment.currency) == (basket_total_minor(), "EUR")
    assert (payment.customer.email, payment.customer.name) == (ANA, "Ana Souza")
    ticket = Ticket.objects.get(payments=payment)
    assert ticket.reason == Reason.PAYMENT_FAILED
    assert ticket.customer == payment.customer
    assert answer["succeeded"] is False
    assert answer["message"] == (
        "Your payment of €79.90 was declined: The card has insufficient funds."
    )


@pytest.mark.parametrize(
    ("outcome", "code"), [("card_declined", "generic_decline"), ("expired_card", "expired_card")]
)
def test_each_decline_the_page_offers_reaches_the_payment(
    client, demo_on, django_capture_on_commit_callbacks, outcome, code
):
    answer = pay(client, outcome).json()

    assert deliver(client, answer, django_capture_on_commit_callbacks).status_code == 200
    assert Payment.objects.get(provider_payment_id=answer["payment"]).failure_code == code


def test_a_successful_payment_makes_no_ticket(client, demo_on, django_capture_on_commit_callbacks):
    answer = pay(client, "succeed").json()

    assert deliver(client, answer, django_capture_on_commit_callbacks).status_code == 200
    payment = Payment.objects.get(provider_payment_id=answer["payment"])
    assert payment.status == PaymentStatus.SUCCEEDED
    assert not Ticket.objects.exists()
    assert answer["succeeded"] is True


def test_every_payment_is_a_new_event_and_a_new_payment(
    client, demo_on, django_capture_on_commit_callbacks
):
    first, second = pay(client, "card_declined").json(), pay(client, "card_declined").json()

    assert json.loads(first["body"])["id"] != json.loads(second["body"])["id"]
    assert first["payment"] != second["payment"]
    for answer in (first, second):
        assert deliver(client, answer, django_capture_on_commit_callbacks).status_code == 200
    assert Payment.objects.filter(customer__email=ANA).count() == 2


def test_the_event_is_signed_with_the_first_webhook_secret(client, demo_on, settings):
    settings.STRIPE_WEBHOOK_SECRETS = ["whsec_other", STRIPE_SECRET]
    answer = pay(client, "succeed").json()

    settings.STRIPE_WEBHOOK_SECRETS = [STRIPE_SECRET]
    refused = client.post(
        answer["webhook_url"],
        data=answer["body"].encode(),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=answer["signature"],
    )
    assert refused.status_code == 400


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"outcome": "refund_everything"}, "Choose what should happen"),
        ({"email": "nobody"}, "not an email address"),
        ({"order": "1; DROP TABLE"}, "order reference"),
    ],
)
def test_a_payment_request_that_makes_no_sense_is_refused(client, demo_on, fields, error):
    response = client.post(
        "/demo/checkout/pay/",
        {"outcome": "succeed", "email": ANA, "order": "LO-12345", **fields},
    )

    assert response.status_code == 400
    assert error in response.json()["error"]


def test_paying_without_a_webhook_secret_says_what_is_missing(client, demo_on, settings):
    settings.STRIPE_WEBHOOK_SECRETS = []

    response = pay(client, "succeed")

    assert response.status_code == 503
    assert "STRIPE_WEBHOOK_SECRETS" in response.json()["error"]
