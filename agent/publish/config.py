"""How a shell asks for its metrics to be published: the sink's name, the namespace and the buffer's bound.

Built before a run, so kept apart from the sinks, the CloudWatch client and the datums (`sink`, `cloudwatch`,
`metrics`), which are imported when a report is published: not on the way to the first packet.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_NAMESPACE = "VpcVerify"
DEFAULT_BUFFER_CAP = 10_000  # datums kept while CloudWatch is unreachable (the EC2 agent)

SinkName = Literal["none", "emf", "cloudwatch"]
SINK_NAMES: tuple[SinkName, ...] = ("cloudwatch", "emf", "none")


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """How a shell asked for its metrics to be published."""

    name: SinkName = "none"
    namespace: str = DEFAULT_NAMESPACE
    per_address: bool = False
    buffer_cap: int = DEFAULT_BUFFER_CAP  # datums kept while CloudWatch is unreachable (the EC2 agent)
    emf_fallback: bool = False  # what PutMetricData cannot take goes out as EMF lines (the Lambda)
