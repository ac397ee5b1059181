"""Room to grow: endpoint subnets short of free addresses, and interface endpoints near the VPC's quota."""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import RUN, RunFacts
from vpc_verify.judge.rule import run_rule
from vpc_verify.judge.rules.usage import view

QUOTA_SHARE = 0.8


@run_rule(Code.SUBNET_ADDRESSES_LOW)
def subnets(facts: RunFacts) -> Iterator[Finding]:
    """An endpoint subnet with fewer free addresses than the threshold (none: no other ENI fits)."""
    u = view(facts)
    if u is None:
        return
    threshold = u.read.min_free_addresses
    for subnet_id in sorted(u.read.subnets):
        c = u.read.subnets[subnet_id]
        if c.available >= threshold:
            continue
        users = u.subnets_of(c)
        what = (
            "has no free address: it cannot hold another ENI"
            if c.available == 0
            else f"has {c.available} free addresses (under {threshold})"
        )
        yield Finding.make(
            Code.SUBNET_ADDRESSES_LOW,
            RUN,
            f"subnet {subnet_id} ({c.cidr}, {c.az}) of {', '.join(u.name(e) for e in users) or 'the endpoints'} {what}",
            evidence={**c.to_dict(), "threshold": threshold, "vpc_endpoint_ids": [e.id for e in users]},
        )


@run_rule(Code.ENDPOINT_QUOTA_NEAR)
def quota(facts: RunFacts) -> Iterator[Finding]:
    """The VPC's interface endpoints against its quota."""
    u = view(facts)
    if u is None:
        return
    from vpc_verify.aws.capacity import QUOTA_CODE, QUOTA_SERVICE

    q, count = u.read.quota, len(u.interface_endpoints)
    if q.value <= 0 or count < QUOTA_SHARE * q.value:
        return
    yield Finding.make(
        Code.ENDPOINT_QUOTA_NEAR,
        RUN,
        f"{u.state.vpc_id} has {count} interface endpoints of a quota of {q.value} ({q.source})",
        evidence={"vpc_id": u.state.vpc_id, "interface_endpoints": count, **q.to_dict()},
        hint=f"aws service-quotas request-service-quota-increase --service-code {QUOTA_SERVICE} "
        f"--quota-code {QUOTA_CODE} --desired-value {max(q.value * 2, count + 10)}",
    )
