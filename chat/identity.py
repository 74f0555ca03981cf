"""Who is chatting: the merchant's backend vouches for its customer with a signed token.

A token is two base64url parts joined by a dot: the claims as JSON, and the HMAC-SHA256 of the
first part under the secret the merchant shares with Paydesk (CHAT_IDENTITY_SECRET):

    claims  = {"email": "ana@example.com", "name": "Ana", "order": "A-1001",
               "payment": "pi_…", "exp": <unix time>}
    payload = base64url(json(claims))            (no padding)
    token   = payload + "." + base64url(hmac_sha256(secret, payload))

`email` and `exp` are required; `exp` may be at most CHAT_TOKEN_MAX_AGE_S ahead. The README has
the merchant's side in Python.
"""

import base64
import binascii
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email


class InvalidToken(ValueError):
    pass


@dataclass(frozen=True)
class ChatIdentity:
    email: str
    name: str = ""
    order: str = ""
    payment: str = ""
    verified: bool = False


def _b64encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str, secret: str) -> str:
    return _b64encode(hmac.new(secret.encode(), payload.encode("ascii"), hashlib.sha256).digest())


def identity_token_make(
    *, email: str, name: str = "", order: str = "", payment: str = "", ttl_s: int = 3600
) -> str:
    """What a merchant's backend does (used by the demo checkout and the tests)."""
    claims = {"email": email, "exp": int(time.time()) + ttl_s}
    claims.update(
        {
            key: value
            for key, value in (("name", name), ("order", order), ("payment", payment))
            if value
        }
    )
    payload = _b64encode(json.dumps(claims, separators=(",", ":")).encode())
    return f"{payload}.{_signature(payload, settings.CHAT_IDENTITY_SECRET)}"


def identity_token_verify(token: str) -> ChatIdentity:
    """The customer the token names, or InvalidToken saying what is wrong with it."""
    secret = settings.CHAT_IDENTITY_SECRET
    if not secret:
        raise InvalidToken("Signed chat identities are not set up (CHAT_IDENTITY_SECRET).")
    if (
        not isinstance(token, str)
        or len(token) > 4096
        or not token.isascii()
        or token.count(".") != 1
    ):
        raise InvalidToken("The identity token is malformed.")
    payload, signature = token.split(".")
    if not hmac.compare_digest(signature, _signature(payload, secret)):
        raise InvalidToken("The identity token's signature does not match.")
    try:
        claims = json.loads(_b64decode(payload))
    except (ValueError, binascii.Error) as error:
        raise InvalidToken("The identity token's claims are not JSON.") from error
    if not isinstance(claims, dict):
        raise InvalidToken("The identity token's claims are not a JSON object.")
    expires = claims.get("exp")
    now = time.time()
    if not isinstance(expires, int | float) or isinstance(expires, bool):
        raise InvalidToken("The identity token has no expiry (exp).")
    if expires <= now:
        raise InvalidToken("The identity token has expired.")
    if expires > now + settings.CHAT_TOKEN_MAX_AGE_S:
        raise InvalidToken("The identity token's expiry is too far ahead.")
    email = claims.get("email")
    fields = {key: claims.get(key) or "" for key in ("name", "order", "payment")}
    if not all(isinstance(value, str) and len(value) <= 200 for value in fields.values()):
        raise InvalidToken("The identity token's name, order and payment must be short strings.")
    return ChatIdentity(email=email_checked(email), verified=True, **fields)


def email_checked(email: object) -> str:
    """A usable email address, lower-cased, or InvalidToken."""
    if not isinstance(email, str) or len(email) > 254:
        raise InvalidToken("An email address is needed.")
    try:
        validate_email(email.strip())
    except ValidationError as error:
        raise InvalidToken("That is not an email address.") from error
    return email.strip().lower()
