"""A fleet of VPCs: one policy for every VPC of a class, and the fleet's last results from one monitoring account.

- `policy`: the fleet policy file (docs/guides/fleet.md): classes of VPCs chosen by tag, what each must have
  (interface and gateway endpoints, private DNS, AZ coverage), exemptions by tag; loaded and validated like the
  topology (one line naming source, key path and expectation; exit 2).
- `derive`: the expected topology of one VPC, from the policy and what AWS reports about the VPC.
- `resolve`: where a shell's topology comes from when it is not a file: a policy (`--policy`) or nothing at all
  (every endpoint AWS reports), for the VPC named (`--vpc-id`) or the one the agent runs in.
- `locate`: which VPC the agent runs in (Lambda, EC2, an ECS task, a pod told its address).
- `report`: `vpc-verify fleet`: every VPC's last result from the metrics the fleet publishes, unhealthy first.
- `reports`: the JSON report of a run kept in S3 for the fleet report (`VPC_VERIFY_REPORT_S3`).
- `lookup`: the CloudFormation custom resource that finds a StackSet instance's VPC and subnets by tag.
"""
