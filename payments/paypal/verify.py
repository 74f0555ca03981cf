"""Offline verification of PayPal webhook signatures.

PayPal signs ``transmission_id|transmission_time|webhook_id|crc32(body)`` with the key of a
certificate it publishes at PAYPAL-CERT-URL. We fetch that certificate (only from PayPal's
hosts), check that it chains to a CA in our bundle and names a paypal.com host, and check the
signature with its public key. No call to PayPal's verify-webhook-signature API is made.
"""

import base64
import binascii
import http.client
import ssl
import threading
import urllib.request
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from urllib.parse import urlsplit

import certifi
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from cryptography.x509.verification import PolicyBuilder, Store, VerificationError

DEFAULT_CERT_HOSTS = ("api.paypal.com", "api.sandbox.paypal.com")
FETCH_TIMEOUT_S = 5.0
MAX_CERT_BYTES = 64 * 1024

SIGNATURE_MISMATCH = "signature does not match"
CERT_EXPIRED = "certificate expired"
CERT_NOT_YET_VALID = "certificate is not yet valid"
CERT_UNTRUSTED = "certificate does not chain to a trusted CA"
CERT_NOT_PAYPAL = "certificate subject is not a paypal.com name"
CERT_FETCH_FAILED = "could not fetch certificate"

_REQUIRED_HEADERS = (
    "paypal-transmission-id",
    "paypal-transmission-time",
    "paypal-transmission-sig",
    "paypal-cert-url",
    "paypal-auth-algo",
)
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha1withrsa": hashes.SHA1,
    "sha256withrsa": hashes.SHA256,
    "sha384withrsa": hashes.SHA384,
    "sha512withrsa": hashes.SHA512,
}


class SignatureError(Exception):
    """Raised with a human-readable message saying what is wrong."""


@dataclass(frozen=True)
class _TrustedCert:
    public_key: rsa.RSAPublicKey
    valid_from: datetime  # the intersection of the validity periods of the whole chain
    valid_until: datetime


_cache: dict[tuple[str, str], _TrustedCert] = {}
_cache_lock = threading.Lock()


def clear_cert_cache() -> None:
    """Forget every certificate fetched so far (for tests)."""
    with _cache_lock:
        _cache.clear()


def download_cert(url: str, *, ca_bundle: str, timeout: float = FETCH_TIMEOUT_S) -> bytes:
    """GET ``url`` over TLS verified against ``ca_bundle``; raise OSError on failure."""
    context = ssl.create_default_context(cafile=ca_bundle)
    opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
    with opener.open(url, timeout=timeout) as response:
        pem: bytes = response.read(MAX_CERT_BYTES + 1)
    if len(pem) > MAX_CERT_BYTES:
        raise OSError(f"response is larger than {MAX_CERT_BYTES} bytes")
    return pem


