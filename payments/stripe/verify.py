"""Stripe-Signature verification, with several secrets accepted while one is being rotated."""

from collections.abc import Sequence

import stripe


class SignatureError(Exception):
    """The delivery is not provably from Stripe; the message says why."""


def verify_stripe_signature(
    body: bytes, header: str | None, *, secrets: Sequence[str], tolerance_s: int
) -> None:
    if not secrets:
        raise SignatureError("no Stripe webhook secret is configured")
    if not header:
        raise SignatureError("missing header Stripe-Signature")
    try:
        payload = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignatureError("body is not UTF-8") from exc
    last_error = ""
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload, header, secret, tolerance_s)
            return
        except stripe.SignatureVerificationError as exc:
            last_error = str(exc)
    raise SignatureError(last_error or "signature does not match")
