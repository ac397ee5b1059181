"""VPC Lattice for the emulator: what moto 5.2.5 lacks of Resource and ServiceNetwork endpoints.

* vpc-lattice resource configurations (CreateResourceConfiguration `POST /resourceconfigurations`,
  GetResourceConfiguration `GET /resourceconfigurations/{id or ARN}`): moto has service networks but no resource
  configurations. Kept on moto's vpc-lattice backend (so its reset clears them) with AWS's fields: arn, id, name,
  type (SINGLE), status ACTIVE, portRanges (strings: "443", "1-65535", "22-30"), protocol TCP,
  resourceConfigurationDefinition, customDomainName (VPC Lattice API reference).
* EC2 CreateVpcEndpoint with VpcEndpointType Resource (ResourceConfigurationArn) or ServiceNetwork
  (ServiceNetworkArn): moto takes either for a gateway endpoint (no network interfaces, the ARN dropped). Here the
  endpoint gets one network interface per subnet (an address of the subnet, the endpoint's security groups), keeps
  its ARN, and is described as AWS does: a ServiceNetwork endpoint holds a contiguous /28 per subnet for the
  network's services (its Ipv4Prefixes; PrivateLink guide, "Access a service network through a service-network
  endpoint"), which its names answer from; a Resource endpoint's names answer its interfaces' addresses. DnsEntries:
  `vpce-<id>-snra-<x>.<rcfg-id>.<y>.vpc-lattice-rsc.<region>.on.aws` for a Resource endpoint (the form the
  PrivateLink guide's resource endpoint examples show) and `vpce-<id>-snsa-<x>.<sn-id>.<y>.vpc-lattice-svcs.<region>
  .on.aws` for a ServiceNetwork endpoint. Not verified against a live account: the ServiceNetwork name's form, and
  whether a Resource endpoint also reports Ipv4Prefixes (vpc-verify judges both shapes).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import random
import string
from typing import Any

from tests.testbed import emulator_vpce

LATTICE_TYPES = ("resource", "servicenetwork")


def _rand(n: int, alphabet: str = string.ascii_lowercase + string.digits) -> str:
    return "".join(random.choice(alphabet) for _ in range(n))


def _store(backend: Any) -> dict[str, dict[str, Any]]:
    store = getattr(backend, "_vpcbox_resource_configurations", None)
    if store is None:
        store = {}
        backend._vpcbox_resource_configurations = store
    return store


def _not_found(ident: str) -> Exception:
    from moto.vpclattice.exceptions import ResourceNotFoundException

    return ResourceNotFoundException(f"Resource configuration {ident} not found")


def create_resource_configuration(self: Any) -> str:
    """CreateResourceConfiguration."""
    backend = self.backend
    ident = "rcfg-" + _rand(17, "0123456789abcdef")
    item = {
        "arn": f"arn:aws:vpc-lattice:{self.region}:{self.current_account}:resourceconfiguration/{ident}",
        "id": ident,
        "name": self._get_param("name"),
        "type": self._get_param("type") or "SINGLE",
        "status": "ACTIVE",
        "portRanges": list(self._get_param("portRanges") or ["1-65535"]),
        "protocol": self._get_param("protocol") or "TCP",
        "resourceGatewayId": self._get_param("resourceGatewayIdentifier"),
        "allowAssociationToShareableServiceNetwork": bool(self._get_param("allowAssociationToShareableServiceNetwork")),
        "createdAt": dt.datetime.now(dt.UTC).isoformat(),
    }
    if self._get_param("resourceConfigurationDefinition"):  # a union: absent, or exactly one member
        item["resourceConfigurationDefinition"] = self._get_param("resourceConfigurationDefinition")
    if self._get_param("customDomainName"):
        item["customDomainName"] = self._get_param("customDomainName")
    _store(backend)[ident] = item
    return json.dumps(item)


def get_resource_configuration(self: Any) -> str:
    """GetResourceConfiguration (by id or ARN)."""
    from urllib.parse import unquote

    ident = unquote(self.path).rstrip("/").rsplit("/", 1)[-1]
    item = _store(self.backend).get(ident)
    if item is None:
        raise _not_found(ident)
    return json.dumps(item)


def resource_configuration(account: str, region: str, arn: str) -> dict[str, Any] | None:
    """A resource configuration by ARN (None when it does not exist)."""
    from moto.vpclattice.models import vpclattice_backends

    return _store(vpclattice_backends[account][region]).get(arn.rsplit("/", 1)[-1])


# ------------------------------------------------------------------------------------------- the endpoints


def _free_prefix(subnet: Any) -> ipaddress.IPv4Network:
    """A /28 of the subnet whose 16 addresses are free and none AWS reserves (the first four, the last)."""
    network = ipaddress.ip_network(subnet.cidr_block)
    used = {ipaddress.ip_address(a) for a in subnet._subnet_ips}
    for block in network.subnets(new_prefix=28):
        if block.network_address < network.network_address + 4 or block.broadcast_address >= network.broadcast_address:
            continue
        if not any(a in block for a in used):
            return block
    raise emulator_vpce.PatchError("InsufficientFreeAddressesInSubnet", f"no free /28 in {subnet.id}")


def realize_endpoint(backend: Any, endpoint: Any, region: str, kind: str, arn: str, subnet_ids: list[str]) -> None:
    """Give a Resource or ServiceNetwork endpoint what AWS gives it (see the module's docstring)."""
    if not arn:
        field = "ResourceConfigurationArn" if kind == "resource" else "ServiceNetworkArn"
        raise emulator_vpce.PatchError("MissingParameter", f"The request must contain the parameter {field}")
    if kind == "resource" and resource_configuration(backend.account_id, region, arn) is None:
        raise emulator_vpce.PatchError("InvalidParameter", f"The resource configuration {arn} does not exist")
    groups = [backend.get_security_group_from_id(g) for g in endpoint.security_group_ids]
    enis, prefixes = [], []
    for subnet_id in subnet_ids:
        subnet = backend.get_subnet(subnet_id)
        if kind == "servicenetwork":
            block = _free_prefix(subnet)
            for address in block:
                subnet.request_ip(str(address), endpoint)  # the /28 is the endpoint's, whole
            prefixes.append({"SubnetId": subnet_id, "IpPrefixes": [str(block)]})
        eni = backend.create_network_interface(subnet, None, group_ids=list(endpoint.security_group_ids))
        address = emulator_vpce._free_ipv4(subnet, eni)
        eni.private_ip_address = address
        eni.private_ip_addresses = [{"Primary": True, "PrivateIpAddress": address}]
        eni._group_set = [g for g in groups if g is not None]
        eni.description = f"VPC Endpoint Interface {endpoint.id}"
        eni.interface_type = "vpc_endpoint"
        eni.requester_managed = True
        enis.append(eni.id)
    own = arn.rsplit("/", 1)[-1]
    infix, zone = ("snra", "vpc-lattice-rsc") if kind == "resource" else ("snsa", "vpc-lattice-svcs")
    name = f"{endpoint.id}-{infix}-{_rand(8)}.{own}.{_rand(7, '0123456789abcdef')}.{zone}.{region}.on.aws"
    endpoint.network_interface_ids = enis
    endpoint.subnet_ids = list(subnet_ids)
    endpoint.route_table_ids = []
    endpoint.destination_prefix_list_id = None
    endpoint.dns_entries = [{"DnsName": name, "HostedZoneId": "Z" + _rand(13).upper()}]
    endpoint.ip_address_type = "ipv4"
    endpoint.dns_options = {"DnsRecordIpType": "ipv4", "PrivateDnsOnlyForInboundResolverEndpoint": False}
    endpoint.private_dns_enabled = False
    endpoint.ipv4_prefixes = prefixes
    endpoint.vpc_endpoint_type = "Resource" if kind == "resource" else "ServiceNetwork"
    if kind == "resource":
        endpoint.resource_configuration_arn = arn
    else:
        endpoint.service_network_arn = arn


def apply() -> None:
    """Add resource configurations to moto's vpc-lattice (idempotent)."""
    import moto.vpclattice.urls as urls
    from moto.vpclattice.responses import VPCLatticeResponse

    if getattr(VPCLatticeResponse, "_vpcbox_patched", False):
        return
    VPCLatticeResponse.create_resource_configuration = create_resource_configuration  # type: ignore[attr-defined]
    VPCLatticeResponse.get_resource_configuration = get_resource_configuration  # type: ignore[attr-defined]
    urls.url_paths["{0}/resourceconfigurations$"] = VPCLatticeResponse.dispatch
    urls.url_paths["{0}/resourceconfigurations/(?P<resourceConfigurationIdentifier>.+)$"] = VPCLatticeResponse.dispatch
    VPCLatticeResponse._vpcbox_patched = True  # type: ignore[attr-defined]
