"""AWS Lambda entry points: thin shells over vpc_verify, where the logic lives (one zip, several handlers).

handler.handler           scheduled checks: one run, metrics published (vpc_verify.lambda_entry)
handler.cfn_handler       the Custom::VpcVerify CloudFormation resource (vpc_verify.shells.cfn_resource)
handler.pipeline_handler  a CodePipeline Lambda invoke action (vpc_verify.shells.pipeline_action)
handler.gate_handler      a direct invocation that waits until healthy, e.g. Terraform's aws_lambda_invocation
                          (vpc_verify.shells.gate)
"""

import gc
from typing import Any

# No collection during the imports below: they allocate tens of thousands of objects that live as long as the
# container, and a collection among them (~3 ms of the cold start) finds nothing to free; they are then frozen out
# of the collector's sight. Collections rarer from the start: a run makes a few dozen short-lived objects per
# probe, with few cycles.
gc.disable()
gc.set_threshold(20_000, 50, 100)

from vpc_verify.lambda_entry import handle  # noqa: E402

gc.freeze()
gc.enable()


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Check the VPC's endpoints once and return the summary (see vpc_verify.lambda_entry)."""
    return handle(event, context)


def cfn_handler(event: Any, context: Any) -> dict[str, Any]:
    """Answer a CloudFormation custom resource request (see vpc_verify.shells.cfn_resource)."""
    from vpc_verify.shells import cfn_resource

    return cfn_resource.handle(event, context)


def pipeline_handler(event: Any, context: Any) -> dict[str, Any]:
    """Run a CodePipeline job and report its result (see vpc_verify.shells.pipeline_action)."""
    from vpc_verify.shells import pipeline_action

    return pipeline_action.handle(event, context)


def gate_handler(event: Any, context: Any) -> dict[str, Any]:
    """Wait until the endpoints are healthy or time is up; `healthy` and `reason` say how it went."""
    from vpc_verify.shells import gate

    return gate.handle(event, context)
