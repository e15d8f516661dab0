"""The client's address and scheme behind a proxy: X-Forwarded-For and X-Forwarded-Proto,
believed only from proxies we trust.

Behind nginx, Caddy or a cloud load balancer every request comes from the proxy's address, so
per-address limits would lump all users together. FORWARDED_ALLOW_IPS names the proxies (addresses
or networks, or `*` when the app is reachable only through its proxy); from those, the nearest
address in X-Forwarded-For that is not itself a trusted proxy is the client.

Only hops a trusted proxy appended are believed: a client writes whatever it likes at the left of
the header (nginx's `$proxy_add_x_forwarded_for` keeps it and appends the address it saw). With
`*` that is the right-most hop alone — every connecting peer is trusted, none of the hops it
forwards is; believing the left-most entry let a rotated header dodge every per-address limit.
"""
from __future__ import annotations

import ipaddress
from functools import lru_cache

from aiohttp import web

from .state import SETTINGS

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@lru_cache(maxsize=16)
def networks(allowed: tuple[str, ...]) -> tuple[Network, ...] | None:
    """The trusted networks; None means every peer is trusted (`*`)."""
    if "*" in allowed:
        return None
    return tuple(ipaddress.ip_network(item, strict=False) for item in allowed)


def _trusted(address: str, trusted: tuple[Network, ...] | None) -> bool:
    if trusted is None:
        return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in trusted)


def client_address(request: web.BaseRequest) -> str:
    peer = request.remote or "unknown"
    allowed = request.app[SETTINGS].forwarded_allow_ips
    if not allowed:
        return peer
    trusted = networks(allowed)
    if not _trusted(peer, trusted):
        return peer
    hops = [hop.strip() for hop in request.headers.get("X-Forwarded-For", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return peer
    if trusted is None:  # `*`: the peer is the proxy, and what it appended is the client
        return hops[-1]
    for hop in reversed(hops):
        if not _trusted(hop, trusted):
            return hop
    return hops[0]  # proxies all the way: the farthest one we know of


def request_scheme(request: web.BaseRequest) -> str:
    """`https` or `http`, as the browser used it: behind a TLS-terminating proxy the connection
    here is plain HTTP, so a trusted proxy's X-Forwarded-Proto says (its right-most entry, the
    one the nearest proxy wrote); from anyone else the header is ignored."""
    allowed = request.app[SETTINGS].forwarded_allow_ips
    said = request.headers.get("X-Forwarded-Proto")
    if said and allowed and _trusted(request.remote or "", networks(allowed)):
        scheme = said.rsplit(",", 1)[-1].strip().lower()
        if scheme in ("http", "https"):
            return scheme
    return request.scheme
