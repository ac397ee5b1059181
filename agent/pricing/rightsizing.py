"""What a change would save a month: deleting an idle endpoint, replacing an S3 or DynamoDB interface endpoint
by a (free) gateway endpoint, removing AZ attachments no client uses. Pure arithmetic on vpc_verify.pricing.cost.
"""

from __future__ import annotations

from decimal import Decimal

from vpc_verify.pricing.cost import EndpointCost
from vpc_verify.pricing.prices import HOURS_PER_MONTH, RegionPrice

# Services a gateway endpoint serves for free from inside the VPC (its route tables), as interface endpoints do
# for a fee: an interface endpoint is still needed for clients outside the VPC (on premises, peered VPCs).
GATEWAY_SERVICES = ("s3", "dynamodb")


def delete_saving(cost: EndpointCost) -> Decimal:
    """Deleting the endpoint saves its whole month (an idle one has no data part)."""
    return cost.total_usd


def gateway_service(service: str) -> str | None:
    """'s3' or 'dynamodb' when the service name is one a gateway endpoint can carry, else None."""
    tail = service.rsplit(".", 1)[-1]
    return tail if tail in GATEWAY_SERVICES and service.startswith("com.amazonaws.") else None


def gateway_saving(cost: EndpointCost) -> Decimal:
    """Carrying the traffic through a gateway endpoint instead costs nothing: the whole month is saved."""
    return cost.total_usd


def remove_azs_saving(azs: int, price: RegionPrice, hours: int = HOURS_PER_MONTH) -> Decimal:
    """Removing `azs` AZ attachments saves their hours (the data goes through the other ENIs instead)."""
    return azs * hours * price.az_hour
