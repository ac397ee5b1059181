"""Flow logs as evidence (`check --evidence flowlogs`): say when none covers an endpoint's network interfaces,
so a failed probe's "no record" is read for what it is. The records themselves are joined to the probes'
findings by the connect rule (vpc_verify.judge.rules.probes, through vpc_verify.judge.flows)."""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify.findings import Code, Finding
from vpc_verify.judge.facts import EndpointFacts
from vpc_verify.judge.rule import endpoint_rule


@endpoint_rule(Code.FLOW_LOGS_NOT_COVERED)
def coverage(facts: EndpointFacts) -> Iterator[Finding]:
    """The endpoint's ENIs that no CloudWatch Logs flow log covers (an S3 one is named, not read)."""
    flows, side = facts.flows, facts.aws
    if flows is None or flows.error or side is None or side.vpce is None or side.vpce.type == "gateway":
        return
    uncovered, s3 = [], set()
    for eni in side.enis:
        covering = flows.covering(eni.id, eni.subnet_id)
        if not any(f.readable for f in covering):
            uncovered.append(eni.id)
            s3 |= {f.destination for f in covering if f.destination_type == "s3"}
    if not uncovered:
        return
    vpce = side.vpce
    also = f" (only S3: {', '.join(sorted(s3))}, not read)" if s3 else ""
    yield Finding.make(
        Code.FLOW_LOGS_NOT_COVERED,
        facts.name,
        f"no CloudWatch Logs flow log covers {', '.join(uncovered)} of {vpce.id}{also}: a failed probe cannot be "
        "traced to where it was dropped",
        evidence={
            "vpc_endpoint_id": vpce.id,
            "network_interfaces": uncovered,
            "flow_logs": [f.to_dict() for f in flows.flow_logs],
            "s3_destinations": sorted(s3),
        },
        hint=f"aws ec2 create-flow-logs --resource-type VPC --resource-ids {side.state.vpc_id} --traffic-type ALL "
        "--log-destination-type cloud-watch-logs --log-group-name <group> --deliver-logs-permission-arn <role>",
    )
