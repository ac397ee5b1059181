"""`python -m vpc_verify.reference [--check] [--root DIR]`: write (or check) docs/findings.md and docs/schema/*.json.

Run it from the repository after changing the finding catalogue, the report or the topology format:

    bash scripts/setup && .venv/bin/python -m vpc_verify.reference

Exit codes: 0 written (or, with --check, up to date), 1 a file is stale (--check), 2 usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from vpc_verify.reference import artefacts


def main(argv: list[str] | None = None) -> int:
    """Write every generated file under --root, or with --check list those that differ."""
    parser = argparse.ArgumentParser(prog="python -m vpc_verify.reference", description=__doc__.split("\n")[0])
    parser.add_argument("--root", default=".", help="the repository root (default: the current directory)")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is stale")
    args = parser.parse_args(argv)
    root = Path(args.root)
    if not (root / "pyproject.toml").is_file():
        print(f"vpc_verify.reference: {root.resolve()} is not the repository root (no pyproject.toml)", file=sys.stderr)
        return 2
    stale = []
    for rel, text in artefacts().items():
        path = root / rel
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        stale.append(rel)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verb = "stale" if args.check else "written"
    for rel in stale:
        print(f"{verb}: {rel}", file=sys.stderr)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
