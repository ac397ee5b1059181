"""The arithmetic of an interface endpoint's bill: AZ attachments x hours x the hourly price, plus the GB it
processes x the tiered price. Figures are exact Decimals; `cents` rounds half up only for display.

A month's data is projected from the window the metrics cover: GB in the window / the window's hours x 730.
The tiers apply to the VPC's total (the account's other traffic in the Region could reach a cheaper tier
sooner: a figure here is never lower than the bill's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from vpc_verify.pricing.prices import BYTES_PER_GB, HOURS_PER_MONTH, RegionPrice, Tier

CENT = Decimal("0.01")


def cents(usd: Decimal) -> Decimal:
    """Dollars rounded half up to the cent (for display; sums are made before rounding)."""
    return usd.quantize(CENT, rounding=ROUND_HALF_UP)


def fixed_monthly(attachments: int, price: RegionPrice, hours: int = HOURS_PER_MONTH) -> Decimal:
    """The hourly part of a month: every AZ attachment is billed every hour, used or not."""
    return attachments * hours * price.az_hour


def gb_of(window_bytes: float) -> Decimal:
    """Bytes as GB (2^30 bytes)."""
    return Decimal(repr(float(window_bytes))) / BYTES_PER_GB


def monthly_gb(window_bytes: float, window_hours: float) -> Decimal:
    """A month's GB at the window's rate."""
    if window_hours <= 0:
        return Decimal(0)
    return gb_of(window_bytes) / Decimal(repr(float(window_hours))) * HOURS_PER_MONTH


def tiered(gb: Decimal, tiers: Sequence[Tier]) -> Decimal:
    """The data-processing charge of `gb` GB in one month, tier by tier."""
    total, floor = Decimal(0), Decimal(0)
    for tier in tiers:
        top = Decimal(tier.up_to_gb) if tier.up_to_gb is not None else None
        if gb <= floor:
            break
        span = (min(gb, top) if top is not None else gb) - floor
        total += span * tier.usd_per_gb
        if top is None:
            break
        floor = top
    return total


@dataclass(frozen=True, slots=True)
class EndpointCost:
    """One endpoint's month: its fixed part, its data part, and the GB behind it."""

    vpc_endpoint_id: str
    attachments: int  # AZs (subnets) the endpoint is provisioned in
    fixed_usd: Decimal
    gb_month: Decimal
    data_usd: Decimal

    @property
    def total_usd(self) -> Decimal:
        """Fixed plus data."""
        return self.fixed_usd + self.data_usd

    def to_dict(self) -> dict[str, object]:
        """JSON form (dollars to the cent, GB to three places)."""
        return {
            "vpc_endpoint_id": self.vpc_endpoint_id,
            "az_attachments": self.attachments,
            "gb_month": float(self.gb_month.quantize(Decimal("0.001"), rounding=ROUND_HALF_UP)),
            "fixed_usd": float(cents(self.fixed_usd)),
            "data_usd": float(cents(self.data_usd)),
            "monthly_usd": float(cents(self.total_usd)),
        }


@dataclass(frozen=True, slots=True)
class VpcCost:
    """The VPC's interface endpoints for a month, at one Region's price."""

    price: RegionPrice
    endpoints: tuple[EndpointCost, ...]

    @property
    def fixed_usd(self) -> Decimal:
        """Every endpoint's hourly part."""
        return sum((e.fixed_usd for e in self.endpoints), Decimal(0))

    @property
    def data_usd(self) -> Decimal:
        """Every endpoint's data part."""
        return sum((e.data_usd for e in self.endpoints), Decimal(0))

    @property
    def total_usd(self) -> Decimal:
        """The month's total, unrounded."""
        return self.fixed_usd + self.data_usd

    def of(self, vpc_endpoint_id: str) -> EndpointCost | None:
        """One endpoint's cost."""
        return next((e for e in self.endpoints if e.vpc_endpoint_id == vpc_endpoint_id), None)


def price_vpc(usage: Sequence[tuple[str, int, float]], price: RegionPrice, window_hours: float) -> VpcCost:
    """Price every (endpoint id, AZ attachments, bytes in the window): the tiers on the VPC's total GB, each
    endpoint's share of the data charge in proportion to its GB."""
    gbs = [monthly_gb(b, window_hours) for _, _, b in usage]
    total_gb = sum(gbs, Decimal(0))
    data_total = tiered(total_gb, price.tiers)
    endpoints = tuple(
        EndpointCost(
            vpc_endpoint_id=vpce,
            attachments=attachments,
            fixed_usd=fixed_monthly(attachments, price),
            gb_month=gb,
            data_usd=(data_total * gb / total_gb) if total_gb else Decimal(0),
        )
        for (vpce, attachments, _), gb in zip(usage, gbs, strict=True)
    )
    return VpcCost(price=price, endpoints=endpoints)
