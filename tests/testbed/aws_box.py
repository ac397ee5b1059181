"""A box that serves a seeded emulator's VPC: the same ENI addresses in DNS and on `lo` as AWS reports.

Used by the three-way tests and the demo: seed the emulator (`aws_seed.seed`), build a Box from
`box_spec(facts)`, run `vpc-verify discover`, and complete the discovered topology with what only the site
knows (`site_topology`: the resolver and the CA bundle).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Any

import yaml

from tests.testbed.aws_seed import SeedFacts
from tests.testbed.box import Box


def box_spec(
    facts: SeedFacts, faults: dict[str, str] | None = None, probe_names: dict[str, str] | None = None
) -> dict[str, Any]:
    """Each interface endpoint's private DNS name -> its ENIs (both families); s3 -> an address of its prefix list;
    each endpoint with its fault from `faults` (by name), if any. A wildcard name (ecr.dkr, execute-api) is served
    as a wildcard; `probe_names` gives the concrete name probed under it (e.g. an API id's name)."""
    faults = faults or {}
    endpoints: list[dict[str, Any]] = []
    for name, f in facts.interfaces.items():
        item: dict[str, Any] = {
            "name": name,
            "service": f.service,
            "dns_name": f.dns_name,
            "addresses": list(f.all_addresses),
            "fault": faults.get(name, "none"),
            "cname": f.regional_name,
        }
        if probe_names and name in probe_names:
            item["probe_name"] = probe_names[name]
        endpoints.append(item)
    if facts.gateway is not None:
        s3_address = str(ipaddress.ip_network(facts.gateway.prefix_list_cidrs[0])[10])
        endpoints.append(
            {
                "name": "s3",
                "type": "gateway",
                "service": facts.gateway.service,
                "addresses": [s3_address],
                "fault": faults.get("s3", "none"),
            }
        )
    # The endpoints' own names (regional, zonal), which answer whatever private DNS is set to.
    regional = {f.regional_name for f in facts.interfaces.values()}
    records = {
        name: addresses for name, addresses in facts.dns_records().items() if ".vpce." in name and name not in regional
    }  # the regional names are the chains' targets
    return {"vpc_cidrs": list(facts.all_cidrs), "endpoints": endpoints, "records": records}


def site_topology(discovered: Path, box: Box, out: Path) -> Path:
    """The discovered topology plus the box's resolver and CA bundle, written to `out`."""
    doc = yaml.safe_load(discovered.read_text())
    site = box.topology()
    doc["resolver"] = site["resolver"]
    doc.setdefault("defaults", {})["tls"] = site["defaults"]["tls"]
    out.write_text(yaml.safe_dump(doc, sort_keys=False))
    return out
