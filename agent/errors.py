"""Small typed exceptions shared by the commands (feature modules define their own beside them)."""

from __future__ import annotations


class UsageError(ValueError):
    """The command line or the environment asks for something impossible; exit code 2."""
