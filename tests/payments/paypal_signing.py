"""Sign webhook deliveries the way PayPal does, and load the recorded real ones.

``PayPalTestSigner`` makes a throwaway CA and a PayPal-like signing certificate issued by it::

    signer = PayPalTestSigner()
    verifier = PayPalVerifier(webhook_id="WH-1", ca_bundle=signer.write_ca_bundle(tmp_path),
                              fetch_cert=signer.fetch_cert)
    verifier.verify(body, signer.headers(body, webhook_id="WH-1"), now=datetime.now(UTC))

``recorded_deliveries()`` are the 9 deliveries PayPal really signed (see PAYLOADS/SOURCES.md).
Their certificates were recorded without the intermediate, so trust them through a bundle
holding ``DIGICERT_EV_INTERMEDIATE_PEM`` (or ``DIGICERT_EV_ROOT_PEM`` when you append the
intermediate to the fetched PEM); certifi no longer carries that root. They are expired: verify
them with ``check_cert_validity=False`` and ``now=delivery.transmission_time``.
"""

import base64
import ipaddress
import json
import secrets
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.conftest import PAYLOADS

PAYPAL_VECTORS = PAYLOADS / "paypal" / "signature-vectors"

# "DigiCert SHA2 Extended Validation Server CA" (valid 2013-10-22 to 2028-10-22), the issuer of
# both recorded PayPal certificates, as published by DigiCert at
# cacerts.digicert.com/DigiCertSHA2ExtendedValidationServerCA.crt. It is also the trust anchor
# PayPal's own Java SDK ships. SHA-256 fingerprint 40:3E:06:2A:...:B8:7F:EF:1A.
DIGICERT_EV_INTERMEDIATE_PEM = b"""-----BEGIN CERTIFICATE-----
MIIEtjCCA56gAwIBAgIQDHmpRLCMEZUgkmFf4msdgzANBgkqhkiG9w0BAQsFADBs
MQswCQYDVQQGEwJVUzEVMBMGA1UEChMMRGlnaUNlcnQgSW5jMRkwFwYDVQQLExB3
d3cuZGlnaWNlcnQuY29tMSswKQYDVQQDEyJEaWdpQ2VydCBIaWdoIEFzc3VyYW5j
ZSBFViBSb290IENBMB4XDTEzMTAyMjEyMDAwMFoXDTI4MTAyMjEyMDAwMFowdTEL
MAkGA1UEBhMCVVMxFTATBgNVBAoTDERpZ2lDZXJ0IEluYzEZMBcGA1UECxMQd3d3
LmRpZ2ljZXJ0LmNvbTE0MDIGA1UEAxMrRGlnaUNlcnQgU0hBMiBFeHRlbmRlZCBW
YWxpZGF0aW9uIFNlcnZlciBDQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoC
ggEBANdTpARR+JmmFkhLZyeqk0nQOe0MsLAAh/FnKIaFjI5j2ryxQDji0/XspQUY
uD0+xZkXMuwYjPrxDKZkIYXLBxA0sFKIKx9om9KxjxKws9LniB8f7zh3VFNfgHk/
LhqqqB5LKw2rt2O5Nbd9FLxZS99RStKh4gzikIKHaq7q12TWmFXo/a8aUGxUvBHy
/Urynbt/DvTVvo4WiRJV2MBxNO723C3sxIclho3YIeSwTQyJ3DkmF93215SF2AQh
cJ1vb/9cuhnhRctWVyh+HA1BV6q3uCe7seT6Ku8hI3UarS2bhjWMnHe1c63YlC3k
8wyd7sFOYn4XwHGeLN7x+RAoGTMCAwEAAaOCAUkwggFFMBIGA1UdEwEB/wQIMAYB
Af8CAQAwDgYDVR0PAQH/BAQDAgGGMB0GA1UdJQQWMBQGCCsGAQUFBwMBBggrBgEF
BQcDAjA0BggrBgEFBQcBAQQoMCYwJAYIKwYBBQUHMAGGGGh0dHA6Ly9vY3NwLmRp
Z2ljZXJ0LmNvbTBLBgNVHR8ERDBCMECgPqA8hjpodHRwOi8vY3JsNC5kaWdpY2Vy
dC5jb20vRGlnaUNlcnRIaWdoQXNzdXJhbmNlRVZSb290Q0EuY3JsMD0GA1UdIAQ2
MDQwMgYEVR0gADAqMCgGCCsGAQUFBwIBFhxodHRwczovL3d3dy5kaWdpY2VydC5j
b20vQ1BTMB0GA1UdDgQWBBQ901Cl1qCt7vNKYApl0yHU+PjWDzAfBgNVHSMEGDAW
gBSxPsNpA/i/RwHUmCYaCALvY2QrwzANBgkqhkiG9w0BAQsFAAOCAQEAnbbQkIbh
hgLtxaDwNBx0wY12zIYKqPBKikLWP8ipTa18CK3mtlC4ohpNiAexKSHc59rGPCHg
4xFJcKx6HQGkyhE6V6t9VypAdP3THYUYUN9XR3WhfVUgLkc3UHKMf4Ib0mKPLQNa
2sPIoc4sUqIAY+tzunHISScjl2SFnjgOrWNoPLpSgVh5oywM395t6zHyuqB8bPEs
1OG9d4Q3A84ytciagRpKkk47RpqF/oOi+Z6Mo8wNXrM9zwR4jxQUezKcxwCmXMS1
oVWNWlZopCJwqjyBcdmdqEU79OX2olHdx3ti6G8MdOu42vi/hw15UJGQmxg7kVkn
8TUoE6smftX3eg==
-----END CERTIFICATE-----
"""

