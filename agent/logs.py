"""structlog set-up: one canonical line per endpoint and per run, JSON off a TTY, readable on one.

Logs go to stderr so that stdout carries only the report a user or a pipeline asked for. structlog is imported
at the first log line, not at `configure`: a run's first line comes after its first probe, and importing
structlog is a fifth of the time from start to first packet.
"""

from __future__ import annotations

import contextlib
import logging
import sys
from typing import Any

_LOGGER_NAME = "vpc_verify"
_pending: dict[str, Any] = {}  # what configure() and bind_context() asked before structlog was imported


def configure(level: str | None = None, *, json: bool | None = None) -> None:
    """Configure structlog once per process (again per Lambda invocation is fine); applied now when structlog
    is loaded, else at the first log line.

    `level`: debug, info, warning, error; default info. `json`: default True unless stderr is a TTY.
    """
    _pending["configure"] = (level, json)
    if "structlog" in sys.modules:
        _apply()


def bind_context(**values: Any) -> None:
    """Bind `values` to every log line of this context (a Lambda invocation's request id)."""
    if "structlog" in sys.modules:
        _apply()
        sys.modules["structlog"].contextvars.bind_contextvars(**values)
    else:
        _pending.setdefault("context", {}).update(values)


def clear_context() -> None:
    """Forget the bound context."""
    _pending.pop("context", None)
    if "structlog" in sys.modules:
        sys.modules["structlog"].contextvars.clear_contextvars()


def _apply() -> None:
    import structlog

    if "configure" in _pending:
        _configure(structlog, *_pending.pop("configure"))
    if "context" in _pending:
        structlog.contextvars.bind_contextvars(**_pending.pop("context"))


def _level_number(level: str | None) -> int:
    """The logging level `configure` was given, as a number (info when none or unknown)."""
    return logging.getLevelNamesMapping().get((level or "info").upper(), logging.INFO)


def _configure(structlog: Any, level: str | None, json: bool | None) -> None:
    from vpc_verify import redact  # with structlog, at the first log line

    if json is None:
        json = not sys.stderr.isatty()
    numeric = _level_number(level)
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
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),
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
    if "structlog" not in sys.modules and "configure" in _pending:
        return _Deferred(bindings)
    return _logger(bindings)


def _logger(bindings: dict[str, Any]) -> Any:
    import structlog

    if _pending:
        _apply()
    return structlog.get_logger(_LOGGER_NAME).bind(**bindings)


_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_LEVELS |= {"warn": logging.WARNING, "exception": logging.ERROR, "critical": logging.CRITICAL}


class _Deferred:
    """The logger before structlog is imported: a line below the configured level is dropped here, as structlog's
    filtering logger would drop it, without importing structlog (12 ms after the sweep for the per-endpoint lines
    `--log-level error` drops); the first line the level admits imports it and is logged by it."""

    __slots__ = ("_bindings", "_real")

    def __init__(self, bindings: dict[str, Any]) -> None:
        self._bindings = bindings
        self._real: Any = None

    def bind(self, **values: Any) -> Any:
        """This logger with `values` bound too."""
        if self._settled():
            return self._materialize().bind(**values)
        return _Deferred(self._bindings | values)

    def _settled(self) -> bool:
        """Whether structlog serves now (imported, or nothing configured to filter by)."""
        return self._real is not None or "structlog" in sys.modules or "configure" not in _pending

    def _materialize(self) -> Any:
        if self._real is None:
            self._real = _logger(self._bindings)
        return self._real

    def _admits(self, method: str) -> bool:
        if self._settled():
            return True
        level = _pending["configure"][0]
        return _LEVELS[method] >= _level_number(level)

    def __getattr__(self, name: str) -> Any:
        if name in _LEVELS and not self._admits(name):
            return _drop
        return getattr(self._materialize(), name)


def _drop(*args: Any, **kw: Any) -> None:
    return None
