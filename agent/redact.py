"""Keeping secrets out of logs and reports: query-string values, secret-looking keys, credentials in the env.

A topology may carry a token in an HTTP path (`/health?token=...`); the environment carries AWS credentials.
Neither belongs in a log line or a stored report. What is kept: the names (`token=***`), so the evidence
still says what was sent.
"""

from __future__ import annotations

import os
import re
from collections.abc import MutableMapping
from typing import Any

MASK = "***"
_SECRET_KEY = re.compile(r"(?i)(secret|token|passw|credential|authorization|api[_-]?key|session)")
_QUERY_VALUE = re.compile(r"([?&][^=&#\s]+=)[^&#\s]*")
_ENV_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID")


def path(text: str) -> str:
    """An HTTP path with every query value masked: `/h?token=abc&x=1` -> `/h?token=***&x=***`."""
    return _QUERY_VALUE.sub(lambda m: m.group(1) + MASK, text)


def _env_values() -> list[str]:
    # Short values (the emulator's "testing") would mask ordinary words; real credentials are long.
    return [v for k in _ENV_SECRETS if len(v := os.environ.get(k, "")) >= 16]


def text(value: str) -> str:
    """A free text with query values and the process's AWS credentials masked."""
    if "=" in value:
        value = path(value)
    for secret in _env_values():
        value = value.replace(secret, MASK)
    return value


def value(item: Any, key: str = "") -> Any:
    """Any log value, recursively: secret-looking keys masked, strings cleaned."""
    if key and _SECRET_KEY.search(key) and not isinstance(item, bool | int | float | type(None)):
        return MASK
    if isinstance(item, str):
        return text(item)
    if isinstance(item, dict):
        return {k: value(v, str(k)) for k, v in item.items()}
    if isinstance(item, list | tuple):
        return [value(v) for v in item]
    return item


def processor(logger: Any, method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor applying `value` to every key of the event."""
    for key in list(event):
        event[key] = value(event[key], key if key != "event" else "")
    return event
