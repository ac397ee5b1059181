"""The JSON report: compact and streamed for machines, indented for people, the same content either way."""

from __future__ import annotations

import io
import json
from dataclasses import replace

from tests.publish.helpers import synthetic_report
from vpc_verify.render import jsonreport


def test_compact_and_pretty_hold_the_same_report() -> None:
    report = synthetic_report()
    compact, pretty = jsonreport.render(report), jsonreport.render(report, pretty=True)
    assert json.loads(compact) == json.loads(pretty) == json.loads(json.dumps(report.to_dict(), default=str))
    assert "\n" not in compact.rstrip("\n") and compact.endswith("\n")
    assert pretty.startswith('{\n  "version": 1') and len(compact) < len(pretty)


def test_streamed_text_is_the_rendered_text_even_without_endpoints() -> None:
    for report in (synthetic_report(), replace(synthetic_report(), endpoints=(), run_findings=())):
        stream = io.StringIO()
        jsonreport.write(report, stream)
        assert stream.getvalue() == jsonreport.render(report)
        assert json.loads(stream.getvalue())["endpoints"] == [e.to_dict() for e in report.endpoints]