@dataclass(frozen=True)
class PayPalVerifier:
    """Checks that a webhook delivery was signed by PayPal for ``webhook_id``.

    ``webhook_id`` is PAYPAL_WEBHOOK_ID (PayPal's simulator signs with the literal "WEBHOOK_ID").
    ``allowed_cert_hosts`` are the "host" or "host:port" the certificate may be fetched from.
    ``ca_bundle`` is a PEM file trusted for the TLS connection that fetches the certificate and
    as the anchors of its chain; every certificate in it is an anchor, intermediates included.
    ``fetch_cert(url) -> PEM bytes`` replaces the download (tests).
    """

    webhook_id: str
    allowed_cert_hosts: tuple[str, ...] = DEFAULT_CERT_HOSTS
    ca_bundle: str = field(default_factory=certifi.where)
    tolerance_s: int = 300
    fetch_cert: Callable[[str], bytes] | None = None

    def verify(
        self,
        body: bytes,
        headers: Mapping[str, str],
        *,
        now: datetime,
        check_cert_validity: bool = True,
    ) -> None:
        """Return if ``body`` carries a valid PayPal signature at ``now`` (aware), else raise.

        Header names match in any case. With ``check_cert_validity=False`` the certificate chain
        is checked at a moment inside the leaf's validity period instead of at ``now``, so
        recorded deliveries signed with since-expired certificates verify.
        """
        lowered = {name.lower(): value for name, value in headers.items()}
        for name in _REQUIRED_HEADERS:
            if not lowered.get(name):
                raise SignatureError(f"missing header {name.upper()}")
        transmission_id, transmission_time, signature_b64, cert_url, algo = (
            lowered[name] for name in _REQUIRED_HEADERS
        )
        hash_algorithm = _HASHES.get(algo.lower())
        if hash_algorithm is None:
            raise SignatureError(f"unsupported PAYPAL-AUTH-ALGO {algo!r}")
        try:
            sent_at = datetime.fromisoformat(transmission_time)
        except ValueError:
            raise SignatureError(f"bad PAYPAL-TRANSMISSION-TIME {transmission_time!r}") from None
        sent_at = sent_at.replace(tzinfo=sent_at.tzinfo or UTC)
        if abs((now - sent_at).total_seconds()) > self.tolerance_s:
            raise SignatureError(
                f"PAYPAL-TRANSMISSION-TIME {transmission_time} is more than "
                f"{self.tolerance_s} s away from now ({now.isoformat()})"
            )
        self._check_cert_url(cert_url)
        cert = self._trusted_cert(cert_url, now=now)
        if check_cert_validity and now > cert.valid_until:
            raise SignatureError(f"{CERT_EXPIRED} on {cert.valid_until.isoformat()}")
        if check_cert_validity and now < cert.valid_from:
            raise SignatureError(f"{CERT_NOT_YET_VALID} (from {cert.valid_from.isoformat()})")
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except binascii.Error:
            raise SignatureError("PAYPAL-TRANSMISSION-SIG is not base64") from None
        signed = f"{transmission_id}|{transmission_time}|{self.webhook_id}|{zlib.crc32(body)}"
        try:
            cert.public_key.verify(signature, signed.encode(), padding.PKCS1v15(), hash_algorithm())
        except InvalidSignature:
            raise SignatureError(SIGNATURE_MISMATCH) from None

    def _check_cert_url(self, url: str) -> None:
        parts = urlsplit(url)
        allowed = {entry.lower() for entry in self.allowed_cert_hosts}
        if parts.scheme != "https" or parts.netloc.lower() not in allowed:
            raise SignatureError(f"PAYPAL-CERT-URL {url!r} is not an https URL on a PayPal host")

    def _trusted_cert(self, url: str, *, now: datetime) -> _TrustedCert:
        key = (url, self.ca_bundle)
        with _cache_lock:
            cached = _cache.get(key)
        if cached is not None:
            return cached
        # No lock while fetching: two racing first deliveries just fetch twice.
        fetch = self.fetch_cert or partial(download_cert, ca_bundle=self.ca_bundle)
        try:
            pem = fetch(url)
        except (OSError, http.client.HTTPException) as exc:
            raise SignatureError(f"{CERT_FETCH_FAILED}: {exc}") from exc
        trusted = _validate(pem, ca_bundle=self.ca_bundle, now=now)
        with _cache_lock:
            _cache[key] = trusted
        return trusted


def _paypal_name(leaf: x509.Certificate) -> str:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        names = san.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        names = []
    names += [str(a.value) for a in leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)]
    for name in names:
        if name.lower().endswith(".paypal.com"):
            return name.lower()
    raise SignatureError(f"{CERT_NOT_PAYPAL}: {', '.join(names) or 'no names'}")


def _validate(pem: bytes, *, ca_bundle: str, now: datetime) -> _TrustedCert:
    """The leaf of ``pem`` (followed by any intermediates) once its chain and name check out.

    The chain is checked at ``now`` moved into the leaf's validity period; whether ``now`` itself
    is inside the chain's validity is the caller's decision, so the result can be cached.
    """
    try:
        leaf, *intermediates = x509.load_pem_x509_certificates(pem)
    except ValueError:
        raise SignatureError("the certificate URL did not return a PEM certificate") from None
    name = _paypal_name(leaf)
    at = min(max(now, leaf.not_valid_before_utc), leaf.not_valid_after_utc)
    with open(ca_bundle, "rb") as bundle:
        anchors = x509.load_pem_x509_certificates(bundle.read())
    # PayPal's signing certificates are TLS server certificates; a server verifier checks the
    # serverAuth key usage they will keep (the clientAuth one is being phased out of public CAs).
    verifier = (
        PolicyBuilder().store(Store(anchors)).time(at).build_server_verifier(x509.DNSName(name))
    )
    try:
        chain = verifier.verify(leaf, intermediates)
    except VerificationError as exc:
        raise SignatureError(f"{CERT_UNTRUSTED}: {exc}") from None
    public_key = leaf.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise SignatureError("certificate key is not an RSA key")
    return _TrustedCert(
        public_key=public_key,
        valid_from=max(cert.not_valid_before_utc for cert in chain),
        valid_until=min(cert.not_valid_after_utc for cert in chain),
    )
