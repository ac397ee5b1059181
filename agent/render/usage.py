"""`vpc-verify usage` for people: per endpoint what it carried and costs, the total, the subnets, the quota,
the findings, and what the reads cost. Pure text."""

from __future__ import annotations

from vpc_verify.bill import EndpointUsage, UsageReport
from vpc_verify.pricing.cost import cents
from vpc_verify.pricing.prices import BYTES_PER_GB


def render(report: UsageReport) -> str:
    """The usage report as text."""
    s = report.summary
    w = s.window
    lines = [
        f"vpc-verify usage  {s.region} {s.vpc_id}  window {w.start:%Y-%m-%d %H:%M} .. {w.end:%Y-%m-%d %H:%M} UTC "
        f"({w.days:g} days)"
    ]
    if s.price is not None:
        first = s.price.tiers[0].usd_per_gb
        lines.append(f"prices: ${s.price.az_hour}/AZ-hour, ${first}/GB (first tier); source {s.price.source}")
    else:
        lines.append(f"prices: none for {s.region} in the package's table: pass --price-az-hour and --price-gb")
    days = f"{w.days:g} d"
    rows: list[tuple[str, ...]] = [
        (
            "endpoint",
            "vpc endpoint",
            "type",
            "AZs",
            f"GB ({days})",
            "GB/month",
            "new conns",
            "drops",
            "resets",
            "$/month",
        )
    ]
    rows += [_row(e) for e in s.endpoints]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines.append("")
    lines += ["  " + "  ".join(c.ljust(widths[i]) for i, c in enumerate(r)).rstrip() for r in rows]
    total = s.monthly_usd
    if total is not None and s.fixed_usd is not None and s.data_usd is not None:
        lines.append(
            f"  total ${cents(total):,} a month (${cents(s.fixed_usd):,} endpoint hours + ${cents(s.data_usd):,} data)"
        )
    notes = sorted({e.to_dict().get("note", "") for e in s.endpoints if e.totals is None} - {""})
    lines += [f"  note: {n}" for n in notes]
    if s.subnets:
        lines.append("")
        lines.append("  subnets of the endpoints: free addresses")
        for c in s.subnets:
            lines.append(f"    {c.subnet_id}  {c.az}  {c.cidr}  {c.available} free of {c.usable}")
    lines.append(f"  quota: {s.interface_endpoints} interface endpoints of {s.quota.value} ({s.quota.source})")
    if report.findings:
        lines.append("")
    for f in report.findings:
        label = "ERROR" if f.is_error else "WARN "
        lines.append(f"  {label} {f.code} {f.endpoint}: {f.message}")
        if f.hint:
            lines.append(f"        fix: {f.hint}")
    lines.append("")
    lines.append(
        f"  reads: {s.calls} GetMetricData calls, {s.metrics_requested} metrics requested "
        f"(${s.read_cost_usd:.5f} at $0.01 per 1,000)"
    )
    return "\n".join(lines) + "\n"


def _row(e: EndpointUsage) -> tuple[str, ...]:
    cost = e.cost
    name = e.name if e.name != e.vpc_endpoint_id else e.service.rsplit(".", 1)[-1]
    azs = "-" if e.type == "gateway" else str(len(e.azs))
    money = f"{cents(cost.total_usd):,}" if cost is not None else ("0.00" if e.type == "gateway" else "-")
    if e.totals is None:
        return (name, e.vpc_endpoint_id, e.type, azs, "-", "-", "-", "-", "-", money)
    t = e.totals
    return (
        name,
        e.vpc_endpoint_id,
        e.type,
        azs,
        f"{t.get('BytesProcessed', 0.0) / BYTES_PER_GB:,.2f}",
        f"{cost.gb_month:,.2f}" if cost is not None else "-",
        f"{t.get('NewConnections', 0.0):,.0f}",
        f"{t.get('PacketsDropped', 0.0):,.0f}",
        f"{t.get('RstPacketsReceived', 0.0):,.0f}",
        money,
    )
