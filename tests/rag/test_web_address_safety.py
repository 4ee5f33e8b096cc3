"""Which destinations a URL may reach: address classification, the allow-list and checks after DNS resolution.

No request is sent in this file: ``check_destination`` resolves (through the fake resolver) and judges only.
"""

from __future__ import annotations

import ipaddress

import pytest

from rag.web import BLOCKED_MESSAGE, METADATA_MESSAGE, AllowList, FetchError, address_problem, check_destination
from tests.rag import test_web_support as support

# Fixtures shared by the rag.web tests (tests/rag/conftest.py belongs to the parsing tests).
clean_settings = support.clean_settings
dns = support.dns

pytestmark = pytest.mark.usefixtures("clean_settings")


@pytest.mark.parametrize(
    ("address", "problem"),
    [
        ("0.0.0.0", "unspecified"),  # noqa: S104 - an address to classify, not a bind
        ("127.0.0.1", "loopback"),
        ("127.255.255.254", "loopback"),
        ("10.0.0.1", "private"),
        ("10.255.255.255", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("168.63.129.16", "metadata"),  # Azure WireServer looks public but is not
        ("100.100.100.200", "metadata"),
        ("169.254.1.1", "link-local"),
        ("100.64.0.1", "shared"),
        ("100.127.255.254", "shared"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("240.0.0.1", "reserved"),
        ("255.255.255.255", "reserved"),
        ("192.0.0.8", "reserved"),
        ("192.0.2.10", "private"),  # documentation (TEST-NET-1)
        ("198.18.0.1", "private"),
        ("198.51.100.1", "private"),
        ("203.0.113.1", "private"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fc00::1", "private"),
        ("fd12:3456::1", "private"),
        ("fd00:ec2::254", "metadata"),
        ("fec0::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "private"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.1.2.3", "private"),
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:7f00:1", "loopback"),
        ("64:ff9b::7f00:1", "loopback"),  # NAT64 of 127.0.0.1
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a00:1::", "private"),  # 6to4 of 10.0.0.1
        ("::127.0.0.1", "reserved"),  # deprecated IPv4-compatible form
        ("100::1", "reserved"),  # discard prefix
    ],
)
def test_internal_addresses_are_classified(address, problem):
    assert address_problem(address) == problem


@pytest.mark.parametrize(
    "address",
    ["8.8.8.8", "1.1.1.1", "93.184.216.34", "203.104.209.6", "2606:4700:4700::1111", "2404:6800:4004:80a::200e",
     "::ffff:8.8.8.8", "64:ff9b::808:808", "2002:808:808::"],
)
def test_public_addresses_pass(address):
    assert address_problem(address) is None
    assert address_problem(ipaddress.ip_address(address)) is None


def test_allow_list_entries():
    allow = AllowList.parse(
        ["portal.city.example.lg.jp", "*.lgwan.example", "10.20.0.0/16", "fd12::/48", "192.168.5.5", "", "bad entry!"]
    )
    assert allow.permits_host("portal.city.example.lg.jp")
    assert allow.permits_host("PORTAL.city.example.lg.jp.")
    assert not allow.permits_host("evil.portal.city.example.lg.jp")
    assert allow.permits_host("a.b.lgwan.example") and allow.permits_host("lgwan.example")
    assert not allow.permits_host("notlgwan.example")
    assert allow.permits_address(ipaddress.ip_address("10.20.3.4"))
    assert allow.permits_address(ipaddress.ip_address("::ffff:10.20.3.4"))
    assert allow.permits_address(ipaddress.ip_address("fd12::7"))
    assert allow.permits_address(ipaddress.ip_address("192.168.5.5"))
    assert not allow.permits_address(ipaddress.ip_address("10.21.0.1"))
    assert not allow.permits_address(ipaddress.ip_address("192.168.5.6"))


@pytest.mark.parametrize(
    ("url", "code"),
    [
        ("file:///etc/passwd", "bad_scheme"),
        ("ftp://ftp.example.com/a", "bad_scheme"),
        ("gopher://127.0.0.1:6379/_FLUSHALL", "bad_scheme"),
        ("javascript:alert(1)", "bad_scheme"),
        ("data:text/html,<p>x</p>", "bad_scheme"),
        ("dict://127.0.0.1:11211/", "bad_scheme"),
        ("http://user:secret@www.example.com/", "credentials"),
        ("https://user@www.example.com/", "credentials"),
        ("http:///path", "bad_url"),
        ("", "bad_scheme"),
        ("http://[::1/", "bad_url"),
    ],
)
def test_urls_that_are_never_fetched(dns, url, code):
    with pytest.raises(FetchError) as caught:
        check_destination(url)
    assert caught.value.code == code
    assert "secret" not in caught.value.url
    assert dns.lookups == []  # refused before any name lookup


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.1/",
        "http://2130706433/",  # 127.0.0.1 as one decimal number
        "http://0x7f000001/",
        "http://0x7f.0.0.1/",
        "http://0.0.0.0:8000/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://[0:0:0:0:0:ffff:7f00:1]/",
        "http://10.0.0.1/",
        "http://192.168.0.1:8080/admin",
        "https://172.16.5.4/",
        "http://100.64.1.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
    ],
)
def test_internal_literals_in_any_spelling_are_refused(dns, url):
    with pytest.raises(FetchError) as caught:
        check_destination(url)
    assert caught.value.code == "blocked_address"
    assert caught.value.user_message == BLOCKED_MESSAGE


def test_an_octal_address_is_not_even_a_valid_url():
    with pytest.raises(FetchError) as caught:
        check_destination("http://0177.0.0.1/")
    assert caught.value.code == "bad_url"  # httpx refuses to parse it, so it cannot be requested either


@pytest.mark.parametrize("url", ["http://169.254.169.254/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/",
                                 "http://168.63.129.16/", "http://[fd00:ec2::254]/"])
def test_metadata_addresses_are_refused_even_when_allow_listed(dns, url):
    allow = ("169.254.0.0/16", "168.63.129.16", "::/0", "0.0.0.0/0", "169.254.169.254", "[fd00:ec2::254]")
    with pytest.raises(FetchError) as caught:
        check_destination(url, allow_hosts=allow)
    assert caught.value.code == "metadata_address"
    assert caught.value.user_message == METADATA_MESSAGE


def test_a_public_looking_name_that_resolves_to_a_private_address_is_refused(dns):
    dns.table["intranet.example.com"] = ["10.1.2.3"]
    with pytest.raises(FetchError) as caught:
        check_destination("https://intranet.example.com/")
    assert caught.value.code == "blocked_address"
    assert dns.lookups_of("intranet.example.com") == 1


def test_every_record_is_checked_not_only_the_first(dns):
    dns.table["www.example.com"] = ["93.184.216.34", "2606:2800:220:1::1", "127.0.0.1"]
    with pytest.raises(FetchError) as caught:
        check_destination("http://www.example.com/")
    assert caught.value.code == "blocked_address"
    dns.table["v6.example.com"] = ["93.184.216.34", "::ffff:192.168.0.1"]
    with pytest.raises(FetchError):
        check_destination("http://v6.example.com/")
    dns.table["meta.example.com"] = ["93.184.216.34", "169.254.169.254"]
    with pytest.raises(FetchError) as caught:
        check_destination("http://meta.example.com/")
    assert caught.value.code == "metadata_address"


def test_public_names_pass_and_the_checked_addresses_are_returned(dns):
    dns.table["www.city.example.lg.jp"] = ["203.104.209.6", "2404:6800:4004:80a::200e"]
    destination = check_destination("https://www.city.example.lg.jp/kurashi/#top")
    assert [str(ip) for ip in destination.addresses] == ["203.104.209.6", "2404:6800:4004:80a::200e"]
    assert destination.host == "www.city.example.lg.jp"
    assert str(destination.url) == "https://www.city.example.lg.jp/kurashi/"  # the fragment is never sent


def test_japanese_domain_names_are_resolved_in_punycode(dns):
    dns.table["xn--7sto6a74d.jp"] = ["10.0.0.9"]
    with pytest.raises(FetchError) as caught:
        check_destination("http://市役所.jp/")
    assert caught.value.code == "blocked_address"
    assert dns.lookups == ["xn--7sto6a74d.jp"]


def test_unknown_names_fail_with_a_japanese_reason(dns):
    with pytest.raises(FetchError) as caught:
        check_destination("http://no-such-host.invalid/")
    assert caught.value.code == "dns"
    assert "見つかりません" in caught.value.user_message


def test_the_allow_list_permits_internal_hosts_by_name_or_cidr(dns, settings):
    dns.table["portal.lgwan.example"] = ["10.20.1.5"]
    dns.table["wiki.lgwan.example"] = ["10.30.1.5"]
    with pytest.raises(FetchError):
        check_destination("http://portal.lgwan.example/")
    assert check_destination("http://portal.lgwan.example/", allow_hosts=["portal.lgwan.example"]).addresses
    assert check_destination("http://portal.lgwan.example/", allow_hosts=["10.20.0.0/16"]).addresses
    with pytest.raises(FetchError):
        check_destination("http://wiki.lgwan.example/", allow_hosts=["10.20.0.0/16"])
    settings.AKAGI_RAG_ALLOWED_HOSTS = ["*.lgwan.example"]
    assert check_destination("http://wiki.lgwan.example/").addresses
    settings.AKAGI_RAG_ALLOWED_HOSTS = "10.30.0.0/16, other.example"  # a comma-separated string works too
    assert check_destination("http://wiki.lgwan.example/").addresses
    with pytest.raises(FetchError):
        check_destination("http://portal.lgwan.example/")


def test_behind_a_proxy_names_that_do_not_resolve_locally_are_left_to_the_proxy(dns):
    """LGWAN terminals often cannot resolve internet names; the proxy does. Best effort, documented."""
    destination = check_destination("https://www.example.com/", proxy="http://127.0.0.1:3128")
    assert destination.addresses == ()
    assert destination.proxy == "http://127.0.0.1:3128"
    dns.table["internal.example.com"] = ["192.168.10.10"]
    with pytest.raises(FetchError) as caught:  # but a name that does resolve locally is still checked
        check_destination("https://internal.example.com/", proxy="http://127.0.0.1:3128")
    assert caught.value.code == "blocked_address"
    with pytest.raises(FetchError):  # and literal addresses always are
        check_destination("http://10.0.0.1/", proxy="http://127.0.0.1:3128")
