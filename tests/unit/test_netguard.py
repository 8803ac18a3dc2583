"""The webhook guard: private, loopback and reserved addresses refused unless allowed."""

from __future__ import annotations

import pytest

from tidings.delivery.netguard import NetGuard, UrlRefused


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
        "http://[::ffff:7f00:1]/",  # the same, in hex
        "http://0x7f.1/",  # 127.0.0.1 in hex and short
        "http://0177.0.0.1/",  # and in octal
        "http://192.0.0.8/",  # the IPv4 dummy address, which older Pythons call global
        "http://[fc00::1]/",
        "http://100.64.0.1/",  # carrier-grade NAT
    ],
)
def test_private_and_loopback_addresses_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused, match="private, loopback or reserved"):
        NetGuard().check(url)


def test_a_name_that_resolves_to_a_private_address_is_refused() -> None:
    guard = NetGuard(resolver=lambda host, port: ["93.184.216.34", "10.1.2.3"])
    with pytest.raises(UrlRefused, match=r"crm\.example resolves to 10\.1\.2\.3"):
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
    with pytest.raises(UrlRefused, match=why):
        guard.check(url)


def test_allow_list_names_hosts_and_networks() -> None:
    guard = NetGuard.from_list(["crm.internal", "10.0.0.0/8", " 127.0.0.1 ", ""])
    assert guard.check("http://127.0.0.1:9000/").address == "127.0.0.1"
    assert guard.check("http://10.2.3.4/").address == "10.2.3.4"
    with pytest.raises(UrlRefused):
        guard.check("http://192.168.0.1/")
    internal = NetGuard.from_list(["crm.internal"], resolver=lambda host, port: ["192.168.5.5"])
    assert internal.check("http://crm.internal/").address == "192.168.5.5"
    assert NetGuard().check("http://93.184.216.34/").address == "93.184.216.34"


@pytest.mark.parametrize(
    "url",
    [
        "http://[::127.0.0.1]/",  # IPv4-compatible, loopback inside
        "http://[::a9fe:a9fe]/",  # IPv4-compatible, cloud metadata inside
        "http://[64:ff9b::7f00:1]/",  # NAT64 well-known prefix, loopback inside
        "http://[64:ff9b::a00:5]/",  # NAT64, 10.0.0.5 inside
        "http://[64:ff9b:1::808:808]/",  # NAT64 for local use: never global
        "http://[::ffff:0:7f00:1]/",  # IPv4-translated (SIIT), loopback inside
        "http://[::ffff:0:a9fe:a9fe]/",  # IPv4-translated, cloud metadata inside
        "http://[2002:7f00:1::]/",  # 6to4 of 127.0.0.1
        "http://[2002:c0a8:101::1]/",  # 6to4 of 192.168.1.1
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo, client 127.0.0.1
        "http://[fe80::1]/",  # link local
        "http://[fec0::1]/",  # site local
        "http://[2001:db8::1]/",  # documentation
        "http://[3fff::1]/",  # documentation, the newer range
        "http://[5f00::1]/",  # segment routing identifiers
        "http://[2001::7f00:1]/",  # Teredo, server 0.0.0.0 and client inside
        "http://[::]/",  # unspecified
    ],
)
def test_ipv6_forms_that_embed_a_private_ipv4_are_refused(url: str) -> None:
    with pytest.raises(UrlRefused, match="private, loopback or reserved"):
        NetGuard().check(url)


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        "2002:808:808::1",  # 6to4 of 8.8.8.8
        "2606:4700:4700::1111",  # a plain global IPv6 address
    ],
)
def test_ipv6_forms_that_embed_a_public_ipv4_are_allowed(address: str) -> None:
    guard = NetGuard(resolver=lambda host, port: [address])
    assert guard.check("https://hooks.example/x").address == address


def test_a_name_resolving_to_a_nat64_loopback_is_refused() -> None:
    guard = NetGuard(resolver=lambda host, port: ["64:ff9b::7f00:1"])
    with pytest.raises(UrlRefused, match="64:ff9b::7f00:1"):
        guard.check("https://hooks.example/x")
