"""JUnit XML: parses, one testcase per endpoint, failures from error findings, warnings in system-out."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from tests.publish.helpers import synthetic_report
from vpc_verify.render import junit


def test_junit_parses_with_one_testcase_per_endpoint() -> None:
    root = ET.fromstring(junit.render(synthetic_report()))
    suite = root.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert set(cases) == {"sqs", "kms"}
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert cases["sqs"].find("failure") is None
    failure = cases["kms"].find("failure")
    assert failure is not None and failure.get("type") == "TCP_TIMEOUT"
    assert "TCP_TIMEOUT" in (failure.get("message") or "")
    out = cases["kms"].find("system-out")
    assert out is not None and "LATENCY_OVER_BUDGET" in (out.text or "")
    assert "TCP_TIMEOUT" not in (out.text or "")
    assert cases["kms"].get("time") == "2.010"
