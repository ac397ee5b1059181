"""The fleet report (`vpc-verify fleet`): every VPC's last result, unhealthy first. Pure: what the metrics and the
stored JSON reports said in, a Fleet out.

A VPC is keyed by account, Region and VPC id. Its status comes from its latest source: `unhealthy` (RunHealthy 0, or
a report that is not healthy), `silent` (nothing newer than the staleness window: the monitor is down or cannot
publish, which its Heartbeat's absence also says), else `healthy`. A stored report adds what the metrics cannot
carry: the error findings, and for each required endpoint the VPC lacks (ENDPOINT_MISSING) the command that creates
it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

STATUSES = ("unhealthy", "silent", "healthy")  # the fleet report's order
DEFAULT_STALE_S = 900.0  # three missed runs of a function scheduled every five minutes
_ACCOUNT = re.compile(r"^\d{12}$")


@dataclass(frozen=True, slots=True)
class Missing:
    """A required endpoint the VPC lacks, and the command that creates it."""

    endpoint: str
    service: str
    type: str
    command: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {"endpoint": self.endpoint, "service": self.service, "type": self.type, "command": self.command}


@dataclass(frozen=True, slots=True)
class Seen:
    """One VPC's last result as one source (the metrics, or a stored report) told it."""

    account: str | None
    region: str | None
    vpc_id: str
    at: datetime  # when the run happened (UTC)
    healthy: bool
    source: str
    endpoints: int | None = None
    unhealthy_endpoints: tuple[str, ...] = ()
    endpoints_unhealthy: int | None = None  # the count (metrics may know it without the names)
    codes: tuple[str, ...] = ()  # error finding codes (reports)
    missing: tuple[Missing, ...] = ()
    policy_class: str | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        """Account, Region, VPC: what two sources must share to be the same VPC."""
        return (self.account or "", self.region or "", self.vpc_id)


@dataclass(frozen=True, slots=True)
class VpcResult:
    """One VPC in the fleet report."""

    seen: Seen
    status: str
    sources: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON form (docs/schema/fleet.json `vpcs[]`)."""
        s = self.seen
        return {
            "account": s.account,
            "region": s.region,
            "vpc_id": s.vpc_id,
            "status": self.status,
            "last_seen": _iso(s.at),
            "endpoints": s.endpoints,
            "endpoints_unhealthy": s.endpoints_unhealthy,
            "unhealthy_endpoints": list(s.unhealthy_endpoints),
            "codes": list(s.codes),
            "missing": [m.to_dict() for m in s.missing],
            "policy_class": s.policy_class,
            "sources": list(self.sources),
        }


@dataclass(frozen=True, slots=True)
class Fleet:
    """Every VPC's last result, unhealthy first, then silent, then healthy (each by account, Region, VPC)."""

    vpcs: tuple[VpcResult, ...]
    generated_at: datetime
    stale_s: float
    sources: tuple[str, ...] = ()
    notes: tuple[str, ...] = field(default_factory=tuple)

    def count(self, status: str) -> int:
        """How many VPCs have `status`."""
        return sum(1 for v in self.vpcs if v.status == status)

    @property
    def healthy(self) -> bool:
        """Every VPC healthy (and at least one seen)."""
        return bool(self.vpcs) and all(v.status == "healthy" for v in self.vpcs)

    def to_dict(self) -> dict[str, Any]:
        """JSON form (docs/schema/fleet.json)."""
        return {
            "version": 1,
            "generated_at": _iso(self.generated_at),
            "stale_after_s": self.stale_s,
            "healthy": self.healthy,
            "counts": {status: self.count(status) for status in STATUSES},
            "sources": list(self.sources),
            "notes": list(self.notes),
            "vpcs": [v.to_dict() for v in self.vpcs],
        }


def summarise(
    seen: Iterable[Seen],
    *,
    now: datetime,
    stale_s: float = DEFAULT_STALE_S,
    sources: Iterable[str] = (),
    notes: Iterable[str] = (),
) -> Fleet:
    """Join what every source saw into one line per VPC: the latest source's status, a report's details kept."""
    by_key: dict[tuple[str, str, str], list[Seen]] = {}
    for s in seen:
        by_key.setdefault(s.key, []).append(s)
    by_key = _join_unknown_accounts(by_key)
    results = []
    for items in by_key.values():
        items.sort(key=lambda s: s.at)
        latest = _merged(items)
        stale = now - latest.at > timedelta(seconds=stale_s)
        status = "silent" if stale else ("healthy" if latest.healthy else "unhealthy")
        results.append(VpcResult(latest, status, tuple(dict.fromkeys(s.source for s in items))))
    results.sort(key=lambda v: (STATUSES.index(v.status), v.seen.key))
    return Fleet(tuple(results), now, stale_s, tuple(sources), tuple(notes))


