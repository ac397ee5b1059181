"""Every JSON report the tests read goes through here: parsed, then validated against the published schema.

The schema is the strict variant of docs/schema/report.json (every object closed, every finding's evidence
limited to the keys docs/findings.md lists for its code), so a key the code emits and the docs do not name
fails the test that produced it.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import jsonschema

from vpc_verify.reference import schemas


@cache
def _validator(name: str) -> Any:
    builders = {
        "report": schemas.report,
        "diagnosis": schemas.diagnosis,
        "usage": schemas.usage,
        "fleet": schemas.fleet,
    }
    schema = builders[name](strict=True)
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


def check(doc: Any, name: str = "report") -> Any:
    """Raise AssertionError naming every place `doc` breaks the `name` schema (report | diagnosis | usage | fleet);
    return it."""
    errors = sorted(_validator(name).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errors:
        shown = "\n".join(f"  at /{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:10])
        raise AssertionError(f"the {name} does not match docs/schema/{name}.json ({len(errors)} errors):\n{shown}")
    return doc


def load_report(text: str | bytes) -> dict[str, Any]:
    """A `check --format json` report (or --output file, the agent's state file and /report), validated."""
    doc = json.loads(text)
    check(doc, "report")
    return doc


def load_diagnosis(text: str | bytes) -> dict[str, Any]:
    """A `diagnose --format json` document, validated."""
    doc = json.loads(text)
    check(doc, "diagnosis")
    return doc


def load_usage(text: str | bytes) -> dict[str, Any]:
    """A `usage --format json` document, validated."""
    doc = json.loads(text)
    check(doc, "usage")
    return doc


def load_fleet(text: str | bytes) -> dict[str, Any]:
    """A `fleet --format json` document, validated."""
    doc = json.loads(text)
    check(doc, "fleet")
    return doc
