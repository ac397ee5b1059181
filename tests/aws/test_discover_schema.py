"""`discover -o FILE` writes the topology with its schema line, and the schema beside it, for editors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from tests.testbed import aws_seed
from vpc_verify import cli
from vpc_verify.reference import schemas


def test_discover_writes_the_schema_beside_the_topology(ec2: Any, tmp_path: Path, capsys: Any) -> None:
    facts = aws_seed.seed(ec2)
    topo = tmp_path / "topology.yaml"
    (tmp_path / "topology.schema.json").write_text("{}\n")  # an old schema is replaced
    assert cli.main(["discover", "--vpc-id", facts.vpc_id, "-o", str(topo)]) == 0
    text = topo.read_text()
    assert text.startswith("# yaml-language-server: $schema=topology.schema.json\n")
    schema = json.loads((tmp_path / "topology.schema.json").read_text())
    assert schema == schemas.topology()
    jsonschema.validate(yaml.safe_load(text), schema)
    assert cli.main(["validate", "-q", str(topo)]) == 0

    capsys.readouterr()
    assert cli.main(["discover", "--vpc-id", facts.vpc_id]) == 0  # to stdout: the same first line
    assert capsys.readouterr().out.splitlines()[0] == "# yaml-language-server: $schema=topology.schema.json"
