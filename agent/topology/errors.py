"""The topology's errors: each is one line naming the source, the key path and what was expected."""

from __future__ import annotations

from collections.abc import Mapping


class TopologyError(ValueError):
    """A topology is unreadable or invalid; carries the source, the key path and the expectation.

    Its text is one line: ``<source>: <key path>: expected <what>, got <the value>``, or, for a problem in the
    YAML itself, ``<source>: expected <what>: <what was found, and at which line and column>``.
    """

    def __init__(
        self,
        source: str,
        path: str,
        expected: str,
        got: object = None,
        *,
        has_got: bool = True,
        found: str | None = None,
    ):
        self.source = source
        self.path = path
        self.expected = expected
        self.got = got if found is None else found
        where = f"{source}: {path}" if path else source
        super().__init__(f"{where}: expected {expected}{_tail(got, has_got, found)}")


class TopologySourceError(TopologyError):
    """The topology could not be fetched: a file that cannot be read, a malformed `s3://` location, an object
    larger than the size limit or not UTF-8 (AWS API failures are `vpc_verify.aws.errors.AwsError`)."""


def _tail(got: object, has_got: bool, found: str | None) -> str:
    if found is not None:
        return f": {' '.join(found.split())}"  # our own words, on one line
    return f", got {show(got)}" if has_got else ""


def show(value: object) -> str:
    """A value as an error message shows it: short, on one line."""
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list | tuple):
        return f"a list of {len(value)}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
