"""structlog set-up: one canonical line per endpoint and per run, JSON off a TTY, readable on one.

Logs go to stderr so that stdout carries only the report a user or a pipeline asked for.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any

import structlog

from vpc_verify import redact

_LOGGER_NAME = "vpc_verify"


def configure(level: str | None = None, *, json: bool | None = None) -> None:
    """Configure structlog once per process (again per Lambda invocation is fine).

    `level`: debug, info, warning, error; default info. `json`: default True unless stderr is a TTY.
    """
    if json is None:
        json = not sys.stderr.isatty()
    numeric = logging.getLevelNamesMapping().get((level or "info").upper(), logging.INFO)
    renderer: Any = (
        structlog.processors.JSONRenderer(sort_keys=False)
        if json
        else structlog.dev.ConsoleRenderer(colors=sys.stderr.isatty())
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            redact.processor,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=False,
    )


class _Stderr:
    """Whatever sys.stderr is when a line is written (not when logging was configured), and a log line that
    cannot be written is lost rather than an exception in the middle of a run."""

    def write(self, text: str) -> int:
        try:
            return sys.stderr.write(text)
        except (OSError, ValueError):  # closed or broken stderr
            return 0

    def flush(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            sys.stderr.flush()


def get_logger(**bindings: Any) -> Any:
    """The project's logger, with `bindings` attached."""
    return structlog.get_logger(_LOGGER_NAME).bind(**bindings)