# "DigiCert High Assurance EV Root CA" (valid 2006-11-10 to 2031-11-10), which signed the
# intermediate above. certifi (2026.10.18) no longer carries it; Debian's ca-certificates
# still does. SHA-256 fingerprint 74:31:E5:F4:...:D3:B1:18:CF.
DIGICERT_EV_ROOT_PEM = b"""-----BEGIN CERTIFICATE-----
MIIDxTCCAq2gAwIBAgIQAqxcJmoLQJuPC3nyrkYldzANBgkqhkiG9w0BAQUFADBs
MQswCQYDVQQGEwJVUzEVMBMGA1UEChMMRGlnaUNlcnQgSW5jMRkwFwYDVQQLExB3
d3cuZGlnaWNlcnQuY29tMSswKQYDVQQDEyJEaWdpQ2VydCBIaWdoIEFzc3VyYW5j
ZSBFViBSb290IENBMB4XDTA2MTExMDAwMDAwMFoXDTMxMTExMDAwMDAwMFowbDEL
MAkGA1UEBhMCVVMxFTATBgNVBAoTDERpZ2lDZXJ0IEluYzEZMBcGA1UECxMQd3d3
LmRpZ2ljZXJ0LmNvbTErMCkGA1UEAxMiRGlnaUNlcnQgSGlnaCBBc3N1cmFuY2Ug
RVYgUm9vdCBDQTCCASIwDQYJKoZIhvcNAQEBBQADggEPADCCAQoCggEBAMbM5XPm
+9S75S0tMqbf5YE/yc0lSbZxKsPVlDRnogocsF9ppkCxxLeyj9CYpKlBWTrT3JTW
PNt0OKRKzE0lgvdKpVMSOO7zSW1xkX5jtqumX8OkhPhPYlG++MXs2ziS4wblCJEM
xChBVfvLWokVfnHoNb9Ncgk9vjo4UFt3MRuNs8ckRZqnrG0AFFoEt7oT61EKmEFB
Ik5lYYeBQVCmeVyJ3hlKV9Uu5l0cUyx+mM0aBhakaHPQNAQTXKFx01p8VdteZOE3
hzBWBOURtCmAEvF5OYiiAhF8J2a3iLd48soKqDirCmTCv2ZdlYTBoSUeh10aUAsg
EsxBu24LUTi4S8sCAwEAAaNjMGEwDgYDVR0PAQH/BAQDAgGGMA8GA1UdEwEB/wQF
MAMBAf8wHQYDVR0OBBYEFLE+w2kD+L9HAdSYJhoIAu9jZCvDMB8GA1UdIwQYMBaA
FLE+w2kD+L9HAdSYJhoIAu9jZCvDMA0GCSqGSIb3DQEBBQUAA4IBAQAcGgaX3Nec
nzyIZgYIVyHbIUf4KmeqvxgydkAQV8GK83rZEWWONfqe/EW1ntlMMUu4kehDLI6z
eM7b41N5cdblIZQB2lWHmiRk9opmzN6cN82oNLFpmyPInngiK3BD41VHMWEZ71jF
hS9OMPagMRYjyOfiZRYzy78aG6A9+MpeizGLYAiJLQwGXFK3xPkKmNEVX58Svnw2
Yzi9RKR/5CYrCsSXaQ3pjOLAEFe4yHYSkVXySGnYvCoCWw9E1CAx2/S6cCZdkGCe
vEsXCS+0yx5DaMkHJ8HSXPfqIbloEpw8nL+e/IBcm2PN7EeqJSdnoDfzAIJ9VNep
+OkuE6N36B9K
-----END CERTIFICATE-----
"""

