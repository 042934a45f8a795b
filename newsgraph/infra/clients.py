"""Who a request comes from, for login throttling (django-axes) and the
request budget: the peer address, or the address a trusted reverse proxy
put in a header (TRUSTED_PROXY_HEADER, TRUSTED_PROXY_COUNT; docs/SECURITY.md).

Trust a header only behind a proxy that sets it: otherwise any client
names itself whatever address it likes.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def _meta_key(header: str) -> str:
    """ "X-Forwarded-For" -> "HTTP_X_FORWARDED_FOR" (a META key passes as is)."""
    if header.upper().startswith("HTTP_") or header.upper() == "REMOTE_ADDR":
        return header.upper()
    return "HTTP_" + header.upper().replace("-", "_")


def client_ip(request: HttpRequest) -> str:
    """The client's IP address as text ("" if there is none to tell).

    With TRUSTED_PROXY_HEADER set, the address the nearest trusted proxy
    recorded: X-Forwarded-For lists hops left to right, each proxy appending
    the address it saw, so with TRUSTED_PROXY_COUNT proxies of ours the
    client is that many entries from the right; anything further left was
    written by the client and is ignored.
    """
    header = getattr(settings, "TRUSTED_PROXY_HEADER", "")
    if header:
        hops = [hop.strip() for hop in request.META.get(_meta_key(header), "").split(",")]
        hops = [hop for hop in hops if hop]
        if hops:
            count = max(1, getattr(settings, "TRUSTED_PROXY_COUNT", 1))
            candidate = hops[-min(count, len(hops))]
            if _valid(candidate):
                return candidate
    remote = request.META.get("REMOTE_ADDR", "")
    return remote if _valid(remote) else ""


def client_key(request: HttpRequest) -> str:
    """What a budget counts against: the IPv4 address, or the /64 network of
    an IPv6 one (one subscriber's network hands out any address in it)."""
    ip = client_ip(request)
    if ":" not in ip:
        return ip or "unknown"
    network = ipaddress.IPv6Network(f"{ip.split('%', 1)[0]}/64", strict=False)
    return str(network)


def _valid(text: str) -> bool:
    try:
        ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return False
    return True
