"""The webhook endpoints: verify → store raw → queue on commit → answer.

Processing (adapt → rules → tickets) happens in a Celery task after the answer, so a slow
database or rule never makes the provider time out, and a crash never loses a stored event.
"""

import json
import logging

from django.conf import settings
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from payments.models import Provider
from payments.paypal.verify import PayPalVerifier
from payments.paypal.verify import SignatureError as PayPalSignatureError
from payments.services import ADAPTERS, webhook_event_store
from payments.stripe.verify import SignatureError as StripeSignatureError
from payments.stripe.verify import verify_stripe_signature

logger = logging.getLogger(__name__)

ERROR_TOO_LARGE = "request body is larger than {limit} bytes"
ERROR_SIGNATURE = "invalid signature: {reason}"
ERROR_MALFORMED = "malformed event: {reason}"
ERROR_STORE = "the event could not be stored; please retry"

STRIPE_HEADERS = ("Stripe-Signature",)
PAYPAL_HEADERS = (
    "PayPal-Transmission-Id",
    "PayPal-Transmission-Time",
    "PayPal-Transmission-Sig",
    "PayPal-Cert-Url",
    "PayPal-Auth-Algo",
    "PayPal-Auth-Version",
)


@csrf_exempt
@require_POST
def stripe_webhook(request: HttpRequest) -> JsonResponse:
    return _receive(request, Provider.STRIPE)


@csrf_exempt
@require_POST
def paypal_webhook(request: HttpRequest) -> JsonResponse:
    return _receive(request, Provider.PAYPAL)


def _receive(request: HttpRequest, provider: Provider) -> JsonResponse:
    limit = settings.WEBHOOK_MAX_BODY_BYTES
    declared = request.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        return _refuse(provider, 413, ERROR_TOO_LARGE.format(limit=limit))
    body = request.read(limit + 1)
    if len(body) > limit:
        return _refuse(provider, 413, ERROR_TOO_LARGE.format(limit=limit))

    try:
        _verify(provider, body, request)
    except (StripeSignatureError, PayPalSignatureError) as exc:
        return _refuse(provider, 400, ERROR_SIGNATURE.format(reason=exc))

    try:
        event_id, event_type = ADAPTERS[provider].event_identity(json.loads(body))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        reason = "body is not JSON" if isinstance(exc, ValueError) else f"missing field {exc}"
        return _refuse(provider, 400, ERROR_MALFORMED.format(reason=reason))

    names = STRIPE_HEADERS if provider == Provider.STRIPE else PAYPAL_HEADERS
    signature_headers = {name: request.headers[name] for name in names if name in request.headers}
    try:
        _, created = webhook_event_store(
            provider=provider,
            event_id=event_id,
            event_type=event_type,
            body=body,
            signature_headers=signature_headers,
        )
    except DatabaseError:
        logger.exception("could not store %s event %s", provider, event_id)
        return JsonResponse({"error": ERROR_STORE}, status=503)
    return JsonResponse({"received": True, "event": event_id, "duplicate": not created})


def _verify(provider: Provider, body: bytes, request: HttpRequest) -> None:
    if provider == Provider.STRIPE:
        verify_stripe_signature(
            body,
            request.headers.get("Stripe-Signature"),
            secrets=settings.STRIPE_WEBHOOK_SECRETS,
            tolerance_s=settings.STRIPE_WEBHOOK_TOLERANCE_S,
        )
        return
    if not settings.PAYPAL_WEBHOOK_ID:
        raise PayPalSignatureError("no PayPal webhook id is configured")
    verifier = PayPalVerifier(
        webhook_id=settings.PAYPAL_WEBHOOK_ID,
        allowed_cert_hosts=tuple(settings.PAYPAL_CERT_HOSTS),
        ca_bundle=settings.PAYPAL_CA_BUNDLE,
        tolerance_s=settings.PAYPAL_WEBHOOK_TOLERANCE_S,
    )
    verifier.verify(body, request.headers, now=timezone.now())


def _refuse(provider: Provider, status: int, message: str) -> JsonResponse:
    logger.warning("refused %s webhook (%s): %s", provider, status, message)
    return JsonResponse({"error": message}, status=status)
