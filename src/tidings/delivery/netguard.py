"""Refusing calls to private and loopback addresses (server-side request forgery).

A workflow author, or whoever edits a workspace's settings, chooses the URLs Tidings calls.
Without a guard, `http://169.254.169.254/` or `http://localhost:5432/` would let them
reach the machine's own services. The guard resolves the host once, refuses it if any
address is not public (unless allow-listed), and the caller connects to the address it
checked, so a DNS answer that changes between the check and the call changes nothing.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import SplitResult, urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]


class UrlRefused(ValueError):
    """The URL may not be called; the message says why."""


def _resolve(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


#: IPv6 ranges that carry an IPv4 address in their last 32 bits: a translator or the
#: stack itself may deliver to that IPv4 address, so it must be public too.
_EMBEDS_IPV4_LOW = (
    ipaddress.IPv6Network("::ffff:0:0/96"),  # IPv4-mapped
    ipaddress.IPv6Network("::ffff:0:0:0/96"),  # IPv4-translated (SIIT, RFC 2765)
    ipaddress.IPv6Network("::/96"),  # IPv4-compatible (deprecated, still routed by some stacks)
    ipaddress.IPv6Network("64:ff9b::/96"),  # NAT64 well-known prefix (RFC 6052)
)
#: IPv6 ranges that are never globally routable, checked by hand because
#: `ipaddress.is_global` differs between Python versions on some of them.
_NOT_GLOBAL_V6 = tuple(
    ipaddress.IPv6Network(net)
    for net in (
        "64:ff9b:1::/48",  # NAT64 for local use (RFC 8215)
        "100::/64",  # discard-only
        "2001:db8::/32",  # documentation
        "3fff::/20",  # documentation (RFC 9637)
        "5f00::/16",  # segment routing (SRv6) identifiers (RFC 9602)
        "2001:10::/28",  # ORCHID
        "fc00::/7",  # unique local
        "fe80::/10",  # link local
        "fec0::/10",  # site local (deprecated, still honoured by some stacks)
        "ff00::/8",  # multicast
    )
)
#: IPv4 ranges older Pythons count as global: the IETF's protocol assignments (192.0.0.8,
#: the dummy address, among them), whose few anycast services no webhook needs.
_NOT_GLOBAL_V4 = (ipaddress.IPv4Network("192.0.0.0/24"),)
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")
_TEREDO = ipaddress.IPv6Network("2001::/32")


def _embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries (mapped, compatible, NAT64, 6to4, Teredo)."""
    if any(address in net for net in _EMBEDS_IPV4_LOW):
        return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]
    if address in _SIX_TO_FOUR:
        return [ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)]
    if address in _TEREDO and address.teredo is not None:
        server, client = address.teredo
        return [server, client]
    return []


def _is_public(address: IPAddress) -> bool:
    """Globally routable, and so is every IPv4 address it embeds."""
    if isinstance(address, ipaddress.IPv4Address):
        return (
            address.is_global
            and not address.is_multicast
            and not any(address in net for net in _NOT_GLOBAL_V4)
        )
    if address.is_loopback or address.is_unspecified:
        return False
    embedded = _embedded_ipv4(address)
    if embedded:
        return all(_is_public(inner) for inner in embedded)
    # Reserved: the IETF's unassigned ranges (after the embedding ones, which lie in ::/8).
    if address.is_reserved or any(address in net for net in _NOT_GLOBAL_V6):
        return False
    return address.is_global and not address.is_multicast


@dataclass(frozen=True)
class CheckedUrl:
    """A checked URL: where to connect, and the name to present (Host header, TLS SNI)."""

    url: str  # with the host replaced by the checked address
    host: str
    address: str


@dataclass(frozen=True)
class NetGuard:
    """Which non-public hosts and networks calls may still reach (for an internal CRM)."""

    allow_hosts: frozenset[str] = frozenset()
    allow_networks: tuple[IPNetwork, ...] = ()
    resolver: Resolver = field(default=_resolve, compare=False)

    @classmethod
    def from_list(cls, entries: Iterable[str], resolver: Resolver | None = None) -> NetGuard:
        """From settings like `crm.internal, 10.0.0.0/8, 127.0.0.1`."""
        hosts, networks = set(), []
        for entry in (e.strip() for e in entries):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.lower())
        return cls(frozenset(hosts), tuple(networks), resolver or _resolve)

    def check(self, url: str) -> CheckedUrl:
        """The address to call for `url`, or `UrlRefused` with the reason."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise UrlRefused(
                f"only http and https URLs can be called, not {parts.scheme or 'none'}"
            )
        host = (parts.hostname or "").lower()
        if not host:
            raise UrlRefused("the URL has no host")
        if parts.username or parts.password:
            raise UrlRefused("credentials in the URL are not allowed; use headers")
        try:
            port = parts.port or (443 if parts.scheme == "https" else 80)
        except ValueError:
            raise UrlRefused("the URL's port is not a number from 0 to 65535") from None
        try:
            addresses = self.resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise UrlRefused(f"cannot resolve {host}: {exc}") from None
        if not addresses:
            raise UrlRefused(f"{host} resolves to no address")
        for text in addresses:
            address = ipaddress.ip_address(text.split("%", 1)[0])
            if not _is_public(address) and not self._allowed(host, address):
                raise UrlRefused(
                    f"{host} resolves to {address}, a private, loopback or reserved address; "
                    "add it to TIDINGS_WEBHOOK_ALLOW to call it anyway"
                )
        return CheckedUrl(_with_address(parts, addresses[0]), host, addresses[0])

    def _allowed(self, host: str, address: IPAddress) -> bool:
        return host in self.allow_hosts or any(address in net for net in self.allow_networks)


def _with_address(parts: SplitResult, address: str) -> str:
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    return parts._replace(netloc=netloc).geturl()