_ALGORITHMS: dict[str, hashes.HashAlgorithm] = {
    "SHA1withRSA": hashes.SHA1(),  # noqa: S303 -- PayPal still lists it as a PAYPAL-AUTH-ALGO
    "SHA256withRSA": hashes.SHA256(),
    "SHA384withRSA": hashes.SHA384(),
    "SHA512withRSA": hashes.SHA512(),
}


@dataclass(frozen=True)
class RecordedDelivery:
    """One webhook delivery PayPal really sent: exact body bytes and the headers it came with."""

    event_type: str
    body: bytes
    headers: dict[str, str]
    webhook_id: str
    cert_pem: bytes

    @property
    def cert_url(self) -> str:
        return self.headers["paypal-cert-url"]

    @property
    def transmission_time(self) -> datetime:
        return datetime.fromisoformat(self.headers["paypal-transmission-time"])


def recorded_deliveries() -> list[RecordedDelivery]:
    """The signed deliveries in PAYLOADS/paypal, sorted by event type."""
    deliveries = []
    for path in sorted(PAYPAL_VECTORS.glob("*.headers.json")):
        vector = json.loads(path.read_text())
        headers = dict(vector["headers"])
        # The 2015 sandbox delivery was recorded without PAYPAL-AUTH-ALGO; PayPal always sends it.
        headers.setdefault("paypal-auth-algo", "SHA256withRSA")
        deliveries.append(
            RecordedDelivery(
                event_type=vector["event_type"],
                body=(PAYLOADS / "paypal" / vector["body_file"]).read_bytes(),
                headers=headers,
                webhook_id=vector["webhook_id"],
                cert_pem=(PAYPAL_VECTORS / vector["cert_file"]).read_bytes(),
            )
        )
    return deliveries


def fetch_recorded_cert(url: str) -> bytes:
    """A ``fetch_cert`` that serves the certificates PayPal served for the recorded deliveries."""
    for delivery in recorded_deliveries():
        if delivery.cert_url == url:
            return delivery.cert_pem
    raise OSError(f"404: no recorded certificate for {url}")


