"""https with the address pinned: connect to the checked IP, yet send SNI and verify the certificate by name.

A throwaway CA and a certificate for www.city.example.lg.jp are made here; the server listens on 127.0.0.1 and
the fake resolver maps the name to it. The CA is trusted through the AKAGI_HTTP_CA_BUNDLE setting (what an
LGWAN proxy that inspects TLS needs too).
"""

from __future__ import annotations

import datetime
import ssl

import pytest

from rag.web import FetchError, fetch_page
from tests.rag import test_web_support as support

x509 = pytest.importorskip("cryptography.x509")
from cryptography.hazmat.primitives import hashes, serialization  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.x509.oid import NameOID  # noqa: E402

clean_settings = support.clean_settings
dns = support.dns
sites = support.sites

pytestmark = pytest.mark.usefixtures("clean_settings")

CITY = "www.city.example.lg.jp"
PAGE = (
    "<html><head><title>https のページ</title></head>"
    "<body><main><h1>お知らせ</h1><p>暗号化されています。</p></main></body></html>"
)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


@pytest.fixture
def tls_site(sites, tmp_path, settings):
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder().subject_name(_name("Akagi test CA")).issuer_name(_name("Akagi test CA"))
        .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder().subject_name(_name(CITY)).issuer_name(ca.subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(CITY)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    (tmp_path / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "leaf.pem").write_bytes(
        leaf.public_bytes(serialization.Encoding.PEM)
        + key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp_path / "leaf.pem")
    server_names: list[str | None] = []
    context.sni_callback = lambda _socket, name, _context: server_names.append(name)
    site = sites(context)
    site.route("/", PAGE)
    site.server_names = server_names
    settings.AKAGI_HTTP_CA_BUNDLE = str(tmp_path / "ca.pem")
    return site


def test_https_connects_to_the_checked_address_with_the_name_in_sni_and_host(tls_site, dns, no_network):
    dns.table[CITY] = ["127.0.0.1"]
    page = fetch_page(f"https://{CITY}:{tls_site.port}/", allow_hosts=[CITY])
    assert page.title == "https のページ"
    assert page.final_url == f"https://{CITY}:{tls_site.port}/"
    assert tls_site.server_names == [CITY]
    assert tls_site.requests[0].host == f"{CITY}:{tls_site.port}"
    assert dns.lookups_of(CITY) == 1
    assert no_network == []


def test_the_certificate_is_still_verified_against_the_name(tls_site, dns):
    dns.table["other.example.lg.jp"] = ["127.0.0.1"]
    for url, allow in ((f"https://other.example.lg.jp:{tls_site.port}/", "other.example.lg.jp"),
                       (f"https://127.0.0.1:{tls_site.port}/", "127.0.0.1")):
        with pytest.raises(FetchError) as caught:
            fetch_page(url, allow_hosts=[allow])
        assert caught.value.code == "tls"
        assert "証明書" in caught.value.user_message
    assert tls_site.requests == []


def test_an_untrusted_certificate_is_refused(tls_site, dns, settings):
    settings.AKAGI_HTTP_CA_BUNDLE = ""  # the public roots only
    dns.table[CITY] = ["127.0.0.1"]
    with pytest.raises(FetchError) as caught:
        fetch_page(f"https://{CITY}:{tls_site.port}/", allow_hosts=[CITY])
    assert caught.value.code == "tls"
