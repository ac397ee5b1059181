"""The generated reference stays true: docs/findings.md and docs/schema/*.json are what the code generates,
`vpc-verify explain` and `vpc-verify schema` print the same, and the report schema rejects what it must."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from tests.publish.helpers import synthetic_report
from tests.schemas import check
from vpc_verify import cli
from vpc_verify.findings import CATALOGUE, Code, Finding
from vpc_verify.reference import __main__ as generator
from vpc_verify.reference import artefacts, findings_doc, schemas

ROOT = Path(__file__).resolve().parents[2]
REGENERATE = "run `bash scripts/setup && .venv/bin/python -m vpc_verify.reference` and commit the result"


@pytest.mark.parametrize("rel", sorted(artefacts()))
def test_checked_in_file_is_what_the_generator_writes(rel: str) -> None:
    path = ROOT / rel
    assert path.is_file(), f"{rel} is missing: {REGENERATE}"
    assert path.read_text(encoding="utf-8") == artefacts()[rel], f"{rel} is stale: {REGENERATE}"


def test_generator_writes_then_checks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert generator.main(["--root", str(tmp_path)]) == 2  # not a repository root
    (tmp_path / "pyproject.toml").write_text("")
    assert generator.main(["--root", str(tmp_path), "--check"]) == 1
    assert generator.main(["--root", str(tmp_path)]) == 0
    assert generator.main(["--root", str(tmp_path), "--check"]) == 0
    (tmp_path / "docs" / "findings.md").write_text("edited by hand\n")
    capsys.readouterr()
    assert generator.main(["--root", str(tmp_path), "--check"]) == 1
    assert "stale: docs/findings.md" in capsys.readouterr().err


def test_every_code_is_documented_with_its_evidence() -> None:
    assert set(CATALOGUE) == set(Code)
    doc = findings_doc.markdown()
    for code, info in CATALOGUE.items():
        assert info.evidence, f"{code}: CodeInfo.evidence must list the evidence keys its findings carry"
        section = doc.split(f"\n## {code.value}\n", 1)[1].split("\n## ", 1)[0]
        assert f"**{info.severity.value}**" in section
        for key in info.evidence:
            assert f"| `{key}` |" in section


def test_explain_prints_the_entry(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", "private-dns-disabled"]) == 0
    out = capsys.readouterr().out
    assert out == findings_doc.text(Code.PRIVATE_DNS_DISABLED)
    assert out.startswith("PRIVATE_DNS_DISABLED (error)\n")
    assert "--private-dns-enabled" in out and "service_private_dns_names" in out


def test_explain_without_a_code_lists_every_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == [c.value for c in Code]


@pytest.mark.parametrize(
    ("query", "first"),
    [("TCP_TIMOUT", "TCP_TIMEOUT"), ("dns_servfial", "DNS_SERVFAIL"), ("timeout", "TCP_TIMEOUT")],
)
def test_explain_an_unknown_code_suggests_the_closest(
    query: str, first: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["explain", query]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"vpc-verify: error: unknown finding code {query!r}; did you mean {first}")
    assert "Traceback" not in err


def test_explain_nothing_close(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["explain", "QQQQ"]) == 2
    err = capsys.readouterr().err
    assert "unknown finding code 'QQQQ'" in err and "did you mean" not in err


@pytest.mark.parametrize("name", ["topology", "report", "diagnosis"])
def test_schema_command_prints_the_docs_file(name: str, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["schema", name]) == 0
    text = capsys.readouterr().out
    assert text == (ROOT / "docs" / "schema" / f"{name}.json").read_text(encoding="utf-8")
    schema = json.loads(text)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert cli.main(["schema", name, "-o", str(tmp_path / "s.json")]) == 0
    assert (tmp_path / "s.json").read_text(encoding="utf-8") == text


def test_schema_command_unwritable_output(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert cli.main(["schema", "topology", "-o", str(tmp_path / "no" / "such" / "dir.json")]) == 2
    assert capsys.readouterr().err.startswith("vpc-verify: error: --output: cannot write")


def test_version_is_the_distributions(capsys: pytest.CaptureFixture[str]) -> None:
    from importlib.metadata import version

    import vpc_verify

    assert vpc_verify.__version__ == version("vpc-verify")
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out == f"vpc-verify {version('vpc-verify')}\n"


# ----------------------------------------------------------------------------- the report schema rejects


def _report() -> dict[str, Any]:
    return synthetic_report().to_dict()


def test_a_report_validates_strictly_and_openly() -> None:
    doc = _report()
    check(doc)
    jsonschema.validate(doc, schemas.report())


def _strict_errors(doc: dict[str, Any]) -> list[str]:
    try:
        check(doc)
    except AssertionError as exc:
        return str(exc).splitlines()[1:]
    return []


def test_an_undocumented_evidence_key_fails_the_strict_schema_only() -> None:
    doc = _report()
    finding = next(f for f in doc["findings"] if f["code"] == "TCP_TIMEOUT")
    finding["evidence"]["surprise"] = 1
    assert any("surprise" in line for line in _strict_errors(doc))
    jsonschema.validate(doc, schemas.report())  # consumers accept keys added later


def test_an_undocumented_report_key_fails_the_strict_schema_only() -> None:
    doc = _report()
    doc["endpoints"][0]["addresses"][0]["jitter_ms"] = 1.0
    assert any("jitter_ms" in line for line in _strict_errors(doc))
    jsonschema.validate(doc, schemas.report())


def test_a_wrong_severity_or_unknown_code_fails_both() -> None:
    for mutate in (
        lambda f: f.update(severity="warning"),  # TCP_TIMEOUT is an error
        lambda f: f.update(code="TCP_TIMED_OUT"),
    ):
        doc = _report()
        mutate(next(f for f in doc["findings"] if f["code"] == "TCP_TIMEOUT"))
        assert _strict_errors(doc)
        with pytest.raises(jsonschema.ValidationError):
            jsonschema.validate(doc, schemas.report())


def test_every_code_validates_with_its_documented_evidence() -> None:
    doc = _report()
    for code, info in CATALOGUE.items():
        f = Finding.make(code, "sqs", "m", evidence=dict.fromkeys(info.evidence, None)).to_dict()
        one = copy.deepcopy(doc)
        one["findings"] = [f]
        assert not _strict_errors(one), code


# ------------------------------------------------------------------------ the docs' JSON examples validate


def _json_examples() -> list[tuple[str, Any]]:
    out = []
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]:
        for block in re.findall(r"```json\n(.*?)```", path.read_text(encoding="utf-8"), flags=re.S):
            out.append((str(path.relative_to(ROOT)), json.loads(block)))
    return out


def _kind(doc: Any) -> str | None:
    if not isinstance(doc, dict):
        return None
    if "endpoints" in doc and "findings" in doc:
        return "report"
    if "zones" in doc and "next_steps" in doc:
        return "diagnosis"
    if "code" in doc and "evidence" in doc:
        return "finding"
    if "network_interfaces" in doc and "vpc_endpoint_id" in doc:
        return "aws"
    return None


def test_json_examples_in_the_docs_validate() -> None:
    strict = schemas.report(strict=True)
    kinds = []
    for where, doc in _json_examples():
        kind = _kind(doc)
        if kind in ("report", "diagnosis"):
            check(doc, kind)
        elif kind is not None:
            sub = {"$schema": strict["$schema"], "$defs": strict["$defs"], "$ref": f"#/$defs/{kind}"}
            errors = [e.message for e in jsonschema.Draft202012Validator(sub).iter_errors(doc)]
            assert not errors, (where, errors)
        kinds.append((where, kind))
    assert {k for w, k in kinds if w == "docs/report.md"} >= {"report", "finding", "aws"}


def test_every_testbed_fault_is_documented() -> None:
    from tests.testbed.spec import FAULTS

    text = (ROOT / "docs" / "testbed.md").read_text(encoding="utf-8")
    for fault, codes in FAULTS.items():
        row = next((line for line in text.splitlines() if line.startswith(f"| `{fault}` |")), None)
        assert row is not None, f"docs/testbed.md has no row for the fault {fault}"
        assert all(f"`{code}`" in row for code in codes), row


def _slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_relative_links_resolve() -> None:
    pages = [ROOT / "README.md", ROOT / "CHANGELOG.md", *sorted((ROOT / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        text = re.sub(r"```.*?```", "", page.read_text(encoding="utf-8"), flags=re.S)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            dest = (page.parent / path).resolve() if path else page
            if not dest.exists():
                broken.append(f"{page.relative_to(ROOT)}: {target}")
            elif anchor and dest.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", dest.read_text(encoding="utf-8"), flags=re.M)
                if anchor not in {_slug(h) for h in headings}:
                    broken.append(f"{page.relative_to(ROOT)}: {target} (no such heading)")
    assert not broken, broken


def test_tests_that_read_json_reports_validate_them() -> None:
    """A test that asks for a JSON report or diagnosis reads it through tests/schemas.py."""
    unchecked = []
    for path in sorted((ROOT / "tests").rglob("test_*.py")):
        text = path.read_text(encoding="utf-8")
        asks = re.search(r'"--format",\s*"json"', text) or re.search(r'"--output",', text)
        if asks and "from tests.schemas import" not in text:
            unchecked.append(str(path.relative_to(ROOT)))
    assert not unchecked, f"route their json.loads through tests.schemas.load_report/load_diagnosis: {unchecked}"
