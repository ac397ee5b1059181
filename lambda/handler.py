"""AWS Lambda entry point (`handler.handler`): a thin shell over agent.lambda_entry, where the logic lives."""

from typing import Any

from agent.lambda_entry import handle


def handler(event: Any, context: Any) -> dict[str, Any]:
    """Check the VPC's endpoints once and return the summary (see agent/lambda_entry.py)."""
    return handle(event, context)
