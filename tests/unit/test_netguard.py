"""The webhook guard: private, loopback and reserved addresses refused unless allowed."""

from __future__ import annotations

import pytest

from tidings.delivery.netguard import NetGuard, Refused


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/hook",
        "http://localhost:8080/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",  # cloud metadata
        "http://10.0.0.5/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://0.0.0.0/",
        "http://2130706433/",  # 127.0.0.1 written as one number
        "http://0x7f000001/",  # and in hex
        "http://127.1/",
        "http://[::ffff:127.0.0.1]/",  # IPv4-mapped IPv6
        "http://[fc00::1]/",
        "http://100.64.0.1/",  # carrier-grade NAT
    ],
)
def test_private_and_loopback_addresses_are_refused(url: str) -> None:
    with pytest.raises(Refused, match="private, loopback or reserved"):
        NetGuard().check(url)


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    guard = NetGuard(resolver=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(Refused, match=r"crm\.example resolves to 10\.1\.2\.3"):
        guard.check("https://crm.example/hook")


def test_the_checked_address_is_the_one_called() -> None:
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])  # a rebinding DNS server
    guard = NetGuard(resolver=lambda host, port: next(answers))
    target = guard.check("https://crm.example:8443/hook?x=1")
    assert target.url == "https://93.184.216.34:8443/hook?x=1"
    assert target.host == "crm.example"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("ftp://example.com/", "only http and https"),
        ("file:///etc/passwd", "only http and https"),
        ("http://user:pw@example.com/", "credentials"),
        ("http:///nohost", "no host"),
        ("http://example.com:99999/", "port"),
    ],
)
def test_malformed_urls_are_refused(url: str, why: str) -> None:
    guard = NetGuard(resolver=lambda host, port: ["93.184.216.34"])
    with pytest.raises(Refused, match=why):
        guard.check(url)


def test_allow_list_names_hosts_and_networks() -> None:
    guard = NetGuard.from_list(["crm.internal", "10.0.0.0/8", " 127.0.0.1 ", ""])
    assert guard.check("http://127.0.0.1:9000/").address == "127.0.0.1"
    assert guard.check("http://10.2.3.4/").address == "10.2.3.4"
    with pytest.raises(Refused):
        guard.check("http://192.168.0.1/")
    internal = NetGuard.from_list(["crm.internal"], resolver=lambda host, port: ["192.168.5.5"])
    assert internal.check("http://crm.internal/").address == "192.168.5.5"
    assert NetGuard().check("http://93.184.216.34/").address == "93.184.216.34"
