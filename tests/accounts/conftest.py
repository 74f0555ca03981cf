"""People who sign in through the real forms, and the codes their authenticator app shows."""

import base64
import hashlib
import hmac
import struct
import time

import pytest
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.contrib.auth.hashers import make_password
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from tests.factories import AdminFactory, AgentFactory

PASSWORD = "cactus-lantern-orbit-42"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Real passwords through the real forms, hashed cheaply: the hasher is not under test."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps rate limits and already-used TOTP codes in the cache: start each test
    without them."""
    cache.clear()
    yield
    cache.clear()


def totp_code(secret: str, *, at: float | None = None, period: int = 30) -> str:
    """The 6-digit code an authenticator app shows for `secret` (RFC 6238, HMAC-SHA1)."""
    counter = int((time.time() if at is None else at) // period)
    digest = hmac.new(
        base64.b32decode(secret, casefold=True), struct.pack(">Q", counter), hashlib.sha1
    ).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 1_000_000:06d}"


def sign_in(client: Client, login: str, password: str = PASSWORD, **params):
    """Submit the sign-in form; `params` go in the query string (e.g. next=...)."""
    url = reverse("account_login")
    if params:
        url += "?" + "&".join(f"{key}={value}" for key, value in params.items())
    return client.post(url, {"login": login, "password": password})


def confirm_password(client: Client, url: str = "", password: str = PASSWORD):
    """allauth asks for the password again before sensitive changes; `url` is the page it sent
    the user to (with ?next=), if any."""
    return client.post(url or reverse("account_reauthenticate"), {"password": password})


def add_authenticator_app(user) -> str:
    """Give `user` an activated authenticator app (and recovery codes); return its secret."""
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    RecoveryCodes.activate(user)
    return secret


@pytest.fixture
def agent(db):
    return AgentFactory(
        username="alice", email="alice@example.com", password=make_password(PASSWORD)
    )


@pytest.fixture
def admin(db):
    return AdminFactory(username="root", email="root@example.com", password=make_password(PASSWORD))
