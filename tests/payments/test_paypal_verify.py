import ssl
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import certifi
import pytest

from payments.paypal.verify import (
    CERT_EXPIRED,
    CERT_FETCH_FAILED,
    CERT_NOT_PAYPAL,
    CERT_UNTRUSTED,
    SIGNATURE_MISMATCH,
    PayPalVerifier,
    SignatureError,
    clear_cert_cache,
)
from tests.payments.paypal_signing import (
    DIGICERT_EV_INTERMEDIATE_PEM,
    DIGICERT_EV_ROOT_PEM,
    PayPalTestSigner,
    RecordedDelivery,
    fetch_recorded_cert,
    recorded_deliveries,
)

WEBHOOK_ID = "8PT597110X687430LKGECATA"
BODY = b'{"id":"WH-1","event_type":"PAYMENT.CAPTURE.COMPLETED"}'
DELIVERIES = recorded_deliveries()


@pytest.fixture(autouse=True)
def _empty_cert_cache() -> Iterator[None]:
    clear_cert_cache()
    yield
    clear_cert_cache()


@pytest.fixture(scope="module")
def signer() -> PayPalTestSigner:
    return PayPalTestSigner()


@pytest.fixture
def verifier(signer: PayPalTestSigner, tmp_path: Path) -> PayPalVerifier:
    return PayPalVerifier(
        webhook_id=WEBHOOK_ID,
        ca_bundle=signer.write_ca_bundle(tmp_path),
        fetch_cert=signer.fetch_cert,
    )


def _bundle(tmp_path: Path, *pems: bytes) -> str:
    path = tmp_path / "bundle.pem"
    path.write_bytes(b"".join(pems))
    return str(path)


class CountingFetch:
    """A ``fetch_cert`` that records the URLs it was asked for."""

    def __init__(self, fetch: Callable[[str], bytes]) -> None:
        self.fetch = fetch
        self.urls: list[str] = []

    def __call__(self, url: str) -> bytes:
        self.urls.append(url)
        return self.fetch(url)


def _recorded_verifier(delivery: RecordedDelivery, ca_bundle: str) -> PayPalVerifier:
    return PayPalVerifier(
        webhook_id=delivery.webhook_id, ca_bundle=ca_bundle, fetch_cert=fetch_recorded_cert
    )


def test_the_nine_recorded_deliveries_are_all_there() -> None:
    assert len(DELIVERIES) == 9


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.event_type)
def test_it_accepts_every_delivery_paypal_really_signed(
    delivery: RecordedDelivery, tmp_path: Path
) -> None:
    verifier = _recorded_verifier(delivery, _bundle(tmp_path, DIGICERT_EV_INTERMEDIATE_PEM))

    verifier.verify(
        delivery.body,
        delivery.headers,
        now=delivery.transmission_time,
        check_cert_validity=False,
    )


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.event_type)
def test_recorded_certificates_were_valid_when_paypal_signed(
    delivery: RecordedDelivery, tmp_path: Path
) -> None:
    verifier = _recorded_verifier(delivery, _bundle(tmp_path, DIGICERT_EV_INTERMEDIATE_PEM))

    verifier.verify(delivery.body, delivery.headers, now=delivery.transmission_time)


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.event_type)
def test_it_follows_intermediates_served_after_the_leaf_up_to_the_root(
    delivery: RecordedDelivery, tmp_path: Path
) -> None:
    verifier = PayPalVerifier(
        webhook_id=delivery.webhook_id,
        ca_bundle=_bundle(tmp_path, DIGICERT_EV_ROOT_PEM),
        fetch_cert=lambda url: fetch_recorded_cert(url) + DIGICERT_EV_INTERMEDIATE_PEM,
    )

    verifier.verify(delivery.body, delivery.headers, now=delivery.transmission_time)


def test_it_rejects_a_recorded_certificate_when_nothing_links_it_to_the_root(
    tmp_path: Path,
) -> None:
    delivery = DELIVERIES[0]
    verifier = _recorded_verifier(delivery, _bundle(tmp_path, DIGICERT_EV_ROOT_PEM))

    with pytest.raises(SignatureError, match=CERT_UNTRUSTED):
        verifier.verify(delivery.body, delivery.headers, now=delivery.transmission_time)


