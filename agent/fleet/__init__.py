"""A fleet of VPCs: one policy for every VPC of a class, and the fleet's last results from one monitoring account.

- `policy`: the fleet policy file (docs/guides/fleet.md): classes of VPCs chosen by tag, what each must have
  (interface and gateway endpoints, private DNS, AZ coverage by AZ id), exemptions by tag; loaded and validated
  like the topology (one line naming source, key path and expectation; exit 2).
- `derive`: the expected topology of one VPC, from the policy and what AWS reports about the VPC (pure).
- `resolve`: where a shell's topology comes from when it is not a file: a policy (`--policy`,
  `VPC_VERIFY_POLICY`) or nothing at all (every endpoint AWS reports), for the VPC named (`--vpc-id`) or the one
  the agent runs in; the VPC is read once and the read handed to the run.
- `locate`: which VPC the agent runs in (its subnet, a Lambda function's VpcConfig, an ECS task's or a pod's
  address).
- `summary`: the fleet report (`vpc-verify fleet`): every VPC's last result, unhealthy first (pure).
- `metrics`: every VPC's last RunHealthy and unhealthy endpoints from CloudWatch, linked accounts included.
- `stored`: the JSON reports kept for the fleet report (files, S3), read and written.

It sits above both the topology package and the AWS side, like vpc_verify.locations; boto3 is imported only
where AWS is read.
"""
