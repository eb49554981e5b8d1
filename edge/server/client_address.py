"""The client's real address behind reverse proxies (``DRAFTER_TRUSTED_PROXIES``).

uvicorn's own proxy-header handling is off (``uvicorn.edge_server``): the edge sees the
peer's address, and believes ``X-Forwarded-For`` only when that peer is in one of the
trusted networks. The header is then read from the right (the hop nearest the edge),
skipping addresses that are themselves trusted proxies; the first untrusted address is
the client. Trusting nobody (the default) means the peer is the client: a forged header
from a client that reaches the edge directly changes nothing. ``*`` trusts every peer
(only for an edge that nothing but the proxy can reach).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
UNKNOWN = "unknown"


@dataclass(frozen=True, slots=True)
class TrustedProxies:
    """The networks whose ``X-Forwarded-For`` is believed; ``everyone`` for ``*``."""

    networks: tuple[Network, ...] = ()
    everyone: bool = False

    @classmethod
    def parse(cls, spec: str | Iterable[str]) -> TrustedProxies:
        """From ``"10.0.0.0/8, 192.168.1.7, ::1"`` (or a list of such items); ValueError
        names the item that is not an address or network."""
        items = spec.split(",") if isinstance(spec, str) else list(spec)
        networks: list[Network] = []
        for raw in items:
            item = raw.strip()
            if not item:
                continue
            if item == "*":
                return cls((), everyone=True)
            try:
                networks.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                raise ValueError(f"not an IP address or CIDR network: {item!r}") from None
        return cls(tuple(networks))

    def trusts(self, address: str) -> bool:
        if self.everyone:
            return True
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            return False
        return any(ip in network for network in self.networks)

    def client_address(self, peer: str | None, forwarded_for: Iterable[str]) -> str:
        """The client's address: the peer, or what a trusted peer forwarded
        (``forwarded_for``: the values of every ``X-Forwarded-For`` header, in order)."""
        if peer is None:
            return UNKNOWN
        if not self.trusts(peer):
            return peer
        hops = [hop.strip() for value in forwarded_for for hop in value.split(",")]
        hops = [hop for hop in hops if hop]
        for hop in reversed(hops):
            if not self.trusts(hop):
                return hop
        return hops[0] if hops else peer
