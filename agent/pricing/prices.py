"""Interface endpoint prices per Region, as the package ships them.

Source: https://aws.amazon.com/privatelink/pricing/ (Interface Endpoint pricing), read on 2026-11-26.
  - "You will be billed for each hour that your VPC endpoint remains provisioned in each Availability Zone";
    "each partial VPC endpoint-hour consumed is billed as a full hour".
  - Data processing is tiered on "the total data processed by all Interface Endpoints in an AWS Region" per
    month: first 1 PB $0.01/GB, next 4 PB $0.006/GB, over 5 PB $0.004/GB.
  - Gateway endpoints (S3, DynamoDB) have no hourly or data-processing charge.
Only the Regions below carry a price whose figure was read from that page; any other Region has none here:
pass --price-az-hour and --price-gb (figures from the page) and the report says so. GB is 2^30 bytes, as AWS
bills it; 1 PB is 1,048,576 GB. A month is 730 hours (AWS's pricing convention).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

SOURCE = "https://aws.amazon.com/privatelink/pricing/"
# A custom metric (each distinct namespace, name and dimensions) a month, CloudWatch's first tier (the first
# 10,000 metrics; us-east-1), as https://aws.amazon.com/cloudwatch/pricing/ gives it: what `--dry-run` prices.
METRIC_MONTH_USD = Decimal("0.30")
METRIC_TIER_METRICS = 10_000
AS_OF = "2026-11-26"
HOURS_PER_MONTH = 730
BYTES_PER_GB = 2**30
PB_IN_GB = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Tier:
    """A data-processing tier: `usd_per_gb` for the GB of the month up to `up_to_gb` (None: no upper bound)."""

    up_to_gb: int | None
    usd_per_gb: Decimal


@dataclass(frozen=True, slots=True)
class RegionPrice:
    """What one interface endpoint costs in a Region: per AZ attachment per hour, and per GB processed."""

    region: str
    az_hour: Decimal
    tiers: tuple[Tier, ...]
    source: str = f"{SOURCE} ({AS_OF})"

    def to_dict(self) -> dict[str, object]:
        """JSON form: the figures as strings of dollars (exact), and where they come from."""
        return {
            "region": self.region,
            "usd_per_az_hour": str(self.az_hour),
            "usd_per_gb": [{"up_to_gb": t.up_to_gb, "usd": str(t.usd_per_gb)} for t in self.tiers],
            "source": self.source,
        }


STANDARD_TIERS = (
    Tier(PB_IN_GB, Decimal("0.01")),
    Tier(5 * PB_IN_GB, Decimal("0.006")),
    Tier(None, Decimal("0.004")),
)

PRICES: dict[str, RegionPrice] = {
    region: RegionPrice(region, Decimal("0.01"), STANDARD_TIERS) for region in ("us-east-1", "us-east-2", "us-west-2")
}


def price_for(
    region: str | None, *, az_hour: Decimal | None = None, per_gb: Decimal | None = None
) -> RegionPrice | None:
    """The Region's price: the table's, with any figure given on the command line in its place; None when the
    table has no price for the Region and not both figures were given."""
    known = PRICES.get(region or "")
    if az_hour is None and per_gb is None:
        return known
    hourly = az_hour if az_hour is not None else (known.az_hour if known is not None else None)
    tiers = (Tier(None, per_gb),) if per_gb is not None else (known.tiers if known is not None else None)
    if hourly is None or tiers is None:
        return None
    return RegionPrice(region or "?", hourly, tiers, source="given on the command line")
