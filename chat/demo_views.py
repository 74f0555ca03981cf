"""The demo merchant: a checkout page with the chat widget on it (settings.DEMO_CHECKOUT).

The page plays the merchant's backend: it signs the customer's identity for the widget, and
"Pay" asks it for the event Stripe would send about the payment, signed as Stripe signs. The
browser then delivers that event to Paydesk's webhook endpoint, as Stripe would. (The server
does not post to itself: under ASGI a sync view calling back into the same single-threaded
executor would wait for itself forever.)
"""

import hashlib
import hmac
import json
import logging
import re
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from chat.identity import InvalidToken, email_checked, identity_token_make
from chat.widget_views import widget_language
from payments.decline_reasons import decline_reason_in_words
from payments.management.commands.load_demo_data import CUSTOMERS, ZEROED_ID
from payments.models import Customer
from tickets.formatting import money

logger = logging.getLogger(__name__)

SAMPLES = Path(__file__).resolve().parents[1] / "payments" / "demo_payloads" / "stripe"
# Ana is in the demo data (load_demo_data) with a failed and a recovered payment.
DEMO_CUSTOMER = CUSTOMERS["ana"]
CURRENCY = "EUR"
ORDER_PATTERN = re.compile(r"^LO-\d{5}$")


@dataclass(frozen=True)
class BasketLine:
    name: Any
    detail: Any
    quantity: int
    unit_minor: int

    @property
    def total_minor(self) -> int:
        return self.quantity * self.unit_minor


BASKET = (
    BasketLine(gettext_lazy("Stoneware pour-over dripper"), gettext_lazy("Sand glaze"), 1, 3400),
    BasketLine(
        gettext_lazy("Single-origin coffee beans"), gettext_lazy("250 g, Ethiopia"), 2, 1450
    ),
    BasketLine(gettext_lazy("Linen tea towel"), gettext_lazy("Natural"), 1, 1200),
)
SHIPPING_MINOR = 490


def basket_total_minor() -> int:
    return sum(line.total_minor for line in BASKET) + SHIPPING_MINOR


@dataclass(frozen=True)
class Outcome:
    label: Any
    # What Stripe puts in the PaymentIntent's last_payment_error; None: the payment succeeds.
    code: str | None = None
    decline_code: str = ""
    message: str = ""


OUTCOMES = {
    "succeed": Outcome(gettext_lazy("Succeed")),
    "insufficient_funds": Outcome(
        gettext_lazy("Fail: insufficient funds"),
        "card_declined",
        "insufficient_funds",
        "Your card has insufficient funds.",
    ),
    "card_declined": Outcome(
        gettext_lazy("Fail: card declined"),
        "card_declined",
        "generic_decline",
        "Your card was declined.",
    ),
    "expired_card": Outcome(
        gettext_lazy("Fail: expired card"),
        "expired_card",
        "expired_card",
        "Your card has expired.",
    ),
}


def _demo_only() -> None:
    if not settings.DEMO_CHECKOUT:
        raise Http404("The demo checkout is off (DEMO_CHECKOUT).")


def _customer_name(email: str, given: str) -> str:
    if given:
        return given[:200]
    if email == DEMO_CUSTOMER.email:
        return DEMO_CUSTOMER.name
    known = Customer.objects.filter(email__iexact=email).exclude(name="").first()
    return known.name if known else ""


@require_GET
def demo_checkout(request: HttpRequest) -> HttpResponse:
    """The checkout, for the demo customer or for `?email=` (and `?name=`), in `?language=`."""
    _demo_only()
    try:
        email = email_checked(request.GET.get("email") or DEMO_CUSTOMER.email)
    except InvalidToken as error:
        logger.info("Demo checkout refused an email address: %s", error)
        return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
    name = _customer_name(email, request.GET.get("name", "").strip())
    order = f"LO-{secrets.randbelow(90000) + 10000}"
    language = widget_language(request.GET.get("language") or request.LANGUAGE_CODE)
    # Without a shared secret the widget cannot be vouched for: it asks for an email instead.
    token = (
        identity_token_make(email=email, name=name, order=order)
        if settings.CHAT_IDENTITY_SECRET
        else ""
    )
    with translation.override(language):
        lines = [
            {
                "name": str(line.name),
                "detail": str(line.detail),
                "quantity": line.quantity,
                "total": money(line.total_minor, CURRENCY),
            }
            for line in BASKET
        ]
        context = {
            "language": language,
            "direction": "rtl" if translation.get_language_bidi() else "ltr",
            "languages": settings.LANGUAGES,
            "email": email,
            "name": name,
            "order": order,
            "token": token,
            "lines": lines,
            "shipping": money(SHIPPING_MINOR, CURRENCY),
            "total": money(basket_total_minor(), CURRENCY),
            "outcomes": [(key, str(outcome.label)) for key, outcome in OUTCOMES.items()],
            "webhook_url": reverse("payments:stripe-webhook"),
        }
        return render(request, "chat/demo_checkout.html", context)


