"""A VPC endpoint's policy (DescribeVpcEndpoints PolicyDocument), read: is it the default, which statements name
an action.

Pure, and deliberately not a policy evaluator: conditions, principals and resources decide for real, and only
AWS evaluates them (its access-denied message names the policy type that said no). What this gives is the
context a person needs next to a denial: the document, whether it still grants everything (the default: one
Allow of every action on every resource to every principal, without conditions), and the statements whose
Action or NotAction patterns cover the denied action.
"""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Sequence
from typing import Any

Statement = dict[str, Any]


def parse(document: str) -> dict[str, Any] | None:
    """The policy as JSON, or None when there is none (a service without endpoint policies) or it is not JSON."""
    if not document:
        return None
    try:
        policy = json.loads(document)
    except ValueError:
        return None
    return policy if isinstance(policy, dict) else None


def statements(policy: dict[str, Any] | None) -> list[Statement]:
    """The policy's statements (a single statement object counts as one)."""
    if policy is None:
        return []
    raw = policy.get("Statement")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else []
    return [s for s in items if isinstance(s, dict)]


def is_default(document: str) -> bool | None:
    """True when the policy grants everything, like the default full-access policy; None when there is none."""
    policy = parse(document)
    if policy is None:
        return None
    found = statements(policy)
    return bool(found) and all(_grants_everything(s) for s in found)


def naming(document: str, action: str) -> list[Statement]:
    """The statements whose Action (or NotAction, by not naming it) covers `action` (`sqs:ListQueues`)."""
    wanted = action.lower()
    out = []
    for s in statements(parse(document)):
        if ("Action" in s and _covers(s["Action"], wanted)) or (
            "NotAction" in s and not _covers(s["NotAction"], wanted)
        ):
            out.append(s)
    return out


def _covers(patterns: Any, action: str) -> bool:
    items: Sequence[Any] = patterns if isinstance(patterns, list) else [patterns]
    return any(isinstance(p, str) and fnmatch.fnmatchcase(action, p.lower()) for p in items)


def _everything(value: Any) -> bool:
    return bool(value == "*" or value == ["*"])


def _grants_everything(s: Statement) -> bool:
    principal = s.get("Principal")
    anyone = _everything(principal) or (isinstance(principal, dict) and _everything(principal.get("AWS")))
    unconditioned = not ({"Condition", "NotAction", "NotResource", "NotPrincipal"} & set(s))
    return (
        s.get("Effect") == "Allow"
        and anyone
        and _everything(s.get("Action"))
        and _everything(s.get("Resource"))
        and unconditioned
    )