@pytest.mark.parametrize("delivery", DELIVERIES, ids=lambda d: d.event_type)
def test_it_rejects_recorded_certificates_as_expired_in_2026(
    delivery: RecordedDelivery, tmp_path: Path
) -> None:
    verifier = _recorded_verifier(delivery, _bundle(tmp_path, DIGICERT_EV_INTERMEDIATE_PEM))
    now = datetime(2026, 6, 1, tzinfo=UTC)
    headers = {**delivery.headers, "paypal-transmission-time": "2026-06-01T00:00:00Z"}

    with pytest.raises(SignatureError, match=CERT_EXPIRED):
        verifier.verify(delivery.body, headers, now=now)


def test_it_rejects_a_recorded_body_changed_by_one_byte(tmp_path: Path) -> None:
    delivery = DELIVERIES[0]
    verifier = _recorded_verifier(delivery, _bundle(tmp_path, DIGICERT_EV_INTERMEDIATE_PEM))
    body = delivery.body[:-1] + b" "

    with pytest.raises(SignatureError, match=SIGNATURE_MISMATCH):
        verifier.verify(
            body, delivery.headers, now=delivery.transmission_time, check_cert_validity=False
        )


def test_it_accepts_what_the_test_signer_signs(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)

    verifier.verify(
        BODY, signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now), now=now
    )


@pytest.mark.parametrize("algo", ["SHA1withRSA", "SHA256withRSA", "SHA384withRSA", "SHA512withRSA"])
def test_it_accepts_every_rsa_hash_paypal_names(
    algo: str, signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now, auth_algo=algo)

    verifier.verify(BODY, headers, now=now)


def test_the_signer_can_stand_in_for_the_download(
    signer: PayPalTestSigner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("payments.paypal.verify.download_cert", signer.download_cert)
    verifier = PayPalVerifier(webhook_id=WEBHOOK_ID, ca_bundle=signer.write_ca_bundle(tmp_path))
    now = datetime.now(UTC)

    verifier.verify(BODY, signer.headers(BODY, webhook_id=WEBHOOK_ID), now=now)


def test_it_reads_header_names_in_any_case(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now)

    verifier.verify(BODY, {name.title(): value for name, value in headers.items()}, now=now)


def test_it_rejects_a_body_changed_by_one_byte(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now)

    with pytest.raises(SignatureError, match=SIGNATURE_MISMATCH):
        verifier.verify(BODY.replace(b"WH-1", b"WH-2"), headers, now=now)


def test_it_rejects_a_signature_made_for_another_webhook(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id="WEBHOOK_ID", transmission_time=now)

    with pytest.raises(SignatureError, match=SIGNATURE_MISMATCH):
        verifier.verify(BODY, headers, now=now)


def test_it_rejects_a_signature_that_is_not_base64(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now)
    headers["PAYPAL-TRANSMISSION-SIG"] = "not base64!"

    with pytest.raises(SignatureError, match="not base64"):
        verifier.verify(BODY, headers, now=now)


@pytest.mark.parametrize("offset_s", [300, -300])
def test_it_accepts_a_transmission_time_just_within_tolerance(
    offset_s: int, signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    sent_at = datetime.now(UTC).replace(microsecond=0)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=sent_at)

    verifier.verify(BODY, headers, now=sent_at + timedelta(seconds=offset_s))


@pytest.mark.parametrize("offset_s", [301, -301], ids=["stale", "from-the-future"])
def test_it_rejects_a_transmission_time_outside_tolerance(
    offset_s: int, signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    fetch = CountingFetch(signer.fetch_cert)
    verifier = PayPalVerifier(webhook_id=WEBHOOK_ID, ca_bundle=verifier.ca_bundle, fetch_cert=fetch)
    sent_at = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=sent_at)

    with pytest.raises(SignatureError, match=r"PAYPAL-TRANSMISSION-TIME .* more than 300 s"):
        verifier.verify(BODY, headers, now=sent_at + timedelta(seconds=offset_s))
    assert fetch.urls == []


def test_it_rejects_an_unreadable_transmission_time(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID)
    headers["PAYPAL-TRANSMISSION-TIME"] = "yesterday"

    with pytest.raises(SignatureError, match="PAYPAL-TRANSMISSION-TIME"):
        verifier.verify(BODY, headers, now=datetime.now(UTC))


@pytest.mark.parametrize(
    "cert_url",
    [
        "https://evil.example/v1/notifications/certs/CERT-1",
        "http://api.paypal.com/v1/notifications/certs/CERT-1",
        "https://api.paypal.com.evil.example/v1/notifications/certs/CERT-1",
        "https://api.paypal.com@evil.example/v1/notifications/certs/CERT-1",
        "https://api.paypal.com:8443/v1/notifications/certs/CERT-1",
        "file:///etc/passwd",
    ],
)
def test_it_refuses_to_fetch_a_certificate_from_anywhere_but_paypal(
    cert_url: str, signer: PayPalTestSigner, tmp_path: Path
) -> None:
    fetch = CountingFetch(lambda url: signer.cert_pem)
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID, ca_bundle=signer.write_ca_bundle(tmp_path), fetch_cert=fetch
    )
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now, cert_url=cert_url)

    with pytest.raises(SignatureError, match="not an https URL on a PayPal host"):
        verifier.verify(BODY, headers, now=now)
    assert fetch.urls == []


