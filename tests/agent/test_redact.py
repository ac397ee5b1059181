"""Secrets stay out of logs and reports: query values, secret-looking keys, the process's AWS credentials."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.schemas import load_report
from tests.testbed.cli import run_cli
from vpc_verify import redact

SECRET_KEY = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = "s3cr3t-health-token-0042"


def test_query_values_are_masked_and_names_kept() -> None:
    assert redact.path("/health?token=abc&verbose=1#x") == "/health?token=***&verbose=***#x"
    assert redact.path("/plain/path") == "/plain/path"


def test_secret_keys_and_env_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET_KEY)
    event = {
        "event": "x",
        "password": "hunter2",
        "nested": {"api_key": "k", "ok": f"key is {SECRET_KEY}"},
        "session_ms": 12.5,
        "items": [f"url /a?sig={TOKEN}"],
    }
    out = redact.processor(None, "info", dict(event))
    text = json.dumps(out)
    assert "hunter2" not in text and SECRET_KEY not in text and TOKEN not in text and '"k"' not in text
    assert out["session_ms"] == 12.5  # numbers under secret-looking names are measurements, kept


def test_short_values_like_the_emulators_are_not_treated_as_secrets(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    assert redact.text("integration testing") == "integration testing"


@pytest.mark.netns
def test_a_run_logs_and_reports_no_secret(testbed_factory: Callable[[dict[str, Any]], Any]) -> None:
    box = testbed_factory(
        {
            "endpoints": [
                {
                    "name": "billing",
                    "type": "service",
                    "dns_name": "billing.corp.internal",
                    "addresses": ["10.0.3.20"],
                    "http": {"path": f"/health?token={TOKEN}", "status": [200]},
                    "fault": "http_status",
                }
            ]
        }
    )
    env = {
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "PATH": "/usr/bin:/bin",
        "AWS_SESSION_TOKEN": "FQoGZXIvYXdzEXAMPLESESSIONTOKEN0123456789",
    }
    done = run_cli(
        "check", "-t", str(box.write_topology()), "--format", "json", "--log-level", "debug", env=env, inherit_env=False
    )
    assert done.returncode == 1
    report = load_report(done.stdout)
    assert report["endpoints"][0]["findings"][0]["code"] == "HTTP_UNEXPECTED_STATUS"
    assert "token=***" in done.stdout
    for secret in (TOKEN, SECRET_KEY, env["AWS_SESSION_TOKEN"]):
        assert secret not in done.stdout and secret not in done.stderr
