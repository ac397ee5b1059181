"""VPC Lattice facts a Resource endpoint needs: its resource configuration's TCP port ranges (vpc-lattice
GetResourceConfiguration `portRanges`, e.g. ["443"], ["1-65535"], ["22-30"]). DescribeVpcEndpoints names the
configuration (ResourceConfigurationArn) but not its ports, which decide the port worth probing. A configuration that
cannot be read (denied, shared from another account, the API unreachable) is recorded with why: its ports are
unknown, not wrong. Read-only; no finding here.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from vpc_verify.aws.errors import AwsAccessDenied, AwsError, calling
from vpc_verify.aws.model import ResourceConfiguration, VpcState


def resource_configuration_arns(state: VpcState) -> list[str]:
    """The ARNs of the resource configurations the VPC's Resource endpoints connect to."""
    return sorted({e.resource_configuration_arn for e in state.endpoints if e.resource_configuration_arn})


def port_ranges(values: Iterable[object]) -> tuple[tuple[int, int], ...]:
    """["443", "22-30", "1,2"] -> ((443, 443), (22, 30), (1, 1), (2, 2)); what is not a port or a range is left out."""
    out: list[tuple[int, int]] = []
    for value in values:
        for part in str(value).split(","):
            low, _, high = part.strip().partition("-")
            try:
                pair = (int(low), int(high or low))
            except ValueError:
                continue
            if 1 <= pair[0] <= pair[1] <= 65535:
                out.append(pair)
    return tuple(sorted(set(out)))


def parse(answer: Mapping[str, Any], arn: str) -> ResourceConfiguration:
    """A GetResourceConfiguration answer as a ResourceConfiguration."""
    return ResourceConfiguration(
        arn=str(answer.get("arn") or arn),
        id=str(answer.get("id") or arn.rsplit("/", 1)[-1]),
        name=str(answer.get("name") or ""),
        port_ranges=port_ranges(answer.get("portRanges") or ()),
        protocol=str(answer.get("protocol") or ""),
        custom_domain_name=str(answer.get("customDomainName") or ""),
    )


ACTION = "vpc-lattice:GetResourceConfiguration"


def read(client: Any, arns: Iterable[str]) -> tuple[dict[str, ResourceConfiguration], dict[str, AwsError]]:
    """Each resource configuration by ARN, and for each that could not be read, why."""
    found: dict[str, ResourceConfiguration] = {}
    errors: dict[str, AwsError] = {}
    for arn in arns:
        try:
            with calling("vpc-lattice", "GetResourceConfiguration"):
                answer = client.get_resource_configuration(resourceConfigurationIdentifier=arn)
        except AwsError as exc:  # one configuration's failure leaves the others (and the run) standing
            errors[arn] = exc
            continue
        found[arn] = parse(answer, arn)
    return found, errors


def with_resource_configurations(client: Any | None, state: VpcState, *, why_not: str = "") -> VpcState:
    """The state with its Resource endpoints' configurations (`client` None: each recorded as unread, `why_not`)."""
    arns = resource_configuration_arns(state)
    if not arns:
        return state
    if client is None:
        reason = why_not or "the VPC Lattice API was not read"
        return replace(state, resource_configuration_errors=dict.fromkeys(arns, reason))
    found, errors = read(client, arns)
    # A denied read is an optional read the role lacks (AWS_READ_PARTIAL says so); others are said per endpoint.
    denied = (ACTION,) if any(isinstance(e, AwsAccessDenied) for e in errors.values()) else ()
    return replace(
        state,
        resource_configurations=found,
        resource_configuration_errors={arn: str(e) for arn, e in errors.items()},
        unread=(*state.unread, *denied),
    )