def test_it_rejects_an_unknown_auth_algo(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now)
    headers["PAYPAL-AUTH-ALGO"] = "MD5withRSA"

    with pytest.raises(SignatureError, match="unsupported PAYPAL-AUTH-ALGO 'MD5withRSA'"):
        verifier.verify(BODY, headers, now=now)


@pytest.mark.parametrize(
    "header",
    [
        "PAYPAL-TRANSMISSION-ID",
        "PAYPAL-TRANSMISSION-TIME",
        "PAYPAL-TRANSMISSION-SIG",
        "PAYPAL-CERT-URL",
        "PAYPAL-AUTH-ALGO",
    ],
)
def test_it_names_a_missing_header(
    header: str, signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now)
    del headers[header]

    with pytest.raises(SignatureError, match=f"^missing header {header}$"):
        verifier.verify(BODY, headers, now=now)


def test_it_rejects_a_self_signed_certificate(
    signer: PayPalTestSigner, verifier: PayPalVerifier
) -> None:
    impostor = PayPalTestSigner(self_signed=True)
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID, ca_bundle=verifier.ca_bundle, fetch_cert=impostor.fetch_cert
    )
    now = datetime.now(UTC)

    with pytest.raises(SignatureError, match=CERT_UNTRUSTED):
        verifier.verify(BODY, impostor.headers(BODY, webhook_id=WEBHOOK_ID), now=now)


def test_it_rejects_a_certificate_from_a_ca_outside_the_bundle(
    verifier: PayPalVerifier,
) -> None:
    stranger = PayPalTestSigner()
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID, ca_bundle=verifier.ca_bundle, fetch_cert=stranger.fetch_cert
    )
    now = datetime.now(UTC)

    with pytest.raises(SignatureError, match=CERT_UNTRUSTED):
        verifier.verify(BODY, stranger.headers(BODY, webhook_id=WEBHOOK_ID), now=now)


def test_it_rejects_a_trusted_certificate_that_is_not_for_paypal(tmp_path: Path) -> None:
    signer = PayPalTestSigner(common_name="messageverificationcerts.paypal.com.evil.example")
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID,
        ca_bundle=signer.write_ca_bundle(tmp_path),
        fetch_cert=signer.fetch_cert,
    )
    now = datetime.now(UTC)

    with pytest.raises(SignatureError, match=CERT_NOT_PAYPAL):
        verifier.verify(BODY, signer.headers(BODY, webhook_id=WEBHOOK_ID), now=now)


