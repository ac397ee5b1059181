"""The reference artefacts generated from the code: the finding-code reference and the JSON Schemas.

`findings_doc` renders `vpc_verify.findings.CATALOGUE` (docs/findings.md, `vpc-verify explain`); `schemas`
builds the JSON Schemas of the topology file, the JSON report and the diagnosis (docs/schema/*.json,
`vpc-verify schema`). Both are pure; `python -m vpc_verify.reference` writes the files into docs/, and a test
fails when a checked-in file differs from what `artefacts()` gives.
"""

from __future__ import annotations


def artefacts() -> dict[str, str]:
    """Every generated file of the repository: its path (relative to the repository root) and its text."""
    from vpc_verify.reference import findings_doc, schemas

    out = {"docs/findings.md": findings_doc.markdown()}
    for name, build in schemas.SCHEMAS.items():
        out[f"docs/schema/{name}.json"] = schemas.dumps(build())
    return out
