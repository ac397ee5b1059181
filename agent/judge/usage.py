"""The usage view the usage rules read: the VPC's state, what its endpoints carried, their cost at the
Region's price, and the names the topology gives them. Built from the run's facts; pure."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

from vpc_verify.aws.capacity import SubnetCapacity
from vpc_verify.aws.model import VpcEndpoint, VpcState
from vpc_verify.aws.usage import EndpointMetrics, UsageRead, metered
from vpc_verify.bill import EndpointUsage, UsageSummary
from vpc_verify.judge.facts import RunFacts, match
from vpc_verify.pricing.cost import EndpointCost, VpcCost, price_vpc


@dataclass(frozen=True)  # not slotted: cached_property needs the instance's __dict__
class UsageFacts:
    """Everything the usage rules may read."""

    state: VpcState
    read: UsageRead
    names: Mapping[str, str]  # VPC endpoint id -> the topology's name for it

    @classmethod
    def of(cls, facts: RunFacts) -> UsageFacts | None:
        """The view of a run that read the usage (None otherwise)."""
        aws = facts.aws
        if aws is None or aws.usage is None:
            return None
        names: dict[str, str] = {}
        for endpoint in facts.topology.endpoints:
            vpce = match(aws.state, endpoint)
            if vpce is not None:
                names.setdefault(vpce.id, endpoint.name)
        return cls(aws.state, aws.usage, names)

    def name(self, vpce: VpcEndpoint) -> str:
        """The topology's name of the endpoint, else its id."""
        return self.names.get(vpce.id, vpce.id)

    @property
    def interface_endpoints(self) -> tuple[VpcEndpoint, ...]:
        """The endpoints AWS meters (and bills by the hour)."""
        return metered(self.state)

    def metrics(self, vpce: VpcEndpoint) -> EndpointMetrics | None:
        """The endpoint's window (None for endpoints AWS does not meter)."""
        return self.read.metrics.endpoints.get(vpce.id)

    def azs(self, vpce: VpcEndpoint) -> tuple[str, ...]:
        """The AZs the endpoint is attached in (its subnets' AZs)."""
        found = [self.state.subnets[s].az for s in vpce.subnet_ids if s in self.state.subnets]
        found += [e.az for e in self.state.endpoint_enis(vpce)]
        return tuple(sorted({az for az in found if az}))

    def bytes_by_az(self, vpce: VpcEndpoint) -> dict[str, float]:
        """Bytes the endpoint's ENI in each AZ processed in the window."""
        m = self.metrics(vpce)
        out: dict[str, float] = {}
        for subnet_id, value in (m.bytes_by_subnet if m else {}).items():
            subnet = self.state.subnets.get(subnet_id)
            az = subnet.az if subnet is not None else subnet_id
            out[az] = out.get(az, 0.0) + value
        return out

    @cached_property
    def cost(self) -> VpcCost | None:
        """The month's cost of every metered endpoint (None without a price for the Region)."""
        price = self.read.price
        if price is None:
            return None
        usage = [
            (e.id, len(e.subnet_ids) or len(self.azs(e)), m.total("BytesProcessed") if (m := self.metrics(e)) else 0.0)
            for e in self.interface_endpoints
        ]
        return price_vpc(usage, price, self.read.metrics.window.hours)

    def cost_of(self, vpce: VpcEndpoint) -> EndpointCost | None:
        """One endpoint's month (None: unpriced)."""
        return self.cost.of(vpce.id) if self.cost is not None else None

    def subnets_of(self, capacity: SubnetCapacity) -> tuple[VpcEndpoint, ...]:
        """The endpoints with a network interface in the subnet."""
        return tuple(e for e in self.state.endpoints if capacity.subnet_id in e.subnet_ids)

    def summary(self) -> UsageSummary:
        """The summary the report shows."""
        metrics = self.read.metrics
        endpoints = []
        for e in self.state.endpoints:
            m = self.metrics(e)
            endpoints.append(
                EndpointUsage(
                    name=self.name(e),
                    vpc_endpoint_id=e.id,
                    type=e.type,
                    service=e.service,
                    azs=self.azs(e),
                    totals=dict(m.totals) if m is not None else None,
                    peaks=dict(m.peaks) if m is not None else {},
                    cost=self.cost_of(e),
                )
            )
        cost = self.cost
        return UsageSummary(
            vpc_id=self.state.vpc_id,
            region=self.state.region,
            window=metrics.window,
            price=self.read.price,
            endpoints=tuple(endpoints),
            subnets=tuple(self.read.subnets[s] for s in sorted(self.read.subnets)),
            quota=self.read.quota,
            interface_endpoints=len(self.interface_endpoints),
            client_azs=self.read.client_azs,
            fixed_usd=cost.fixed_usd if cost is not None else None,
            data_usd=cost.data_usd if cost is not None else None,
            calls=metrics.calls,
            metrics_requested=metrics.metrics_requested,
            read_cost_usd=metrics.cost_usd,
        )


def usd(value: Decimal | None) -> float | None:
    """Dollars to the cent for evidence (None stays None)."""
    from vpc_verify.pricing.cost import cents

    return None if value is None else float(cents(value))
