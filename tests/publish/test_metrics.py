"""Metric values and dimensions from a synthetic Report (docs/metrics.md)."""

from __future__ import annotations

from tests.publish.helpers import STARTED, synthetic_report
from vpc_verify.publish.metrics import ENDPOINT_METRICS, RUN_METRICS, Datum, Dimensions, from_report

VPC = ("VpcId", "vpc-0123456789abcdef0")


def _by(datums, name, dims):  # type: ignore[no-untyped-def]
    found = [d for d in datums if d.name == name and d.dimensions == dims]
    assert len(found) == 1, (name, dims, found)
    return found[0]


def test_per_endpoint_values_units_and_dimensions() -> None:
    datums = from_report(synthetic_report())
    sqs = (("Endpoint", "sqs"), VPC)
    kms = (("Endpoint", "kms"), VPC)
    assert _by(datums, "Healthy", sqs).value == 1.0
    assert _by(datums, "Healthy", kms).value == 0.0
    assert _by(datums, "DnsPrivate", sqs).value == 1.0
    assert _by(datums, "Reachable", sqs).value == 1.0
    assert _by(datums, "Reachable", kms).value == 0.5
    assert _by(datums, "DnsLatency", sqs).value == 1.5
    assert _by(datums, "ConnectLatency", sqs).value == 0.9  # the slowest address
    assert _by(datums, "TlsLatency", sqs).value == 3.5
    assert _by(datums, "HttpLatency", sqs).value == 5.0
    assert _by(datums, "Findings", kms).value == 2.0
    assert _by(datums, "Findings", kms).unit == "Count"
    assert _by(datums, "TlsLatency", kms).unit == "Milliseconds"
    assert _by(datums, "Healthy", kms).unit == "None"
    assert all(d.timestamp == STARTED for d in datums)


def test_latency_without_a_value_is_not_published() -> None:
    datums = from_report(synthetic_report())
    assert not [d for d in datums if d.name == "HttpLatency" and ("Endpoint", "kms") in d.dimensions]
    names = {d.name for d in datums}
    assert names == set(ENDPOINT_METRICS) | set(RUN_METRICS)


def test_run_metrics() -> None:
    datums = from_report(synthetic_report())
    assert _by(datums, "RunHealthy", (VPC,)).value == 0.0
    assert _by(datums, "EndpointsUnhealthy", (VPC,)).value == 1.0
    run = _by(datums, "RunDuration", (VPC,))
    assert run.value == 2012.5 and run.unit == "Milliseconds"


def test_no_vpc_id_means_no_vpc_dimension() -> None:
    datums = from_report(synthetic_report(vpc_id=None))
    assert all(not any(k == "VpcId" for k, _ in d.dimensions) for d in datums)
    assert _by(datums, "RunHealthy", ()).value == 0.0
    assert _by(datums, "Healthy", (("Endpoint", "sqs"),)).value == 1.0


def test_per_address_metrics_are_opt_in() -> None:
    plain = from_report(synthetic_report())
    assert not any(k == "Address" for d in plain for k, _ in d.dimensions)
    rich = from_report(synthetic_report(), per_address=True)
    a = _by(rich, "TlsLatency", (("Endpoint", "sqs"), ("Address", "10.0.2.45"), ("AZ", "us-east-1b"), VPC))
    assert a.value == 3.5
    # No AZ known: no AZ dimension (an empty dimension value is invalid).
    assert _by(rich, "ConnectLatency", (("Endpoint", "kms"), ("Address", "10.0.1.9"), VPC)).value == 50.0
    # The timed-out address has no latency datums at all.
    assert not [d for d in rich if ("Address", "10.0.2.9") in d.dimensions]
    assert len(_dimension_sets(rich)) == len(_dimension_sets(plain)) + 3


def _dimension_sets(datums: list[Datum]) -> set[Dimensions]:
    return {d.dimensions for d in datums}
