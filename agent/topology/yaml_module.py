"""PyYAML, imported with its regular expressions compiled when first used instead of at import.

Importing `yaml` compiles about a dozen patterns in its class bodies. One of them, the pure-Python reader's
test for printable characters (a character class up to U+10FFFF), costs 4-5 ms to compile, a twentieth of the
start to the first packet, and serves only the pure-Python parser: libyaml's (CSafeLoader, which topology files
are read with) never uses it. The patterns compiled while `yaml` is imported are therefore compiled on their
first use; a pattern never used is never compiled. Nothing else changes: the same patterns, the same flags.
"""

from __future__ import annotations

import re
import sys
import threading
from types import ModuleType
from typing import Any

_LOCK = threading.Lock()


class _LazyPattern:
    """A compiled pattern in waiting: compiled by `re` at the first attribute asked of it (match, search...)."""

    def __init__(self, *args: Any) -> None:
        self._args = args
        self._pattern: re.Pattern[str] | None = None

    def __getattr__(self, name: str) -> Any:
        if self._pattern is None:
            self._pattern = _COMPILE(*self._args)
        value = getattr(self._pattern, name)
        setattr(self, name, value)  # found without this call from now on (resolving a scalar asks `match` often)
        return value


_COMPILE = re.compile


def _compile_lazily(pattern: Any, flags: Any = 0) -> Any:
    # Only PyYAML's own modules get a pattern in waiting: any other code (another thread) compiling meanwhile
    # gets a compiled pattern, as always.
    if sys._getframe(1).f_globals.get("__name__", "").partition(".")[0] == "yaml":
        return _LazyPattern(pattern, flags)
    return _COMPILE(pattern, flags)


def yaml_module() -> ModuleType:
    """The `yaml` module (imported on the first call, its patterns compiled when first used)."""
    if "yaml" not in sys.modules:
        with _LOCK:
            re.compile = _compile_lazily
            try:
                import yaml
            finally:
                re.compile = _COMPILE
    import yaml

    return yaml
