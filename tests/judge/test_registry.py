"""The rule registry: every code is made by exactly one rule (that a rule makes only the codes it declares is
checked on every judgment the rule tests make: tests/judge/builders.report)."""

from __future__ import annotations

from collections import Counter

from vpc_verify.findings import CATALOGUE, Code
from vpc_verify.judge.rules import ENDPOINT_RULES, PUBLISH_RULES, RUN_RULES


def test_every_code_is_made_by_exactly_one_rule() -> None:
    declared = Counter(code for rule in (*ENDPOINT_RULES, *RUN_RULES, *PUBLISH_RULES) for code in rule.codes)
    assert set(declared) == set(Code), set(Code) - set(declared)
    assert [c for c, n in declared.items() if n > 1] == []


def test_every_code_has_severity_meaning_and_hint() -> None:
    assert set(CATALOGUE) == set(Code)
    for code, info in CATALOGUE.items():
        assert code.isupper() and info.meaning and info.hint, code
