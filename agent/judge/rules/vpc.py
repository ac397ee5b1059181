"""The VPC as a whole: its DNS attributes, endpoints the topology does not list, and whether AWS could be read."""

from __future__ import annotations

from collections.abc import Iterator

from vpc_verify.findings import Code, Finding
from vpc_verify.judge import hints
from vpc_verify.judge.facts import RUN, RunFacts
from vpc_verify.judge.rule import run_rule


@run_rule(Code.VPC_DNS_SUPPORT_DISABLED, Code.VPC_DNS_HOSTNAMES_DISABLED)
def dns_attributes(facts: RunFacts) -> Iterator[Finding]:
    """enableDnsSupport and enableDnsHostnames, which private DNS needs both of."""
    if facts.aws is None:
        return
    state = facts.aws.state
    vpc = state.vpc_id
    evidence = {"vpc_id": vpc, "enableDnsSupport": state.dns_support, "enableDnsHostnames": state.dns_hostnames}
    if not state.dns_support:
        yield Finding.make(
            Code.VPC_DNS_SUPPORT_DISABLED,
            RUN,
            f"{vpc} has enableDnsSupport off: the VPC resolver does not answer, so no private DNS name resolves",
            evidence=evidence,
            hint=hints.enable_vpc_attribute(vpc, "enableDnsSupport"),
        )
    if not state.dns_hostnames:
        yield Finding.make(
            Code.VPC_DNS_HOSTNAMES_DISABLED,
            RUN,
            f"{vpc} has enableDnsHostnames off: interface endpoints' private DNS names cannot take effect",
            evidence=evidence,
            hint=hints.enable_vpc_attribute(vpc, "enableDnsHostnames"),
        )


@run_rule(Code.ENDPOINT_UNEXPECTED)
def unexpected_endpoints(facts: RunFacts) -> Iterator[Finding]:
    """Endpoints of the VPC that no topology endpoint matches (not said when only some are checked)."""
    if facts.aws is None or facts.partial:
        return
    vpc = facts.aws.state.vpc_id
    for e in facts.unmatched():
        yield Finding.make(
            Code.ENDPOINT_UNEXPECTED,
            RUN,
            f"{vpc} has {e.type} endpoint {e.id} for {e.service}, which the topology does not list",
            evidence={
                "vpc_endpoint_id": e.id,
                "service": e.service,
                "type": e.type,
                "state": e.state,
                "topology": facts.topology.source,
            },
            hint=f"Add {e.service} to the topology (`vpc-verify discover --vpc-id {vpc}`), or delete {e.id} if "
            f"nothing uses it: aws ec2 delete-vpc-endpoints --vpc-endpoint-ids {e.id}",
        )


@run_rule(Code.AWS_API_ERROR, Code.AWS_API_UNREACHABLE)
def control_plane_unread(facts: RunFacts) -> Iterator[Finding]:
    """The control plane could not be read: no route to the EC2 API (a warning: the data plane stands and a
    VPC without an ec2 endpoint or NAT is not broken), or a call that failed or was not answered in time."""
    from vpc_verify.aws.errors import AwsError, AwsUnreachable

    vpc = facts.topology.vpc.id
    if facts.aws_timed_out:
        yield Finding.make(
            Code.AWS_API_ERROR,
            RUN,
            f"the AWS control plane of {vpc} was not read before the run's deadline",
            evidence={"vpc_id": vpc, "error": "TimeoutError", "detail": "no answer before the run's deadline"},
        )
        return
    exc = facts.aws_error
    if exc is None:
        return
    if isinstance(exc, AwsUnreachable):
        yield Finding.make(
            Code.AWS_API_UNREACHABLE,
            RUN,
            f"the EC2 API cannot be reached from here, so the control plane of {vpc} was not compared: {exc.detail}",
            evidence={"vpc_id": vpc, "error": exc.code, "detail": exc.detail},
        )
        return
    action = f"{exc.service}:{exc.operation}" if isinstance(exc, AwsError) else None
    yield Finding.make(
        Code.AWS_API_ERROR,
        RUN,
        f"reading the control plane of {vpc} failed: {exc}",
        evidence={"vpc_id": vpc, "error": type(exc).__name__, "detail": str(exc), "action": action},
        hint=exc.remedy() if isinstance(exc, AwsError) and exc.remedy() else None,
    )


@run_rule(Code.AWS_READ_PARTIAL)
def partial_read(facts: RunFacts) -> Iterator[Finding]:
    """Optional reads that were denied: the verdicts that need them are unknown (never a false verdict)."""
    if facts.aws is None or not facts.aws.state.unread:
        return
    actions = list(facts.aws.state.unread)
    vpc = facts.aws.state.vpc_id
    hint = f"Grant the agent's role {', '.join(a.split(' ')[0] for a in actions)} (read-only)."
    if any("unreachable" in a for a in actions):
        hint += " An API unreachable from here needs a route to it (an interface endpoint, a NAT gateway)."
    yield Finding.make(
        Code.AWS_READ_PARTIAL,
        RUN,
        f"the agent may not call {', '.join(actions)}: what they tell about {vpc} (network ACLs, the agent's own "
        "groups, AZ names, the DNS path) is not judged",
        evidence={"vpc_id": vpc, "actions": actions},
        hint=hint,
    )


@run_rule(Code.DNS_PROFILE_UNVERIFIED)
def profile_unverified(facts: RunFacts) -> Iterator[Finding]:
    """The VPC's Route 53 Profile shares private hosted zones (or other DNS resources) that could not be read:
    the answers they give the VPC are unverifiable, not absent."""
    path = facts.aws.state.dns if facts.aws is not None else None
    profile = path.profile if path is not None else None
    if profile is None or (profile.resources is not None and not profile.unreadable):
        return
    vpc = facts.aws.state.vpc_id if facts.aws is not None else facts.topology.vpc.id
    if profile.resources is None:
        what = f"its resources could not be listed ({profile.error})"
    else:
        what = f"its private hosted zones {', '.join(profile.unreadable)} could not be read (another account's?)"
    yield Finding.make(
        Code.DNS_PROFILE_UNVERIFIED,
        RUN,
        f"Route 53 Profile {profile.id} is associated with {vpc}, and {what}: the names its zones answer for the "
        "VPC are unverifiable, not absent",
        evidence={"vpc_id": vpc, **profile.to_dict()},
        hint=f"Let the agent read {profile.id}'s zones (route53:GetHostedZone, route53:ListResourceRecordSets in the "
        "Profile owner's account, or run the check there), or accept that vpc-verify cannot say which zone answers.",
    )