@require_POST
def demo_checkout_pay(request: HttpRequest) -> JsonResponse:
    """The Stripe event about this payment, signed, for the page to deliver to the webhook."""
    _demo_only()
    outcome = OUTCOMES.get(request.POST.get("outcome", ""))
    order = request.POST.get("order", "")
    try:
        email = email_checked(request.POST.get("email"))
    except InvalidToken as error:
        return _refuse(str(error))
    if outcome is None:
        return _refuse("Choose what should happen: " + ", ".join(OUTCOMES) + ".")
    if not ORDER_PATTERN.match(order):
        return _refuse("The order reference is malformed.")
    if not settings.STRIPE_WEBHOOK_SECRETS:
        logger.warning("Demo checkout cannot sign events: STRIPE_WEBHOOK_SECRETS is empty")
        return JsonResponse({"error": "STRIPE_WEBHOOK_SECRETS is not set."}, status=503)
    name = _customer_name(email, request.POST.get("name", "").strip())
    event = stripe_payment_event(email=email, name=name, order=order, outcome=outcome)
    body = json.dumps(event, ensure_ascii=False)
    amount = basket_total_minor()
    language = widget_language(request.POST.get("language") or request.LANGUAGE_CODE)
    with translation.override(language):
        if outcome.code is None:
            words = _("Thank you! Your payment of %(amount)s went through (order %(order)s).")
        else:
            words = _("Your payment of %(amount)s was declined: %(reason)s")
        message = words % {
            "amount": money(amount, CURRENCY),
            "order": order,
            "reason": decline_reason_in_words(outcome.decline_code, outcome.message),
        }
    return JsonResponse(
        {
            "body": body,
            "signature": stripe_signature_header(body, settings.STRIPE_WEBHOOK_SECRETS[0]),
            "webhook_url": reverse("payments:stripe-webhook"),
            "payment": event["data"]["object"]["id"],
            "succeeded": outcome.code is None,
            "message": message,
        }
    )


def _refuse(reason: str) -> JsonResponse:
    logger.info("Demo checkout payment refused: %s", reason)
    return JsonResponse({"error": reason}, status=400)


def stripe_payment_event(*, email: str, name: str, order: str, outcome: Outcome) -> dict:
    """A recorded PaymentIntent event made new: fresh ids, now, this customer and basket."""
    sample = "payment_intent.succeeded" if outcome.code is None else "payment_intent.payment_failed"
    text = (SAMPLES / f"{sample}.json").read_text(encoding="utf-8")
    event = json.loads(ZEROED_ID.sub(f"_demo{secrets.token_hex(10)}", text))
    now = int(time.time())
    amount = basket_total_minor()
    event["id"] = f"evt_demo{secrets.token_hex(12)}"
    event["created"] = now
    intent = event["data"]["object"]
    who = {"email": email, "name": name or None}
    intent.update(
        amount=amount,
        currency=CURRENCY.lower(),
        created=now,
        receipt_email=email,
        description=f"Lumen & Oak order {order}",
        metadata={"order": order},
    )
    if outcome.code is None:
        intent["amount_received"] = amount
    else:
        intent["last_payment_error"].update(
            code=outcome.code, decline_code=outcome.decline_code, message=outcome.message
        )
        intent["last_payment_error"]["payment_method"]["billing_details"].update(who)
    for charge in intent["charges"]["data"]:
        charge.update(amount=amount, currency=CURRENCY.lower(), created=now, receipt_email=email)
        charge["billing_details"].update(who)
        charge["metadata"] = {"order": order}
        if outcome.code is not None:
            charge.update(failure_code=outcome.code, failure_message=outcome.message)
            charge["outcome"]["reason"] = outcome.decline_code
    return event


def stripe_signature_header(payload: str, secret: str, timestamp: int | None = None) -> str:
    """Stripe-Signature as Stripe makes it: HMAC-SHA256 of "<t>.<payload>" under the secret."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.{payload}".encode()
    signature = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={signature}"
