"""Which IP addresses the fetcher refuses: our own table of special-purpose
ranges, independent of the Python version (SPEC §9 "Fetching", issue 25).

`ipaddress`'s is_global / is_private flags changed between patch releases
(on 3.11.7 192.0.0.192, Oracle Cloud's metadata address, is "global"), so the
ranges are written here as data, each with the IANA name and the RFC that
defines it: every entry of the IANA IPv4 and IPv6 Special-Purpose Address
Registries (as of 2025), plus multicast, the deprecated site-local and
IPv4-compatible IPv6 forms, and cloud providers' host endpoints that sit on
public addresses. Every range is refused, including the registry's
"globally reachable" anycast entries: no news page is served from a PCP,
TURN, AS112 or AMT anycast address.

Forms that carry an IPv4 address inside an IPv6 one are judged by what they
carry, recursively: IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::/96) and
6to4 (2002::/16) are fetched from only when the embedded address may be;
IPv4-compatible (::a.b.c.d) and IPv4-translated (::ffff:0:a.b.c.d), both
deprecated, local-use NAT64 (64:ff9b:1::/48) and
Teredo (2001::/32, the client address obfuscated) are always refused, and the
reason names the embedded address when that is itself refused.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from dataclasses import dataclass

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Special:
    """One special-purpose range: `kind` is the short word shown to editors
    ("loopback", "private", …), `name` and `rfc` where it comes from."""

    network: IPNetwork
    kind: str
    name: str
    rfc: str
    # Embedded IPv4 addresses of an address in this range, judged in turn.
    embeds: Callable[[ipaddress.IPv6Address], list[ipaddress.IPv4Address]] | None = None
    # Only with `embeds`: fetched from when every embedded address may be.
    allowed_if_embedded_public: bool = False

    def reason(self) -> str:
        return f"{self.kind} address ({self.name}, {self.rfc})"


def _last_32(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    return [ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)]


def _sixtofour(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    return [ipaddress.IPv4Address((int(address) >> 80) & 0xFFFFFFFF)]


def _teredo(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    server = ipaddress.IPv4Address((int(address) >> 64) & 0xFFFFFFFF)
    client = ipaddress.IPv4Address(~int(address) & 0xFFFFFFFF)  # obfuscated: bits inverted
    return [server, client]


def _local_nat64(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """RFC 6052 layouts a local-use /48 prefix may use: the /48 form (bits
    48-63 and 72-87, skipping the "u" octet) and the common /96 form."""
    value = int(address)
    high = (value >> 64) & 0xFFFF
    low = (value >> 40) & 0xFFFF
    return [*_last_32(address), ipaddress.IPv4Address((high << 16) | low)]


def _v4(cidr: str, kind: str, name: str, rfc: str) -> Special:
    return Special(ipaddress.IPv4Network(cidr), kind, name, rfc)


def _v6(cidr: str, kind: str, name: str, rfc: str, **embedding) -> Special:
    return Special(ipaddress.IPv6Network(cidr), kind, name, rfc, **embedding)


# IANA IPv4 Special-Purpose Address Registry, and multicast.
IPV4_SPECIAL: tuple[Special, ...] = (
    _v4("0.0.0.0/8", "unspecified", '"this network"', "RFC 791"),
    _v4("0.0.0.0/32", "unspecified", '"this host on this network"', "RFC 1122"),
    _v4("10.0.0.0/8", "private", "Private-Use", "RFC 1918"),
    _v4("100.64.0.0/10", "shared", "Shared Address Space (carrier-grade NAT)", "RFC 6598"),
    _v4("127.0.0.0/8", "loopback", "Loopback", "RFC 1122"),
    _v4("169.254.0.0/16", "link-local", "Link Local (cloud metadata)", "RFC 3927"),
    _v4("172.16.0.0/12", "private", "Private-Use", "RFC 1918"),
    _v4("192.0.0.0/24", "reserved", "IETF Protocol Assignments", "RFC 6890"),
    _v4("192.0.0.0/29", "reserved", "IPv4 Service Continuity Prefix", "RFC 7335"),
    _v4("192.0.0.8/32", "reserved", "IPv4 dummy address", "RFC 7600"),
    _v4("192.0.0.9/32", "anycast", "Port Control Protocol Anycast", "RFC 7723"),
    _v4("192.0.0.10/32", "anycast", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    _v4("192.0.0.170/31", "reserved", "NAT64/DNS64 Discovery", "RFC 8880"),
    _v4("192.0.2.0/24", "documentation", "TEST-NET-1", "RFC 5737"),
    _v4("192.31.196.0/24", "anycast", "AS112-v4", "RFC 7535"),
    _v4("192.52.193.0/24", "anycast", "AMT", "RFC 7450"),
    _v4("192.88.99.0/24", "reserved", "Deprecated (6to4 Relay Anycast)", "RFC 7526"),
    _v4("192.168.0.0/16", "private", "Private-Use", "RFC 1918"),
    _v4("192.175.48.0/24", "anycast", "Direct Delegation AS112 Service", "RFC 7534"),
    _v4("198.18.0.0/15", "benchmarking", "Benchmarking", "RFC 2544"),
    _v4("198.51.100.0/24", "documentation", "TEST-NET-2", "RFC 5737"),
    _v4("203.0.113.0/24", "documentation", "TEST-NET-3", "RFC 5737"),
    _v4("224.0.0.0/4", "multicast", "Multicast", "RFC 5771"),
    _v4("240.0.0.0/4", "reserved", "Reserved", "RFC 1112"),
    _v4("255.255.255.255/32", "broadcast", "Limited Broadcast", "RFC 919"),
    # A public address that is the host's own service inside every Azure VM
    # (DHCP, DNS, health, the VM agent's configuration): the Azure "wire server".
    _v4("168.63.129.16/32", "cloud-metadata", "Azure WireServer", "Azure documentation"),
)

# IANA IPv6 Special-Purpose Address Registry, multicast, and the deprecated
# site-local, IPv4-compatible and IPv4-translated (SIIT) forms.
IPV6_SPECIAL: tuple[Special, ...] = (
    _v6("::1/128", "loopback", "Loopback Address", "RFC 4291"),
    _v6("::/128", "unspecified", "Unspecified Address", "RFC 4291"),
    _v6("::/96", "deprecated", "IPv4-compatible IPv6 address", "RFC 4291", embeds=_last_32),
    _v6("::ffff:0:0:0/96", "deprecated", "IPv4-translated address", "RFC 2765", embeds=_last_32),
    _v6(
        "::ffff:0:0/96",
        "IPv4-mapped",
        "IPv4-mapped Address",
        "RFC 4291",
        embeds=_last_32,
        allowed_if_embedded_public=True,
    ),
    _v6(
        "64:ff9b::/96",
        "NAT64",
        "IPv4-IPv6 Translation",
        "RFC 6052",
        embeds=_last_32,
        allowed_if_embedded_public=True,
    ),
    _v6(
        "64:ff9b:1::/48",
        "NAT64 local-use",
        "Local-use IPv4/IPv6 Translation",
        "RFC 8215",
        embeds=_local_nat64,
    ),
    _v6("100::/64", "reserved", "Discard-Only Address Block", "RFC 6666"),
    _v6("100:0:0:1::/64", "reserved", "Dummy IPv6 Prefix", "RFC 9780"),
    _v6("2001::/23", "reserved", "IETF Protocol Assignments", "RFC 2928"),
    _v6("2001::/32", "Teredo", "TEREDO", "RFC 4380", embeds=_teredo),
    _v6("2001:1::1/128", "anycast", "Port Control Protocol Anycast", "RFC 7723"),
    _v6("2001:1::2/128", "anycast", "Traversal Using Relays around NAT Anycast", "RFC 8155"),
    _v6("2001:1::3/128", "anycast", "DNS-SD Service Registration Protocol Anycast", "RFC 9665"),
    _v6("2001:2::/48", "benchmarking", "Benchmarking", "RFC 5180"),
    _v6("2001:3::/32", "anycast", "AMT", "RFC 7450"),
    _v6("2001:4:112::/48", "anycast", "AS112-v6", "RFC 7535"),
    _v6("2001:10::/28", "reserved", "Deprecated (previously ORCHID)", "RFC 4843"),
    _v6("2001:20::/28", "reserved", "ORCHIDv2", "RFC 7343"),
    _v6("2001:30::/28", "reserved", "Drone Remote ID Protocol Entity Tags (DETs)", "RFC 9374"),
    _v6("2001:db8::/32", "documentation", "Documentation", "RFC 3849"),
    _v6(
        "2002::/16",
        "6to4",
        "6to4",
        "RFC 3056",
        embeds=_sixtofour,
        allowed_if_embedded_public=True,
    ),
    _v6("2620:4f:8000::/48", "anycast", "Direct Delegation AS112 Service", "RFC 7534"),
    _v6("3fff::/20", "documentation", "Documentation", "RFC 9637"),
    _v6("5f00::/16", "reserved", "Segment Routing (SRv6) SIDs", "RFC 9602"),
    _v6("fc00::/7", "private", "Unique-Local", "RFC 4193"),
    _v6("fe80::/10", "link-local", "Link-Local Unicast", "RFC 4291"),
    _v6("fec0::/10", "private", "Site-Local (deprecated)", "RFC 3879"),
    _v6("ff00::/8", "multicast", "Multicast", "RFC 4291"),
)

# Most specific first, so 192.0.0.9 is "anycast", not the /24 around it.
_BY_VERSION: dict[int, tuple[Special, ...]] = {
    4: tuple(sorted(IPV4_SPECIAL, key=lambda s: -s.network.prefixlen)),
    6: tuple(sorted(IPV6_SPECIAL, key=lambda s: -s.network.prefixlen)),
}


def special_range(address: IPAddress) -> Special | None:
    """The most specific special-purpose range holding `address`, if any."""
    for special in _BY_VERSION[address.version]:
        if address in special.network:
            return special
    return None


def address_refusal(address: IPAddress, *, allow_loopback: bool = False) -> str:
    """Why `address` may not be fetched from, or "" if it may."""
    special = special_range(address)
    if special is None:
        return ""
    if special.kind == "loopback" and allow_loopback:
        return ""
    if special.embeds is None:
        return special.reason()
    for inner in special.embeds(address):
        reason = address_refusal(inner, allow_loopback=allow_loopback)
        if reason:
            article = "an" if reason[0] in "aeiouAEIOU" else "a"
            return f"{special.kind} form of {inner}, {article} {reason}"
    return "" if special.allowed_if_embedded_public else special.reason()
