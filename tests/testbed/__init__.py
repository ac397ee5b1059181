"""VPC in a box: the project's test bed (real DNS, TLS and packets in a private network namespace) and its AWS
emulator (moto in server mode, patched where it is kinder than AWS).

Modules:
* spec, box, authdns, targets, netns: the box (endpoints, faults, the resolver, TLS/HTTP targets, nftables).
* emulator (+ emulator_server, emulator_vpce, emulator_lambda, emulator_firewall): the AWS emulator in a child
  process; where moto 5.2.5 differs from AWS: endpoint ENIs inside their subnets (IPv6 from the subnet's /64 for
  dual-stack), AWS's DnsEntries, kept IpAddressType and DnsOptions, AWS's private DNS names for a curated set of
  services, free addresses for new ENIs, a Lambda function's real VpcId, Route 53 Resolver DNS Firewall, and a
  test-only route that sets an endpoint's state (pending, pendingAcceptance, failed with LastError, rejected, ...).
* aws_seed, aws_box: seed the emulator (the healthy VPC, and real-VPC shapes: an IPv6 /56 and dual-stack
  endpoints, a 100.64.0.0/16 secondary CIDR, locked-down agent egress, numbered NACLs, a VPC Lambda with its
  Hyperplane ENIs, hub-and-spoke over a Transit Gateway or peering with shared private hosted zones, a DHCP option
  set, a Resolver FORWARD rule, a shadowing private hosted zone, DNS Firewall rules), and build the box that serves
  exactly what the emulator says.
* sandbox, lambda_sandbox, instance, metadata: namespaces beside the box: a VPC Lambda's execution environment
  (link-local address, Hyperplane ENI source translation, the Lambda metadata endpoint, no instance metadata),
  and an EC2 instance's metadata service one hop away (IMDSv2, the PUT's real hop limit, IPv6-only at
  [fd00:ec2::254]), with containers behind the instance.
Each part's AWS behaviour and its sources are in its module docstring; tests/testbed_selftest proves the parts.
"""
