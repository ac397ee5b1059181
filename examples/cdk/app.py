"""A CDK (Python) app: interface endpoints in a VPC, and a vpc-verify gate (Custom::VpcVerify) after them.

`cdk deploy` fails, and CloudFormation rolls the change back, when the endpoints do not resolve privately and
answer from inside the VPC within the wait. The gate's function is vpc-verify's Lambda zip
(`python lambda/build.py --arch arm64`), uploaded to S3: pass its place as the CodeS3Bucket and CodeS3Key
parameters (docs/guides/cloudformation-gate.md).

    pip install -r requirements.txt
    cdk deploy -c private_dns=true --parameters CodeS3Bucket=my-bucket --parameters CodeS3Key=vpc-verify.zip
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

SERVICES = {"sqs": ec2.InterfaceVpcEndpointAwsService.SQS, "kms": ec2.InterfaceVpcEndpointAwsService.KMS}
EC2_READS = [
    "ec2:DescribeVpcs",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcEndpointServices",
    "ec2:DescribeSubnets",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeRouteTables",
    "ec2:DescribePrefixLists",
    "ec2:GetManagedPrefixListEntries",
]


class EndpointsStack(cdk.Stack):
    """A VPC with SQS and KMS interface endpoints, verified before the stack completes."""

    def __init__(self, scope: Construct, construct_id: str, *, private_dns: bool, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        code_bucket = cdk.CfnParameter(self, "CodeS3Bucket", description="Bucket of vpc-verify's Lambda zip")
        code_key = cdk.CfnParameter(self, "CodeS3Key", description="Key of vpc-verify's Lambda zip")

        vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24)
            ],
        )
        # The gate answers CloudFormation at a pre-signed S3 URL: an isolated subnet reaches S3 through this.
        vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        endpoint_sg = ec2.SecurityGroup(self, "EndpointSg", vpc=vpc, description="Interface endpoints")
        endpoint_sg.add_ingress_rule(ec2.Peer.ipv4(vpc.vpc_cidr_block), ec2.Port.tcp(443), "HTTPS from the VPC")
        endpoints = {
            name: vpc.add_interface_endpoint(
                name.capitalize(),
                service=service,
                private_dns_enabled=private_dns,
                security_groups=[endpoint_sg],
                open=False,
            )
            for name, service in SERVICES.items()
        }
        # The gate reads the EC2 API: through an endpoint, since the subnets have no NAT.
        vpc.add_interface_endpoint("Ec2", service=ec2.InterfaceVpcEndpointAwsService.EC2, security_groups=[endpoint_sg])

        gate_sg = ec2.SecurityGroup(self, "GateSg", vpc=vpc, description="vpc-verify gate", allow_all_outbound=True)
        gate = lambda_.Function(
            self,
            "Gate",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.cfn_handler",
            code=lambda_.Code.from_bucket(
                s3.Bucket.from_bucket_name(self, "CodeBucket", code_bucket.value_as_string), code_key.value_as_string
            ),
            timeout=cdk.Duration.seconds(900),
            memory_size=256,
            vpc=vpc,
            vpc_subnets=ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED),
            security_groups=[gate_sg],
        )
        gate.add_to_role_policy(iam.PolicyStatement(actions=EC2_READS, resources=["*"]))
        gate.add_to_role_policy(
            iam.PolicyStatement(actions=["cloudformation:DescribeStacks"], resources=[self.stack_id])
        )

        topology = {
            "version": 1,
            "region": self.region,
            "vpc": {"id": vpc.vpc_id, "cidrs": [vpc.vpc_cidr_block]},
            "endpoints": [
                {"name": name, "type": "interface", "service": f"com.amazonaws.{self.region}.{name}"}
                for name in endpoints
            ],
        }
        # CloudFormation sends an Update only when the resource's properties change: a digest of what the
        # endpoints are made of re-runs the gate whenever that changes.
        watched = {"private_dns": private_dns, "services": sorted(SERVICES), "ports": [443]}
        check = cdk.CustomResource(
            self,
            "EndpointsVerified",
            service_token=gate.function_arn,
            resource_type="Custom::VpcVerify",
            properties={
                "Topology": self.to_json_string(topology),
                "WaitSeconds": 300,
                "HealthyRuns": 2,
                "Watch": hashlib.sha256(json.dumps(watched, sort_keys=True).encode()).hexdigest()[:16],
            },
        )
        for endpoint in endpoints.values():
            check.node.add_dependency(endpoint)
        check.node.add_dependency(endpoint_sg)
        cdk.CfnOutput(self, "GateReport", value=check.get_att_string("Report"))


app = cdk.App()
EndpointsStack(app, "VpcVerifyGateExample", private_dns=str(app.node.try_get_context("private_dns")) != "false")
app.synth()
