"""The Prometheus exposition of a Report: blackbox_exporter's names, endpoint and AZ labels, never an address.

Read back by two real parsers: prometheus_client's and Prometheus's own (promtool, from scripts/setup).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import subprocess
import sys
from collections.abc import Iterator

import pytest

from tests.publish.helpers import synthetic_report
from tests.shells.helpers import prometheus_binary
from vpc_verify.publish import prometheus
from vpc_verify.report import Report

pytestmark = pytest.mark.unit


def _samples(text: bytes) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    from prometheus_client.parser import text_string_to_metric_families

    out = {}
    for family in text_string_to_metric_families(text.decode()):
        for s in family.samples:
            out[(s.name, tuple(sorted(s.labels.items())))] = s.value
    return out


def _value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


def _with_cert_expiry(report: Report, not_after: str) -> Report:
    sqs = report.endpoint("sqs")
    first = sqs.addresses[0]
    assert first.probe is not None and first.probe.tls is not None
    probe = dataclasses.replace(first.probe, tls=dataclasses.replace(first.probe.tls, cert_not_after=not_after))
    sqs = dataclasses.replace(sqs, addresses=(dataclasses.replace(first, probe=probe), *sqs.addresses[1:]))
    return dataclasses.replace(report, endpoints=(sqs, *report.endpoints[1:]))


def test_blackbox_names_by_endpoint_and_az() -> None:
    report = _with_cert_expiry(synthetic_report(), "2027-03-04T05:06:07+00:00")
    s = _samples(prometheus.render(report, prometheus.Counters(runs=7, failures=2)))
    assert _value(s, "probe_success", endpoint="sqs", az="us-east-1a") == 1
    assert _value(s, "probe_success", endpoint="sqs", az="us-east-1b") == 1
    assert _value(s, "probe_success", endpoint="kms", az="us-east-1b") == 0  # its address timed out
    assert _value(s, "probe_success", endpoint="kms", az="") == 1  # slow (a warning), not failed
    assert _value(s, "probe_duration_seconds", endpoint="sqs", az="us-east-1a", phase="connect") == pytest.approx(
        0.0004
    )
    assert _value(s, "probe_duration_seconds", endpoint="sqs", az="us-east-1a", phase="tls") == pytest.approx(0.002)
    assert _value(s, "probe_duration_seconds", endpoint="sqs", az="us-east-1a", phase="http") == pytest.approx(0.005)
    # No measurement, no sample: a failed or absent phase never reads as a fast zero.
    assert ("probe_duration_seconds", (("az", "us-east-1b"), ("endpoint", "kms"), ("phase", "connect"))) not in s
    assert ("probe_duration_seconds", (("az", "us-east-1b"), ("endpoint", "sqs"), ("phase", "http"))) not in s
    assert _value(s, "probe_dns_lookup_time_seconds", endpoint="kms") == pytest.approx(0.0025)
    assert _value(s, "probe_ssl_earliest_cert_expiry", endpoint="sqs", az="us-east-1a") == 1804136767.0
    assert _value(s, "probe_http_status_code", endpoint="sqs", az="us-east-1a") == 200
    assert _value(s, "vpc_verify_endpoint_healthy", endpoint="sqs") == 1
    assert _value(s, "vpc_verify_endpoint_healthy", endpoint="kms") == 0
    assert _value(s, "vpc_verify_endpoint_addresses", endpoint="sqs", az="us-east-1b") == 1
    assert _value(s, "vpc_verify_findings", endpoint="kms", code="TCP_TIMEOUT", severity="error") == 1
    assert _value(s, "vpc_verify_findings", endpoint="kms", code="LATENCY_OVER_BUDGET", severity="warning") == 1
    assert _value(s, "vpc_verify_run_healthy") == 0
    assert _value(s, "vpc_verify_run_duration_seconds") == pytest.approx(2.0125)
    assert _value(s, "vpc_verify_run_timestamp_seconds") == report.started_at.timestamp()
    assert _value(s, "vpc_verify_info", vpc_id="vpc-0123456789abcdef0", region="us-east-1") == 1
    assert _value(s, "vpc_verify_runs_total") == 7 and _value(s, "vpc_verify_run_failures_total") == 2


def _label_values(text: bytes) -> Iterator[str]:
    from prometheus_client.parser import text_string_to_metric_families

    for family in text_string_to_metric_families(text.decode()):
        for sample in family.samples:
            yield from sample.labels.values()


def test_no_label_is_an_address() -> None:
    """Cardinality: ENIs come and go; an address label would grow the series without bound."""
    for value in _label_values(prometheus.render(synthetic_report())):
        with pytest.raises(ValueError):
            ipaddress.ip_address(value)


def test_before_the_first_run_only_the_counters() -> None:
    s = _samples(prometheus.render(None, prometheus.Counters(runs=0, failures=0)))
    assert set(name for name, _ in s) == {"vpc_verify_runs_total", "vpc_verify_run_failures_total"}


def test_promtool_reads_and_lints_the_exposition() -> None:
    """Prometheus's own parser and naming lint (promtool check metrics): no error, no warning."""
    text = prometheus.render(synthetic_report(), prometheus.Counters(runs=3, failures=1))
    done = subprocess.run(
        [str(prometheus_binary("promtool")), "check", "metrics"], input=text, capture_output=True, timeout=30
    )
    assert done.returncode == 0 and not done.stdout.strip() and not done.stderr.strip(), done


def test_without_the_library_a_typed_error_with_the_fix() -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "from vpc_verify.publish import prometheus\n"
        "try:\n    prometheus.render(None)\nexcept prometheus.PrometheusUnavailable as exc:\n    print(exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=30)
    assert done.stdout.strip() == "prometheus-client is not installed: pip install 'vpc-verify[prometheus]'"
