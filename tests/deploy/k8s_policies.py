"""Who may open a connection to whom, under a set of Kubernetes NetworkPolicies.

A small model of the NetworkPolicy semantics (networking.k8s.io/v1), enough for the project's
policies: a pod isolated for a direction (some policy selects it with that policy type) accepts
only what one of those policies' rules allows; rules are additive; a connection needs both the
source's egress and the destination's ingress to allow it. Only the policies of the namespace
under test are known: a peer elsewhere (another namespace, outside the cluster) is not isolated.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Peer:
    """A pod (namespace and labels) or, with ``ip``, an address outside the cluster."""

    name: str
    namespace: str | None = None
    labels: dict[str, str] = field(default_factory=dict, hash=False)
    ip: str | None = None

    @property
    def namespace_labels(self) -> dict[str, str]:
        return {"kubernetes.io/metadata.name": self.namespace} if self.namespace else {}


def selector_matches(selector: dict, labels: dict[str, str]) -> bool:
    """A LabelSelector: matchLabels and matchExpressions, all of them; {} matches everything."""
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for expression in selector.get("matchExpressions") or []:
        key, operator, values = expression["key"], expression["operator"], expression.get("values", [])
        present = key in labels
        matched = {
            "In": present and labels[key] in values,
            "NotIn": not present or labels[key] not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }[operator]
        if not matched:
            return False
    return True


def _peer_matches(spec: dict, policy_namespace: str, peer: Peer) -> bool:
    if "ipBlock" in spec:
        if peer.ip is None:
            return False
        address = ipaddress.ip_address(peer.ip)
        block = spec["ipBlock"]
        excluded = any(address in ipaddress.ip_network(cidr) for cidr in block.get("except", []))
        return address in ipaddress.ip_network(block["cidr"]) and not excluded
    if peer.namespace is None:
        return False
    if "namespaceSelector" in spec:
        in_namespace = selector_matches(spec["namespaceSelector"], peer.namespace_labels)
    else:
        in_namespace = peer.namespace == policy_namespace
    return in_namespace and selector_matches(spec.get("podSelector") or {}, peer.labels)


def _ports_match(rule: dict, port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    if not ports:
        return True
    for entry in ports:
        if not isinstance(entry.get("port", port), int):
            raise ValueError(f"named ports are not modelled: {entry}")
        if entry.get("protocol", "TCP") == protocol and entry.get("port", port) <= port <= entry.get(
            "endPort", entry.get("port", port)
        ):
            return True
    return False


def _direction_allows(
    policies: list[dict], pod: Peer, other: Peer, port: int, protocol: str, kind: str
) -> bool:
    """Whether ``pod``'s policies of ``kind`` (Ingress or Egress) let ``other`` through on the port."""
    selecting = [
        policy
        for policy in policies
        if policy["metadata"].get("namespace") == pod.namespace
        and kind in policy["spec"].get("policyTypes", ["Ingress"])
        and selector_matches(policy["spec"]["podSelector"], pod.labels)
    ]
    if not selecting:
        return True
    peers_key = "from" if kind == "Ingress" else "to"
    for policy in selecting:
        for rule in policy["spec"].get(kind.lower()) or []:
            peers = rule.get(peers_key) or [{}]
            namespace = policy["metadata"]["namespace"]
            if _ports_match(rule, port, protocol) and any(
                spec == {} or _peer_matches(spec, namespace, other) for spec in peers
            ):
                return True
    return False


def may_connect(
    policies: list[dict], source: Peer, destination: Peer, port: int, protocol: str = "TCP"
) -> bool:
    """Whether ``source`` may open a connection to ``destination``'s port under ``policies``."""
    egress = source.ip is not None or _direction_allows(
        policies, source, destination, port, protocol, "Egress"
    )
    ingress = destination.ip is not None or _direction_allows(
        policies, destination, source, port, protocol, "Ingress"
    )
    return egress and ingress