class PayPalTestSigner:
    """A throwaway CA and a PayPal-like signing certificate it issued.

    ``common_name`` names the signing certificate (also its DNS SAN); ``self_signed`` makes the
    certificate sign itself instead of being issued by the CA. ``cert_url`` is unique per signer,
    so the verifier's process-wide certificate cache never mixes two signers up.
    """

    def __init__(
        self,
        *,
        common_name: str = "messageverificationcerts.paypal.com",
        cert_host: str = "api.paypal.com",
        self_signed: bool = False,
        not_before: datetime | None = None,
        not_after: datetime | None = None,
    ) -> None:
        now = datetime.now(UTC)
        self._ca_key = _new_key()
        self._ca_cert = _issue(
            _name(f"Paydesk Test CA {secrets.token_hex(4)}"),
            self._ca_key.public_key(),
            issuer=None,
            issuer_key=self._ca_key,
            not_before=now - timedelta(days=1),
            not_after=now + timedelta(days=3650),
        )
        self._key = _new_key()
        self._cert = _issue(
            _name(common_name),
            self._key.public_key(),
            issuer=None if self_signed else self._ca_cert,
            issuer_key=self._key if self_signed else self._ca_key,
            not_before=not_before or now - timedelta(days=1),
            not_after=not_after or now + timedelta(days=365),
            san=[x509.DNSName(common_name)],
        )
        self.cert_url = (
            f"https://{cert_host}/v1/notifications/certs/CERT-test-{secrets.token_hex(8)}"
        )

    @property
    def ca_pem(self) -> bytes:
        """The CA bundle (PEM) that trusts this signer."""
        return self._ca_cert.public_bytes(serialization.Encoding.PEM)

    @property
    def cert_pem(self) -> bytes:
        """The signing certificate (PEM), as PayPal serves it at the cert URL."""
        return self._cert.public_bytes(serialization.Encoding.PEM)

    def write_ca_bundle(self, directory: Path) -> str:
        """Write ``ca_pem`` into ``directory`` and return the file's path (for ``ca_bundle``)."""
        path = directory / f"paypal-test-ca-{secrets.token_hex(4)}.pem"
        path.write_bytes(self.ca_pem)
        return str(path)

    def fetch_cert(self, url: str) -> bytes:
        """A ``fetch_cert`` serving ``cert_pem`` at ``cert_url``."""
        if url != self.cert_url:
            raise OSError(f"404: {url}")
        return self.cert_pem

    def download_cert(self, url: str, *, ca_bundle: str, timeout: float = 5.0) -> bytes:
        """Stands in for ``payments.paypal.verify.download_cert`` in tests of the endpoint::

        monkeypatch.setattr("payments.paypal.verify.download_cert", signer.download_cert)
        """
        return self.fetch_cert(url)

    def issue_tls_cert(self, host: str) -> bytes:
        """A TLS server certificate for ``host`` (a DNS name or IP) from this CA: cert + key PEM."""
        key = _new_key()
        now = datetime.now(UTC)
        try:
            names: list[x509.GeneralName] = [x509.IPAddress(ipaddress.ip_address(host))]
        except ValueError:
            names = [x509.DNSName(host)]
        cert = _issue(
            _name(host),
            key.public_key(),
            issuer=self._ca_cert,
            issuer_key=self._ca_key,
            not_before=now - timedelta(days=1),
            not_after=now + timedelta(days=30),
            san=names,
        )
        key_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        return cert.public_bytes(serialization.Encoding.PEM) + key_pem

    def headers(
        self,
        body: bytes,
        *,
        webhook_id: str,
        transmission_time: datetime | None = None,
        transmission_id: str | None = None,
        auth_algo: str = "SHA256withRSA",
        cert_url: str | None = None,
    ) -> dict[str, str]:
        """The PAYPAL-* headers PayPal would send with ``body`` for ``webhook_id``."""
        sent_at = (transmission_time or datetime.now(UTC)).astimezone(UTC)
        time_text = sent_at.strftime("%Y-%m-%dT%H:%M:%SZ")
        transmission_id = transmission_id or str(uuid.uuid1())
        signed = f"{transmission_id}|{time_text}|{webhook_id}|{zlib.crc32(body)}".encode()
        signature = self._key.sign(signed, padding.PKCS1v15(), _ALGORITHMS[auth_algo])
        return {
            "PAYPAL-TRANSMISSION-ID": transmission_id,
            "PAYPAL-TRANSMISSION-TIME": time_text,
            "PAYPAL-TRANSMISSION-SIG": base64.b64encode(signature).decode(),
            "PAYPAL-CERT-URL": cert_url or self.cert_url,
            "PAYPAL-AUTH-ALGO": auth_algo,
            "PAYPAL-AUTH-VERSION": "v2",
        }


def _new_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _issue(
    subject: x509.Name,
    public_key: rsa.RSAPublicKey,
    *,
    issuer: x509.Certificate | None,
    issuer_key: rsa.RSAPrivateKey,
    not_before: datetime,
    not_after: datetime,
    san: list[x509.GeneralName] | None = None,
) -> x509.Certificate:
    """A leaf for the ``san`` names, or a CA without them; self-signed when ``issuer`` is None."""
    is_ca = san is None
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer else subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
        .add_extension(
            x509.KeyUsage(
                digital_signature=not is_ca,
                key_encipherment=not is_ca,
                content_commitment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )
    if san is not None:
        builder = builder.add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
            ),
            critical=False,
        ).add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())