def _join_unknown_accounts(
    by_key: dict[tuple[str, str, str], list[Seen]],
) -> dict[tuple[str, str, str], list[Seen]]:
    """A source that does not know the account (this account's own metrics) joins the one VPC of that id that does."""
    out: dict[tuple[str, str, str], list[Seen]] = {}
    known: dict[tuple[str, str], list[tuple[str, str, str]]] = {}
    for key in by_key:
        if key[0]:
            known.setdefault(key[1:], []).append(key)
    for key, items in by_key.items():
        if not key[0] and len(known.get(key[1:], [])) == 1:
            out.setdefault(known[key[1:]][0], []).extend(items)
        else:
            out.setdefault(key, []).extend(items)
    return out


def _merged(items: list[Seen]) -> Seen:
    """The latest source's status and time, with details from the latest source that has them."""
    latest = items[-1]
    detailed = next((s for s in reversed(items) if s.endpoints is not None and s.source != "metrics"), None)
    account = next((s.account for s in reversed(items) if s.account), None)
    if detailed is None or detailed is latest:
        return replace(latest, account=account)
    # A report older than the metrics still names the findings, as long as the metrics agree it is unhealthy.
    keep = not latest.healthy and not detailed.healthy
    return replace(
        latest,
        account=account,
        endpoints=latest.endpoints if latest.endpoints is not None else detailed.endpoints,
        unhealthy_endpoints=latest.unhealthy_endpoints or (detailed.unhealthy_endpoints if keep else ()),
        codes=detailed.codes if keep else (),
        missing=detailed.missing if keep else (),
        policy_class=latest.policy_class or detailed.policy_class,
    )


def from_report(report: Mapping[str, Any], source: str) -> Seen | None:
    """What a stored JSON report (`check --format json`) says; None when it names no VPC. The account is the
    12-digit segment of its location (reports are kept as .../<account>/<region>/<vpc-id>.json)."""
    vpc = report.get("vpc_id")
    if not isinstance(vpc, str) or not vpc:
        return None
    endpoints = [e for e in report.get("endpoints") or [] if isinstance(e, Mapping)]
    unhealthy = tuple(str(e.get("name")) for e in endpoints if not e.get("healthy"))
    findings = [f for f in report.get("findings") or [] if isinstance(f, Mapping)]
    errors = [f for f in findings if f.get("severity") == "error"]
    missing = tuple(
        Missing(
            endpoint=str(f.get("endpoint")),
            service=str((f.get("evidence") or {}).get("service", "")),
            type=str((f.get("evidence") or {}).get("type", "")),
            command=_command(str(f.get("hint") or "")),
        )
        for f in errors
        if f.get("code") == "ENDPOINT_MISSING"
    )
    policy = report.get("policy")
    klass = policy.get("class") if isinstance(policy, Mapping) else None
    return Seen(
        account=account_in(source),
        region=str(report["region"]) if report.get("region") else None,
        vpc_id=vpc,
        at=parse_time(str(report.get("started_at", ""))),
        healthy=bool(report.get("healthy")),
        source=source,
        endpoints=len(endpoints),
        unhealthy_endpoints=unhealthy,
        endpoints_unhealthy=len(unhealthy),
        codes=tuple(dict.fromkeys(str(f.get("code")) for f in errors)),
        missing=missing,
        policy_class=str(klass["name"]) if isinstance(klass, Mapping) and klass.get("name") else None,
    )


def account_in(location: str) -> str | None:
    """The last 12-digit path segment of a location (an account id), if any."""
    found = [p for p in re.split(r"[/\\]", location) if _ACCOUNT.fullmatch(p)]
    return found[-1] if found else None


def parse_time(text: str) -> datetime:
    """An ISO 8601 time (a report's started_at); ValueError when it is not one or has no zone."""
    when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return when


def _command(hint: str) -> str:
    """The shell command of an ENDPOINT_MISSING hint ("Create it: aws ec2 ...")."""
    at = hint.find("aws ")
    return hint[at:] if at >= 0 else hint


def _iso(when: datetime) -> str:
    return when.isoformat(timespec="seconds").replace("+00:00", "Z")
