"""What a set of NetworkPolicies lets through, for the manifest tests: the rules of the
Kubernetes NetworkPolicy API (a pod selected by a policy of a direction is isolated in
that direction; a connection passes when the source's egress and the destination's
ingress both allow it), on the pods of the rendered manifests and a few stand-ins for
what lies outside them (cluster DNS, another namespace, an address outside the cluster).
Ports are numbers in these manifests; named ports and endPort are refused, not guessed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

Labels = Mapping[str, str]


@dataclass(frozen=True)
class Endpoint:
    """A pod (``namespace`` and ``labels``), or an address outside the cluster
    (``namespace`` None)."""

    name: str
    namespace: str | None
    labels: Labels = field(default_factory=dict)
    namespace_labels: Labels = field(default_factory=dict)


def _matches(selector: Mapping[str, Any] | None, labels: Labels) -> bool:
    if selector is None:
        return True
    assert not selector.get("matchExpressions"), "only matchLabels are evaluated here"
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items())


def _peer_matches(peer: Mapping[str, Any], policy_namespace: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        return other.namespace is None
    if other.namespace is None:
        return False
    if "namespaceSelector" in peer:
        in_namespace = _matches(peer["namespaceSelector"], other.namespace_labels)
    else:
        in_namespace = other.namespace == policy_namespace
    return in_namespace and _matches(peer.get("podSelector"), other.labels)


def _port_matches(ports: list[Mapping[str, Any]] | None, port: int, protocol: str) -> bool:
    if not ports:
        return True
    for entry in ports:
        assert "endPort" not in entry and isinstance(entry.get("port", 0), int)
        if entry.get("protocol", "TCP") == protocol and entry.get("port") in (None, port):
            return True
    return False


def _allows(
    policies: Iterable[Mapping[str, Any]],
    pod: Endpoint,
    other: Endpoint,
    port: int,
    protocol: str,
    direction: str,
) -> bool:
    key, peers_key = ("ingress", "from") if direction == "Ingress" else ("egress", "to")
    isolated = False
    for policy in policies:
        namespace = policy["metadata"]["namespace"]
        spec = policy["spec"]
        if namespace != pod.namespace or not _matches(spec["podSelector"], pod.labels):
            continue
        if direction not in spec.get("policyTypes", ["Ingress"]):
            continue
        isolated = True
        for rule in spec.get(key) or []:
            peers = rule.get(peers_key)
            if (not peers or any(_peer_matches(p, namespace, other) for p in peers)) and (
                _port_matches(rule.get("ports"), port, protocol)
            ):
                return True
    return not isolated


def reachable(
    policies: Iterable[Mapping[str, Any]],
    source: Endpoint,
    destination: Endpoint,
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Whether ``source`` may open a connection to ``destination`` on ``port``. Only the
    ends that are pods of these manifests' namespace are governed by the policies."""
    policies = list(policies)
    egress = source.namespace is None or _allows(
        policies, source, destination, port, protocol, "Egress"
    )
    ingress = destination.namespace is None or _allows(
        policies, destination, source, port, protocol, "Ingress"
    )
    return egress and ingress
