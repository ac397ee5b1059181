"""AWS Lambda entry point (`handler.handler`): a thin shell over vpc_verify.lambda_entry, where the logic lives."""

from typing import Any

from vpc_verify.lambda_entry import handle


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Check the VPC's endpoints once and return the summary (see vpc_verify.lambda_entry)."""
    return handle(event, context)
