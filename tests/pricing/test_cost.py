"""The cost arithmetic against figures worked by hand from https://aws.amazon.com/privatelink/pricing/
(us-east-1: $0.01 per endpoint per AZ-hour; data $0.01/GB for the first 1 PB, $0.006 the next 4 PB,
$0.004 beyond; a month is 730 hours; GB = 2^30 bytes; 1 PB = 1,048,576 GB)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from vpc_verify.pricing import cost, prices, rightsizing

GIB = 2**30
US_EAST_1 = prices.PRICES["us-east-1"]
D = Decimal


@pytest.mark.parametrize(
    ("attachments", "window_gib", "window_hours", "expected"),
    [
        # 2 AZs idle: 2 x 730 h x $0.01 = $14.60
        (2, 0, 336, "14.60"),
        # 3 AZs: $21.90; 16.8 GB in 14 days (336 h) = 36.5 GB a month x $0.01 = $0.365 -> $22.265 -> $22.27
        (3, 16.8, 336, "22.27"),
        # 1 AZ: $7.30; 1 GB in 1 hour = 730 GB a month = $7.30 -> $14.60
        (1, 1, 1, "14.60"),
    ],
)
def test_one_endpoint_month(attachments: int, window_gib: float, window_hours: float, expected: str) -> None:
    vpc = cost.price_vpc([("vpce-1", attachments, window_gib * GIB)], US_EAST_1, window_hours)
    assert cost.cents(vpc.total_usd) == D(expected)


@pytest.mark.parametrize(
    ("gb", "expected"),
    [
        (D(0), "0.00"),
        (D("36.5"), "0.37"),  # $0.365, half up
        (D(prices.PB_IN_GB), "10485.76"),  # exactly 1 PB at $0.01
        # 2 PB: 1,048,576 x 0.01 + 1,048,576 x 0.006 = 10,485.76 + 6,291.456 = 16,777.216
        (D(2 * prices.PB_IN_GB), "16777.22"),
        # 6 PB: 10,485.76 + 4,194,304 x 0.006 (25,165.824) + 1,048,576 x 0.004 (4,194.304) = 39,845.888
        (D(6 * prices.PB_IN_GB), "39845.89"),
    ],
)
def test_tiers(gb: Decimal, expected: str) -> None:
    assert cost.cents(cost.tiered(gb, US_EAST_1.tiers)) == D(expected)


def test_the_box_vpc_to_the_cent() -> None:
    """The testbed's VPC (tests/testbed/usage_seed.py): five interface endpoints of two AZs each, 14 days of
    metrics. Fixed: 5 x 2 x 730 x $0.01 = $73.00. Data a month: sqs 16.8 GB -> 36.5 GB, kms 3.36 -> 7.3,
    ssm 0, s3 (interface) 33.6 -> 73, sts 6.72 -> 14.6: 131.4 GB x $0.01 = $1.314. Total $74.314 -> $74.31."""
    usage = [
        ("sqs", 2, 16.8 * GIB),
        ("kms", 2, 3.36 * GIB),
        ("ssm", 2, 0.0),
        ("s3", 2, 33.6 * GIB),
        ("sts", 2, 6.72 * GIB),
    ]
    vpc = cost.price_vpc(usage, US_EAST_1, 336)
    assert cost.cents(vpc.fixed_usd) == D("73.00")
    assert cost.cents(vpc.data_usd) == D("1.31")
    assert cost.cents(vpc.total_usd) == D("74.31")
    sqs = vpc.of("sqs")
    assert sqs is not None and sqs.to_dict()["gb_month"] == 36.5 and sqs.to_dict()["monthly_usd"] == 14.97


def test_savings() -> None:
    vpc = cost.price_vpc([("idle", 2, 0.0), ("s3", 3, 33.6 * GIB)], US_EAST_1, 336)
    idle, s3 = vpc.of("idle"), vpc.of("s3")
    assert idle is not None and s3 is not None
    assert cost.cents(rightsizing.delete_saving(idle)) == D("14.60")
    assert cost.cents(rightsizing.gateway_saving(s3)) == D("22.63")  # $21.90 + 73 GB x $0.01
    assert cost.cents(rightsizing.remove_azs_saving(1, US_EAST_1)) == D("7.30")
    assert rightsizing.gateway_service("com.amazonaws.us-east-1.s3") == "s3"
    assert rightsizing.gateway_service("com.amazonaws.eu-west-1.dynamodb") == "dynamodb"
    assert rightsizing.gateway_service("com.amazonaws.us-east-1.sqs") is None


def test_prices_table_and_overrides() -> None:
    assert prices.price_for("us-east-1") is US_EAST_1
    assert prices.price_for("ap-southeast-7") is None  # no figure read from the page: no guess
    assert prices.price_for("ap-southeast-7", az_hour=D("0.013")) is None  # half a price is no price
    given = prices.price_for("ap-southeast-7", az_hour=D("0.013"), per_gb=D("0.01"))
    assert given is not None and given.source == "given on the command line"
    assert cost.cents(cost.fixed_monthly(2, given)) == D("18.98")  # 2 x 730 x 0.013
    mixed = prices.price_for("us-east-1", per_gb=D("0.02"))
    assert mixed is not None and mixed.az_hour == D("0.01") and mixed.tiers[0].usd_per_gb == D("0.02")
