"""The identity token a merchant's backend signs for its customer (chat/identity.py)."""

import base64
import hashlib
import hmac
import json
import time

import pytest

from chat.identity import InvalidToken, identity_token_make, identity_token_verify
from tests.chat.conftest import CHAT_SECRET

SOON = "in a minute, when the test runs"


def merchant_token(claims: dict, secret: str = CHAT_SECRET) -> str:
    """What the README tells a merchant to write, independently of Paydesk's own code."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    payload = b64(json.dumps(claims).encode())
    signature = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{b64(signature)}"


def test_a_token_made_as_the_readme_says_is_accepted():
    token = merchant_token(
        {"email": "Ana@Example.com", "name": "Ana", "order": "A-1", "exp": int(time.time()) + 60}
    )

    identity = identity_token_verify(token)

    assert identity.email == "ana@example.com"
    assert identity.name == "Ana"
    assert identity.order == "A-1"
    assert identity.verified


def test_our_own_tokens_round_trip():
    identity = identity_token_verify(identity_token_make(email="bo@example.com", payment="pi_1"))

    assert (identity.email, identity.payment) == ("bo@example.com", "pi_1")


@pytest.mark.parametrize(
    ("claims", "secret", "problem"),
    [
        ({"email": "a@example.com", "exp": 10**10}, "another-secret", "signature"),
        ({"email": "a@example.com", "exp": 1}, CHAT_SECRET, "expired"),
        ({"email": "a@example.com"}, CHAT_SECRET, "no expiry"),
        ({"email": "a@example.com", "exp": 10**12}, CHAT_SECRET, "too far ahead"),
        ({"email": "not-an-email", "exp": SOON}, CHAT_SECRET, "email"),
        ({"exp": SOON}, CHAT_SECRET, "email"),
        (
            {"email": "a@example.com", "exp": SOON, "name": ["x"]},
            CHAT_SECRET,
            "short strings",
        ),
    ],
)
def test_a_bad_token_says_what_is_wrong(claims, secret, problem):
    if claims.get("exp") == SOON:
        claims = {**claims, "exp": int(time.time()) + 60}
    with pytest.raises(InvalidToken, match=problem):
        identity_token_verify(merchant_token(claims, secret))


def test_a_tampered_token_is_refused():
    token = identity_token_make(email="ana@example.com")
    _payload, signature = token.split(".")
    forged = (
        base64.urlsafe_b64encode(
            json.dumps({"email": "mallory@example.com", "exp": int(time.time()) + 60}).encode()
        )
        .rstrip(b"=")
        .decode()
    )

    with pytest.raises(InvalidToken, match="signature"):
        identity_token_verify(f"{forged}.{signature}")


def test_without_a_secret_no_token_is_accepted(settings):
    token = identity_token_make(email="ana@example.com")
    settings.CHAT_IDENTITY_SECRET = ""

    with pytest.raises(InvalidToken, match="not set up"):
        identity_token_verify(token)
