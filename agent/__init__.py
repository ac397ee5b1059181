"""vpc-verify: verify from inside a VPC that its endpoints resolve privately and answer.

`vpc_verify.__version__` is the installed distribution's version (pyproject.toml is its one source), read
from the package metadata on first use so that importing the package costs no metadata scan.
"""

from __future__ import annotations

from typing import Any

DISTRIBUTION = "vpc-verify"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version(DISTRIBUTION)
        except PackageNotFoundError:  # imported from a tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