def test_it_rejects_a_certificate_that_is_not_yet_valid(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    signer = PayPalTestSigner(not_before=now + timedelta(days=1))
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID,
        ca_bundle=signer.write_ca_bundle(tmp_path),
        fetch_cert=signer.fetch_cert,
    )

    with pytest.raises(SignatureError, match="not yet valid"):
        verifier.verify(BODY, signer.headers(BODY, webhook_id=WEBHOOK_ID), now=now)


def test_it_fetches_a_certificate_once_for_many_deliveries(
    signer: PayPalTestSigner, tmp_path: Path
) -> None:
    fetch = CountingFetch(signer.fetch_cert)
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID, ca_bundle=signer.write_ca_bundle(tmp_path), fetch_cert=fetch
    )
    now = datetime.now(UTC)

    for _ in range(2):
        verifier.verify(BODY, signer.headers(BODY, webhook_id=WEBHOOK_ID), now=now)
    assert fetch.urls == [signer.cert_url]


def test_a_cached_certificate_still_expires(tmp_path: Path) -> None:
    delivery = DELIVERIES[0]
    verifier = _recorded_verifier(delivery, _bundle(tmp_path, DIGICERT_EV_INTERMEDIATE_PEM))
    verifier.verify(delivery.body, delivery.headers, now=delivery.transmission_time)
    headers = {**delivery.headers, "paypal-transmission-time": "2026-06-01T00:00:00Z"}

    with pytest.raises(SignatureError, match=CERT_EXPIRED):
        verifier.verify(delivery.body, headers, now=datetime(2026, 6, 1, tzinfo=UTC))


@pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")  # certifi
def test_it_does_not_cache_a_certificate_that_failed(signer: PayPalTestSigner) -> None:
    fetch = CountingFetch(signer.fetch_cert)
    verifier = PayPalVerifier(webhook_id=WEBHOOK_ID, ca_bundle=certifi.where(), fetch_cert=fetch)
    now = datetime.now(UTC)

    for _ in range(2):
        with pytest.raises(SignatureError, match=CERT_UNTRUSTED):
            verifier.verify(BODY, signer.headers(BODY, webhook_id=WEBHOOK_ID), now=now)
    assert len(fetch.urls) == 2


@pytest.fixture
def cert_server(
    signer: PayPalTestSigner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[str]:
    """An https server on 127.0.0.1, certified by the signer's CA, serving the signer's cert.

    Yields its "host:port".
    """
    for proxy in ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(proxy, raising=False)
    server_pem = tmp_path / "server.pem"
    server_pem.write_bytes(signer.issue_tls_cert("127.0.0.1"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(server_pem)

    class ServeCert(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/x-pem-file")
            self.send_header("Content-Length", str(len(signer.cert_pem)))
            self.end_headers()
            self.wfile.write(signer.cert_pem)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), ServeCert)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def test_it_downloads_the_certificate_over_tls_trusted_by_the_bundle(
    signer: PayPalTestSigner, cert_server: str, tmp_path: Path
) -> None:
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID,
        allowed_cert_hosts=(cert_server,),
        ca_bundle=signer.write_ca_bundle(tmp_path),
    )
    cert_url = f"https://{cert_server}/v1/notifications/certs/CERT-local"
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now, cert_url=cert_url)

    verifier.verify(BODY, headers, now=now)


def test_it_turns_an_untrusted_tls_connection_into_a_signature_error(
    signer: PayPalTestSigner, cert_server: str
) -> None:
    verifier = PayPalVerifier(
        webhook_id=WEBHOOK_ID, allowed_cert_hosts=(cert_server,), ca_bundle=certifi.where()
    )
    cert_url = f"https://{cert_server}/v1/notifications/certs/CERT-local"
    now = datetime.now(UTC)
    headers = signer.headers(BODY, webhook_id=WEBHOOK_ID, transmission_time=now, cert_url=cert_url)

    with pytest.raises(SignatureError, match=f"^{CERT_FETCH_FAILED}: .*CERTIFICATE_VERIFY_FAILED"):
        verifier.verify(BODY, headers, now=now)
