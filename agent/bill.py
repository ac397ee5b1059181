"""The usage summary a report shows: per endpoint what it carried in the window and what it costs a month,
the endpoint subnets' free addresses, the quota, the VPC's total, and what reading it all cost.

Pure data with its JSON form (docs/guides/usage-and-cost.md); vpc_verify.judge.usage builds it from the facts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from vpc_verify.aws.capacity import Quota, SubnetCapacity
from vpc_verify.aws.usage import Peak, Window
from vpc_verify.findings import Finding
from vpc_verify.pricing.cost import EndpointCost, cents
from vpc_verify.pricing.prices import RegionPrice


@dataclass(frozen=True, slots=True)
class EndpointUsage:
    """One VPC endpoint's line: what it carried in the window (None: AWS publishes no metrics for it) and its
    month's cost (None: gateway endpoints are free, or there is no price for the Region)."""

    name: str  # the topology's name for it, else its id
    vpc_endpoint_id: str
    type: str
    service: str
    azs: tuple[str, ...]
    totals: Mapping[str, float] | None  # metric -> window total (ActiveConnections: the peak); None: unmetered
    peaks: Mapping[str, Peak] = field(default_factory=dict)
    cost: EndpointCost | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        out: dict[str, Any] = {
            "name": self.name,
            "vpc_endpoint_id": self.vpc_endpoint_id,
            "type": self.type,
            "service": self.service,
            "azs": list(self.azs),
            "metrics": None if self.totals is None else {k: self.totals[k] for k in sorted(self.totals)},
            "peaks": {k: p.to_dict() for k, p in sorted(self.peaks.items())},
            "cost": None if self.cost is None else self.cost.to_dict(),
        }
        if self.totals is None:
            out["note"] = (
                "gateway endpoints publish no CloudWatch metrics and have no charge"
                if self.type == "gateway"
                else "AWS publishes no metrics for this endpoint type"
            )
        return out


@dataclass(frozen=True, slots=True)
class UsageSummary:
    """The VPC's usage and cost, with the window and the price source every figure rests on."""

    vpc_id: str
    region: str
    window: Window
    price: RegionPrice | None
    endpoints: tuple[EndpointUsage, ...]
    subnets: tuple[SubnetCapacity, ...]
    quota: Quota
    interface_endpoints: int
    client_azs: Mapping[str, int]
    fixed_usd: Decimal | None
    data_usd: Decimal | None
    calls: int
    metrics_requested: int
    read_cost_usd: Decimal

    @property
    def monthly_usd(self) -> Decimal | None:
        """The month's total (None without a price)."""
        return None if self.fixed_usd is None or self.data_usd is None else self.fixed_usd + self.data_usd

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the report's `usage` key, and `vpc-verify usage --format json`)."""
        total = self.monthly_usd
        return {
            "vpc_id": self.vpc_id,
            "region": self.region,
            "window": self.window.to_dict(),
            "price": None if self.price is None else self.price.to_dict(),
            "monthly_usd": None if total is None else float(cents(total)),
            "fixed_usd": None if self.fixed_usd is None else float(cents(self.fixed_usd)),
            "data_usd": None if self.data_usd is None else float(cents(self.data_usd)),
            "endpoints": [e.to_dict() for e in self.endpoints],
            "subnets": [s.to_dict() for s in self.subnets],
            "quota": {**self.quota.to_dict(), "interface_endpoints": self.interface_endpoints},
            "client_azs": dict(sorted(self.client_azs.items())),
            "reads": {
                "get_metric_data_calls": self.calls,
                "metrics_requested": self.metrics_requested,
                "usd": float(self.read_cost_usd),
            },
        }


@dataclass(frozen=True, slots=True)
class UsageReport:
    """`vpc-verify usage`: the summary and the findings about it."""

    summary: UsageSummary
    findings: tuple[Finding, ...]

    @property
    def exit_code(self) -> int:
        """0 without an error finding (the usage findings are warnings), 1 otherwise."""
        return 1 if any(f.is_error for f in self.findings) else 0

    def to_dict(self) -> dict[str, Any]:
        """JSON form (docs/schema/usage.json)."""
        return {"version": 1, **self.summary.to_dict(), "findings": [f.to_dict() for f in self.findings]}
