"""What the endpoints carried and what they cost: idle endpoints, drops and resets with their peak minute,
cross-AZ placement, and S3/DynamoDB interface endpoints a free gateway endpoint would replace.

Run-level rules over the usage view (vpc_verify.judge.usage): they say nothing unless the usage was read
(`vpc-verify usage`, `check --usage`). Every figure names its window and its price source.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import RUN, RunFacts
from vpc_verify.judge.rule import run_rule

if TYPE_CHECKING:
    from vpc_verify.aws.model import VpcEndpoint
    from vpc_verify.judge.usage import UsageFacts


def view(facts: RunFacts) -> UsageFacts | None:
    """The usage view when the usage was read (imported only then: a plain check does not pay for it)."""
    if facts.aws is None or facts.aws.usage is None:
        return None
    from vpc_verify.judge.usage import UsageFacts

    return UsageFacts.of(facts)


def _base(u: UsageFacts, vpce: VpcEndpoint) -> dict[str, Any]:
    return {"vpc_endpoint_id": vpce.id, "service": vpce.service, "window": u.read.metrics.window.to_dict()}


def _price_source(u: UsageFacts) -> str | None:
    return u.read.price.source if u.read.price is not None else None


def _days(u: UsageFacts) -> str:
    return f"{u.read.metrics.window.days:g} days"


@run_rule(Code.ENDPOINT_IDLE, Code.ENDPOINT_PACKETS_DROPPED, Code.ENDPOINT_RESETS_RECEIVED)
def traffic(facts: RunFacts) -> Iterator[Finding]:
    """No traffic in the whole window (idle: the month it costs is the saving); packets dropped or resets
    received, with the peak minute."""
    u = view(facts)
    if u is None:
        return
    from vpc_verify.judge.usage import usd
    from vpc_verify.pricing import rightsizing

    for vpce in u.interface_endpoints:
        m = u.metrics(vpce)
        if m is None:
            continue
        name = u.name(vpce)
        if m.idle:
            cost = u.cost_of(vpce)
            saving = usd(rightsizing.delete_saving(cost)) if cost is not None else None
            money = f": deleting it saves ${saving:,.2f} a month" if saving is not None else ""
            yield Finding.make(
                Code.ENDPOINT_IDLE,
                name,
                f"{vpce.id} ({vpce.service}) carried no traffic in the last {_days(u)}{money}",
                evidence={
                    **_base(u, vpce),
                    "az_attachments": len(vpce.subnet_ids),
                    "monthly_usd": usd(cost.total_usd) if cost is not None else None,
                    "monthly_saving_usd": saving,
                    "price_source": _price_source(u),
                    "created": vpce.created or None,
                },
                hint=f"Check that nothing needs it, then: aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {vpce.id}",
            )
            continue
        for metric, code, what, key in (
            ("PacketsDropped", Code.ENDPOINT_PACKETS_DROPPED, "dropped {n:,.0f} packets", "packets_dropped"),
            (
                "RstPacketsReceived",
                Code.ENDPOINT_RESETS_RECEIVED,
                "received {n:,.0f} TCP resets",
                "rst_packets_received",
            ),
        ):
            total = m.total(metric)
            if total <= 0:
                continue
            peak = m.peaks.get(metric)
            when = ""
            if peak is not None:
                unit = "minute" if peak.resolution_s == 60 else "hour"
                when = f", most in the {unit} of {peak.at:%Y-%m-%d %H:%M} UTC ({peak.value:,.0f})"
            yield Finding.make(
                code,
                name,
                f"{vpce.id} ({vpce.service}) {what.format(n=total)} in the last {_days(u)}{when}",
                evidence={
                    **_base(u, vpce),
                    key: total,
                    "peak": peak.to_dict() if peak is not None else None,
                    "new_connections": m.total("NewConnections"),
                    "bytes": m.total("BytesProcessed"),
                },
            )


@run_rule(Code.ENDPOINT_CROSS_AZ)
def placement(facts: RunFacts) -> Iterator[Finding]:
    """Clients in AZs where the endpoint has no ENI; ENIs in AZs where no client is."""
    u = view(facts)
    if u is None or not u.read.client_azs:
        return
    from vpc_verify.judge.usage import usd
    from vpc_verify.pricing import rightsizing

    clients = {az for az, n in u.read.client_azs.items() if n > 0 and az}
    price = u.read.price
    for vpce in u.interface_endpoints:
        m = u.metrics(vpce)
        azs = set(u.azs(vpce))
        if m is None or m.idle or not azs:
            continue
        missing, lonely = sorted(clients - azs), sorted(azs - clients)
        if not missing and not lonely:
            continue
        removable = min(len(lonely), len(azs) - 1)  # an endpoint keeps at least one AZ
        saving = usd(rightsizing.remove_azs_saving(removable, price)) if price is not None and removable else None
        parts = []
        if missing:
            parts.append(f"clients in {', '.join(missing)} reach it only across AZs")
        if lonely:
            carried = u.bytes_by_az(vpce)
            share = sum(carried.get(az, 0.0) for az in lonely)
            parts.append(
                f"its ENIs in {', '.join(lonely)} have no clients there"
                + (f" yet processed {share / 2**30:,.2f} GB" if share else "")
            )
        money = f"; removing {removable} AZ attachment(s) saves ${saving:,.2f} a month" if saving else ""
        yield Finding.make(
            Code.ENDPOINT_CROSS_AZ,
            u.name(vpce),
            f"{vpce.id} ({vpce.service}): {'; '.join(parts)}{money}",
            evidence={
                **_base(u, vpce),
                "endpoint_azs": sorted(azs),
                "client_azs": dict(sorted(u.read.client_azs.items())),
                "azs_without_endpoint": missing,
                "azs_without_clients": lonely,
                "bytes_by_az": dict(sorted(u.bytes_by_az(vpce).items())),
                "monthly_saving_usd": saving,
                "price_source": _price_source(u),
            },
        )


@run_rule(Code.ENDPOINT_GATEWAY_WOULD_DO)
def gateway_instead(facts: RunFacts) -> Iterator[Finding]:
    """An S3 or DynamoDB interface endpoint carrying traffic: from inside the VPC a gateway endpoint is free."""
    u = view(facts)
    if u is None:
        return
    from vpc_verify.judge.usage import usd
    from vpc_verify.pricing import rightsizing

    for vpce in u.interface_endpoints:
        m = u.metrics(vpce)
        kind = rightsizing.gateway_service(vpce.service)
        if kind is None or m is None or m.idle:
            continue
        cost = u.cost_of(vpce)
        gateway = next((e for e in u.state.endpoints if e.type == "gateway" and e.service == vpce.service), None)
        saving = usd(rightsizing.gateway_saving(cost)) if cost is not None else None
        money = f" (${saving:,.2f} a month)" if saving is not None else ""
        have = f"the VPC's gateway endpoint {gateway.id}" if gateway is not None else f"a {kind} gateway endpoint"
        yield Finding.make(
            Code.ENDPOINT_GATEWAY_WOULD_DO,
            u.name(vpce),
            f"{vpce.id} is an interface endpoint for {kind} carrying traffic{money}: from inside the VPC, {have} "
            "carries it for free",
            evidence={
                **_base(u, vpce),
                "az_attachments": len(vpce.subnet_ids),
                "monthly_usd": usd(cost.total_usd) if cost is not None else None,
                "monthly_saving_usd": saving,
                "price_source": _price_source(u),
                "gb_month": float(round(cost.gb_month, 3)) if cost is not None else None,
                "gateway_endpoint_id": gateway.id if gateway is not None else None,
            },
        )


@run_rule(Code.USAGE_UNREAD)
def unread(facts: RunFacts) -> Iterator[Finding]:
    """The usage was asked for and could not be read."""
    aws = facts.aws
    if aws is None or aws.usage_error is None:
        return
    exc = aws.usage_error
    yield Finding.make(
        Code.USAGE_UNREAD,
        RUN,
        f"the usage of {aws.state.vpc_id}'s endpoints could not be read: {exc}",
        evidence={"vpc_id": aws.state.vpc_id, "error": type(exc).__name__, "detail": str(exc)},
    )
