"""Patches that make moto's VPC endpoints look like AWS's (applied by tests/testbed/emulator_server.py, in the child).

moto 5.2.5 is kinder than AWS, or different, in ways a verification tool must not learn from:

* An interface endpoint's ENIs get a random 10.x address whatever their subnet. Here each ENI gets a free address of
  its own subnet (not the first four nor the last: AWS reserves them), and, for `IpAddressType` dualstack or ipv6, an
  address of the subnet's IPv6 /64; an ipv6 endpoint's ENIs have no IPv4 address. The ENIs carry the endpoint's
  security groups and AWS's description ("VPC Endpoint Interface vpce-...").
* DnsEntries read `vpce-<id>-<suffix>.com.amazonaws.<region>.<svc>`. Here they are AWS's: the regional name
  `vpce-<id>-<suffix>.<base>`, one zonal name `vpce-<id>-<suffix>-<az>.<base>` per AZ (base: the service's
  BaseEndpointDnsNames, e.g. `sqs.us-east-1.vpce.amazonaws.com`), and, with private DNS on, the service's private
  names (S3's endpoint names are wildcards: `*.vpce-<id>-<suffix>.s3.<region>.vpce.amazonaws.com`). Sources: the
  PrivateLink guides' describe-vpc-endpoints examples, the S3 PrivateLink guide (bucket.vpce-...s3.<r>.vpce names).
* CreateVpcEndpoint's `IpAddressType` and `DnsOptions` (DnsRecordIpType, PrivateDnsOnlyForInboundResolverEndpoint)
  are dropped. Here they are kept and returned. As on AWS (EC2 API DnsOptionsSpecification), DnsRecordIpType
  defaults to the IpAddressType, and PrivateDnsOnlyForInboundResolverEndpoint needs a gateway endpoint of the same
  service in the VPC.
* CreateNetworkInterface without an address picks a random one of the subnet, even one already in use or one AWS
  reserves. Here it is a free one (a Lambda function's Hyperplane ENI must not take an endpoint ENI's address).
* Every endpoint is `available`. Here `set_state` (the launcher's test-only route) sets pending, pendingAcceptance,
  failed (with LastError), rejected, expired, deleting, deleted, partial, and the creation time.
* DescribeVpcEndpointServices gives `execute-api.<r>.amazonaws.com` where AWS gives the wildcard
  `*.execute-api.<r>.amazonaws.com` (whose apex has no record), gives gateway services a private DNS name (AWS gives
  none, and the public name as BaseEndpointDnsNames: the AWS CLI's describe-vpc-endpoint-services example), and
  lacks some services. `CATALOGUE` is what AWS returns for the interface services the tests use (API Gateway private
  APIs guide; ECR and Kinesis interface endpoint guides; SageMaker and CodeArtifact VPC endpoint guides; a public
  DescribeVpcEndpointServices dump for ecr.dkr). S3's interface service carries no private DNS name there (the AWS
  CLI example), while an S3 interface endpoint with private DNS answers `s3.<r>` and the wildcard `*.s3.<r>` (the S3
  PrivateLink guide): those are its DnsEntries. Not verified against a live account: the order of S3's two names.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import random
import string
from collections.abc import Callable
from typing import Any

ACCOUNT = "123456789012"  # moto's default account
ENDPOINT_STATES = (
    "pendingAcceptance",
    "pending",
    "available",
    "deleting",
    "deleted",
    "rejected",
    "failed",
    "expired",
    "partial",
)
IP_ADDRESS_TYPES = ("ipv4", "dualstack", "ipv6")
DNS_RECORD_IP_TYPES = ("ipv4", "dualstack", "ipv6", "service-defined")
# The Route 53 zone of <region>.vpce.amazonaws.com, as DescribeVpcEndpoints shows it (us-east-1's in the EC2 guide).
VPCE_ZONE_IDS = {"us-east-1": "Z7HUB22UULQXV"}

# service suffix -> (private DNS names, base endpoint DNS names), "{r}" is the region. Interface endpoints only.
# ENDPOINT_PRIVATE_NAMES: names an endpoint's private DNS answers where the service lists none (S3).
ENDPOINT_PRIVATE_NAMES = {"s3": ("s3.{r}.amazonaws.com", "*.s3.{r}.amazonaws.com")}
CATALOGUE: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "ecr.dkr": (("*.dkr.ecr.{r}.amazonaws.com",), ("dkr.ecr.{r}.vpce.amazonaws.com",)),
    "ecr.api": (("api.ecr.{r}.amazonaws.com",), ("api.ecr.{r}.vpce.amazonaws.com",)),
    "execute-api": (("*.execute-api.{r}.amazonaws.com",), ("execute-api.{r}.vpce.amazonaws.com",)),
    "kinesis-streams": (("kinesis.{r}.amazonaws.com",), ("kinesis.{r}.vpce.amazonaws.com",)),
    "kinesis-firehose": (("firehose.{r}.amazonaws.com",), ("firehose.{r}.vpce.amazonaws.com",)),
    "s3": ((), ("s3.{r}.vpce.amazonaws.com",)),
    "sqs": (("sqs.{r}.amazonaws.com",), ("sqs.{r}.vpce.amazonaws.com",)),
    "kms": (("kms.{r}.amazonaws.com",), ("kms.{r}.vpce.amazonaws.com",)),
    "sts": (("sts.{r}.amazonaws.com",), ("sts.{r}.vpce.amazonaws.com",)),
    "ssm": (("ssm.{r}.amazonaws.com",), ("ssm.{r}.vpce.amazonaws.com",)),
    "logs": (("logs.{r}.amazonaws.com",), ("logs.{r}.vpce.amazonaws.com",)),
    "sagemaker.runtime": (("runtime.sagemaker.{r}.amazonaws.com",), ("runtime.sagemaker.{r}.vpce.amazonaws.com",)),
    "sagemaker.api": (("api.sagemaker.{r}.amazonaws.com",), ("api.sagemaker.{r}.vpce.amazonaws.com",)),
    "codeartifact.api": (("codeartifact.{r}.amazonaws.com",), ("codeartifact.{r}.vpce.amazonaws.com",)),
    "codeartifact.repositories": (("*.d.codeartifact.{r}.amazonaws.com",), ("d.codeartifact.{r}.vpce.amazonaws.com",)),
}


class PatchError(ValueError):
    """A request the patched emulator refuses as AWS would (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def service_suffix(service_name: str) -> str:
    """`com.amazonaws.us-east-1.ecr.dkr` -> `ecr.dkr`."""
    parts = service_name.split(".")
    return ".".join(parts[3:]) if len(parts) > 3 else service_name


def catalogue_entry(service_name: str, region: str) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(private DNS names, base endpoint DNS names) of an AWS service in CATALOGUE, else None."""
    entry = CATALOGUE.get(service_suffix(service_name))
    if entry is None or not service_name.startswith(f"com.amazonaws.{region}."):
        return None
    private, base = entry
    return tuple(n.format(r=region) for n in private), tuple(n.format(r=region) for n in base)


def _random_suffix(n: int = 8) -> str:
    return "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(n))


# ---------------------------------------------------------------------------------------------- the catalogue


def curated_services(original: list[dict[str, Any]], region: str) -> list[dict[str, Any]]:
    """moto's default endpoint services with CATALOGUE's names for interface services, and the missing ones added."""
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    for service in original:
        service = dict(service)
        types = {t.get("ServiceType") for t in service.get("ServiceType") or []}
        entry = catalogue_entry(service["ServiceName"], region)
        if entry is not None and "Interface" in types:
            seen.add(service["ServiceName"])
            _name(service, *entry)
        elif "Gateway" in types:
            _name(service, (), (f"{service_suffix(service['ServiceName'])}.{region}.amazonaws.com",))
        out.append(service)
    zones = next((s.get("AvailabilityZones") for s in original if s.get("AvailabilityZones")), [])
    for suffix in CATALOGUE:
        name = f"com.amazonaws.{region}.{suffix}"
        if name in seen:
            continue
        service = {
            "AcceptanceRequired": False,
            "AvailabilityZones": list(zones),
            "ManagesVpcEndpoints": False,
            "Owner": "amazon",
            "ServiceId": f"vpce-svc-{_random_suffix(17)}",
            "ServiceName": name,
            "ServiceType": [{"ServiceType": "Interface"}],
            "Tags": [],
            "VpcEndpointPolicySupported": True,
        }
        _name(service, *(catalogue_entry(name, region) or ((), ())))
        out.append(service)
    return out


def _name(service: dict[str, Any], private: tuple[str, ...], base: tuple[str, ...]) -> None:
    service["BaseEndpointDnsNames"] = list(base)
    for key in ("PrivateDnsName", "PrivateDnsNames", "PrivateDnsNameVerificationState"):
        service.pop(key, None)
    if private:
        service["PrivateDnsName"] = private[0]
        service["PrivateDnsNames"] = [{"PrivateDnsName": n} for n in private]
        service["PrivateDnsNameVerificationState"] = "verified"


def service_names_of(backend: Any, service_name: str, region: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(private DNS names, base endpoint DNS names) of an interface service as DescribeVpcEndpointServices says."""
    entry = catalogue_entry(service_name, region)
    if entry is not None:
        return entry
    for service in backend._collect_default_endpoint_services(backend.account_id, region):
        types = {t.get("ServiceType") for t in service.get("ServiceType") or []}
        if service["ServiceName"] == service_name and "Interface" in types:
            private = tuple(p["PrivateDnsName"] for p in service.get("PrivateDnsNames") or [])
            return private, tuple(service.get("BaseEndpointDnsNames") or [])
    suffix = service_suffix(service_name)
    return (), (f"{suffix}.{region}.vpce.amazonaws.com",)


# ------------------------------------------------------------------------------------------- the endpoints


def _free_ipv4(subnet: Any, eni: Any) -> str:
    network = ipaddress.ip_network(subnet.cidr_block)
    first, last = int(network.network_address) + 4, int(network.broadcast_address) - 1  # AWS reserves 5
    used = set(subnet._subnet_ips)
    for _ in range(1000):
        candidate = str(ipaddress.ip_address(random.randint(first, last)))
        if candidate not in used:
            subnet.request_ip(candidate, eni)
            return candidate
    raise PatchError("InsufficientFreeAddressesInSubnet", f"no free address in {subnet.id}")


def _ipv6_block(subnet: Any) -> str | None:
    for association in subnet.ipv6_cidr_block_associations.values():
        if (association.get("ipv6CidrBlockState") or {}).get("State", "associated") == "associated":
            return str(association.get("ipv6CidrBlock"))
    return None


def _free_ipv6(block: str, taken: set[str]) -> str:
    network = ipaddress.ip_network(block)
    for _ in range(1000):
        candidate = str(network.network_address + random.randint(4, 2**32))  # low host bits, as AWS assigns them
        if candidate not in taken:
            return candidate
    raise PatchError("InsufficientFreeAddressesInSubnet", f"no free IPv6 address in {block}")


def _parse_dns_options(raw: Any, ip_address_type: str) -> dict[str, Any]:
    raw = raw if isinstance(raw, dict) else {}
    record = str(raw.get("DnsRecordIpType") or ip_address_type)
    if record not in DNS_RECORD_IP_TYPES:
        raise PatchError("InvalidParameterValue", f"DnsRecordIpType {record!r} is not one of {DNS_RECORD_IP_TYPES}")
    inbound = str(raw.get("PrivateDnsOnlyForInboundResolverEndpoint", "false")).lower() == "true"
    return {"DnsRecordIpType": record, "PrivateDnsOnlyForInboundResolverEndpoint": inbound}


def realize_interface_endpoint(
    backend: Any, endpoint: Any, region: str, ip_address_type: str, dns_options: Any
) -> None:
    """Give a newly created interface endpoint AWS's shape: ENI addresses in their subnets, its groups on its ENIs,
    AWS's DnsEntries, and its IpAddressType and DnsOptions kept."""
    ip_address_type = (ip_address_type or "ipv4").lower()
    if ip_address_type not in IP_ADDRESS_TYPES:
        raise PatchError("InvalidParameterValue", f"IpAddressType {ip_address_type!r} is not one of {IP_ADDRESS_TYPES}")
    options = _parse_dns_options(dns_options, ip_address_type)
    if options["PrivateDnsOnlyForInboundResolverEndpoint"]:
        gateways = [
            e
            for e in backend.vpc_end_points.values()
            if e.vpc_id == endpoint.vpc_id
            and e.service_name == endpoint.service_name
            and str(e.vpc_endpoint_type).lower() == "gateway"
        ]
        if not gateways:
            raise PatchError(
                "InvalidParameter",
                "To set PrivateDnsOnlyForInboundResolverEndpoint to true, the VPC "
                f"{endpoint.vpc_id} must have a Gateway endpoint for the service.",
            )
    groups = [backend.get_security_group_from_id(g) for g in endpoint.security_group_ids]
    taken6: set[str] = set()
    azs: list[str] = []
    for eni_id in endpoint.network_interface_ids:
        eni = backend.get_network_interface(eni_id)
        subnet = eni.subnet
        azs.append(subnet.availability_zone)
        if ip_address_type == "ipv6":
            eni.private_ip_address = None
            eni.private_ip_addresses = []
            eni.private_dns_name = None
        else:
            address = _free_ipv4(subnet, eni)
            eni.private_ip_address = address
            eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
            domain = "ec2.internal" if region == "us-east-1" else f"{region}.compute.internal"
            eni.private_dns_name = f"ip-{address.replace('.', '-')}.{domain}"
            eni.private_ip_addresses[0]["PrivateDnsName"] = eni.private_dns_name
        if ip_address_type in ("dualstack", "ipv6"):
            block = _ipv6_block(subnet)
            if block is None:
                raise PatchError(
                    "InvalidParameter", f"IpAddressType {ip_address_type} needs an IPv6 CIDR on subnet {subnet.id}"
                )
            v6 = _free_ipv6(block, taken6)
            taken6.add(v6)
            eni.ipv6_addresses = [v6]
        if groups:
            eni._group_set = [g for g in groups if g is not None]
        eni.description = f"VPC Endpoint Interface {endpoint.id}"
        eni.interface_type = "vpc_endpoint"
        eni.requester_managed = True

    private, base = service_names_of(backend, endpoint.service_name, region)
    private = private or tuple(
        n.format(r=region) for n in ENDPOINT_PRIVATE_NAMES.get(service_suffix(endpoint.service_name), ())
    )
    suffix = _random_suffix()
    zone_id = VPCE_ZONE_IDS.get(region, "Z" + _random_suffix(12).upper())
    wildcard = "*." if service_suffix(endpoint.service_name) == "s3" else ""
    base_name = base[0] if base else f"{service_suffix(endpoint.service_name)}.{region}.vpce.amazonaws.com"
    entries = [{"DnsName": f"{wildcard}{endpoint.id}-{suffix}.{base_name}", "HostedZoneId": zone_id}]
    for az in sorted(set(azs)):
        entries.append({"DnsName": f"{wildcard}{endpoint.id}-{suffix}-{az}.{base_name}", "HostedZoneId": zone_id})
    if endpoint.private_dns_enabled:
        phz = "Z" + _random_suffix(20).upper()
        entries += [{"DnsName": n, "HostedZoneId": phz} for n in private]
    endpoint.dns_entries = entries
    endpoint.ip_address_type = ip_address_type
    endpoint.dns_options = options


_SHAPED_PARAMS = (
    "VpcEndpointType",
    "IpAddressType",
    "DnsOptions",
    "ResourceConfigurationArn",
    "ServiceNetworkArn",
    "SubnetIds",
)


def _shape(backend: Any, endpoint: Any, region: str, params: dict[str, Any]) -> None:
    """Give a newly created endpoint AWS's shape by its type: interface here, Resource and ServiceNetwork (VPC
    Lattice) in tests/testbed/emulator_lattice.py; raises PatchError where AWS refuses the request."""
    kind = str(params.get("VpcEndpointType") or "").lower()
    if kind in ("resource", "servicenetwork"):
        from tests.testbed import emulator_lattice

        arn = str(params.get("ResourceConfigurationArn") or params.get("ServiceNetworkArn") or "")
        emulator_lattice.realize_endpoint(backend, endpoint, region, kind, arn, list(params.get("SubnetIds") or []))
    elif str(endpoint.vpc_endpoint_type).lower() == "interface":
        ip_address_type = params.get("IpAddressType") or "ipv4"
        realize_interface_endpoint(backend, endpoint, region, ip_address_type, params.get("DnsOptions"))


def set_state(
    backend: Any,
    vpce_id: str,
    *,
    state: str | None = None,
    last_error: dict[str, str] | None = None,
    created_seconds_ago: float | None = None,
    private_dns_enabled: bool | None = None,
) -> dict[str, Any]:
    """The test-only hook: set an endpoint's state (with LastError for failed), creation time or private DNS."""
    endpoint = backend.vpc_end_points.get(vpce_id)
    if endpoint is None:
        raise PatchError("InvalidVpcEndpointId.NotFound", f"The VpcEndpoint Id '{vpce_id}' does not exist")
    if state is not None:
        if state not in ENDPOINT_STATES:
            raise PatchError("InvalidParameterValue", f"state {state!r} is not one of {ENDPOINT_STATES}")
        endpoint.state = state
    if last_error is not None:
        if set(last_error) - {"Code", "Message"}:
            raise PatchError("InvalidParameterValue", "LastError takes Code and Message")
        endpoint.last_error = dict(last_error)
    elif state is not None and state != "failed":
        endpoint.last_error = None
    if created_seconds_ago is not None:
        endpoint.creation_timestamp = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(
            seconds=created_seconds_ago
        )
    if private_dns_enabled is not None:
        endpoint.private_dns_enabled = private_dns_enabled
    return {"VpcEndpointId": vpce_id, "State": endpoint.state}


# ------------------------------------------------------------------------------------------------ patching


def apply() -> None:
    """Patch moto's EC2 model and responses (idempotent)."""
    from moto.ec2.exceptions import EC2ClientError
    from moto.ec2.models.vpcs import VPCBackend, VPCEndPoint
    from moto.ec2.responses.vpcs import VPCs

    if getattr(VPCs, "_vpcbox_patched", False):
        return
    VPCEndPoint.ip_address_type = "ipv4"
    VPCEndPoint.dns_options = None
    VPCEndPoint.last_error = None
    VPCEndPoint.resource_configuration_arn = None
    VPCEndPoint.service_network_arn = None
    VPCEndPoint.ipv4_prefixes = None

    original_collect: Callable[[str, str], list[dict[str, Any]]] = VPCBackend._collect_default_endpoint_services

    curated: dict[tuple[int, str], list[dict[str, Any]]] = {}

    def collect(account_id: str, region: str) -> list[dict[str, Any]]:
        original = original_collect(account_id, region)  # moto's own list, built once per region
        key = (id(original), region)
        if key not in curated:
            curated[key] = curated_services(original, region)
        return curated[key]

    VPCBackend._collect_default_endpoint_services = staticmethod(collect)  # type: ignore[method-assign,assignment]

    original_create = VPCs.create_vpc_endpoint

    def create_vpc_endpoint(self: Any) -> Any:
        refused = partner_refusal(
            self.ec2_backend,
            str(self._get_param("ServiceName") or ""),
            self._get_bool_param("PrivateDnsEnabled", if_none=True),
        )
        if refused is not None:
            raise EC2ClientError(refused.code, refused.message)
        params = {k: self._get_param(k) for k in _SHAPED_PARAMS}
        result = original_create(self)
        endpoint = result.result["VpcEndpoint"]
        try:
            _shape(self.ec2_backend, endpoint, self.region, params)
        except PatchError as exc:  # refused as AWS refuses it: nothing is left behind
            self.ec2_backend.vpc_end_points.pop(endpoint.id, None)
            for eni_id in endpoint.network_interface_ids:
                self.ec2_backend.delete_network_interface(eni_id)
            raise EC2ClientError(exc.code, exc.message) from None
        return result

    VPCs.create_vpc_endpoint = create_vpc_endpoint  # type: ignore[method-assign]

    from moto.ec2.responses.elastic_network_interfaces import ElasticNetworkInterfaces

    original_eni = ElasticNetworkInterfaces.create_network_interface

    def create_network_interface(self: Any) -> Any:
        chosen = self._get_param("PrivateIpAddress") or self._get_param("PrivateIpAddresses")
        result = original_eni(self)
        eni = result.result["NetworkInterface"]
        if not chosen and eni.subnet is not None:
            try:
                address = _free_ipv4(eni.subnet, eni)
            except PatchError as exc:
                raise EC2ClientError(exc.code, exc.message) from None
            eni.private_ip_address = address
            eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
        return result

    ElasticNetworkInterfaces.create_network_interface = create_network_interface  # type: ignore[method-assign]

    _default_acl_takes_ipv6(VPCBackend)
    _partner_services_are_verified_first()
    VPCs._vpcbox_patched = True  # type: ignore[attr-defined]


VERIFICATION_STATES = ("pendingVerification", "verified", "failed")


def _partner_services_are_verified_first() -> None:
    """An endpoint service's private DNS name starts `pendingVerification` and is `verified` only once its provider
    proved the domain (a TXT record; StartVpcEndpointServicePrivateDnsVerification): DescribeVpcEndpointServices says
    which in PrivateDnsNameVerificationState, and CreateVpcEndpoint refuses private DNS until then (PrivateLink guide,
    "Manage DNS names for VPC endpoint services"). moto gives neither: every name verified, no state."""
    from moto.ec2.models.vpc_service_configuration import VPCServiceConfiguration

    original_to_dict = VPCServiceConfiguration.to_dict

    def to_dict(self: Any) -> dict[str, Any]:
        out = dict(original_to_dict(self))
        if self.private_dns_name:
            out["PrivateDnsNameVerificationState"] = verification_state(self)
        else:
            out.pop("PrivateDnsName", None)
            out.pop("PrivateDnsNames", None)
        return out

    def private_dns_name_configuration(self: Any) -> dict[str, str]:
        if not self.private_dns_name:
            return {}
        name = f"_{self.id[-8:]}.{self.private_dns_name}"
        return {"State": verification_state(self), "Type": "TXT", "Value": f"vpce:{self.id}", "Name": name}

    VPCServiceConfiguration.to_dict = to_dict  # type: ignore[method-assign]
    VPCServiceConfiguration.private_dns_name_configuration = property(private_dns_name_configuration)  # type: ignore[assignment,method-assign]


def verification_state(config: Any) -> str:
    """The private DNS name's verification state of an endpoint service configuration (pendingVerification until
    the test-only hook says otherwise)."""
    return str(getattr(config, "_vpcbox_verification", "pendingVerification"))


def partner_refusal(backend: Any, service_name: str, private_dns: bool) -> PatchError | None:
    """AWS's refusal of private DNS on an endpoint to a service whose private DNS name is not verified."""
    if not private_dns:
        return None
    for config in getattr(backend, "configurations", {}).values():
        if config.service_name == service_name and config.private_dns_name and verification_state(config) != "verified":
            return PatchError(
                "InvalidParameter",
                f"Private DNS can't be enabled because the service {service_name} has not verified the private DNS "
                "name.",
            )
    return None


def set_verification(backend: Any, service_id: str, state: str) -> dict[str, Any]:
    """The test-only hook: the verification state of an endpoint service's private DNS name."""
    config = getattr(backend, "configurations", {}).get(service_id)
    if config is None:
        raise PatchError(
            "InvalidVpcEndpointServiceId.NotFound", f"The Vpc Endpoint Service Id '{service_id}' does not exist"
        )
    if state not in VERIFICATION_STATES:
        raise PatchError("InvalidParameterValue", f"state {state!r} is not one of {VERIFICATION_STATES}")
    config._vpcbox_verification = state
    return {"ServiceId": service_id, "PrivateDnsNameVerificationState": state}


def _default_acl_takes_ipv6(VPCBackend: Any) -> None:
    original_associate = VPCBackend.associate_vpc_cidr_block

    def associate_vpc_cidr_block(self: Any, vpc_id: str, cidr_block: str, amazon_provided: bool) -> Any:
        # AWS (VPC user guide, "Default network ACL"): associating an IPv6 block adds rule 101, all IPv6
        # traffic allowed, both ways, to the default network ACL unless its rules were changed. moto adds none,
        # so every IPv6 path would read "denied by the ACL's final rule".
        association = original_associate(self, vpc_id, cidr_block, amazon_provided)
        block = association.get("cidr_block", "") if isinstance(association, dict) else ""
        if ":" in str(block) or amazon_provided:
            for acl in list(self.network_acls.values()):
                if acl.vpc_id != vpc_id or not acl.default:
                    continue
                if any(int(e.rule_number) == 101 for e in acl.network_acl_entries):
                    continue
                for egress in (True, False):
                    self.create_network_acl_entry(
                        network_acl_id=acl.id,
                        rule_number=101,
                        protocol="-1",
                        rule_action="allow",
                        egress=egress,
                        cidr_block=None,
                        icmp_code=None,
                        icmp_type=None,
                        port_range_from=None,
                        port_range_to=None,
                        ipv6_cidr_block="::/0",
                    )
        return association

    VPCBackend.associate_vpc_cidr_block = associate_vpc_cidr_block  # type: ignore[method-assign]
