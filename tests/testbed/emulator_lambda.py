"""A patch that makes moto's Lambda VpcConfig look like AWS's (applied by tests/testbed/emulator_server.py).

moto 5.2.5 answers GetFunctionConfiguration with `VpcConfig.VpcId` "vpc-123abc" whatever the subnets; AWS gives the
VPC of the function's subnets (Lambda API reference, VpcConfigResponse). Here it is looked up from the emulated EC2.
"""

from __future__ import annotations

from typing import Any


def apply() -> None:
    """Patch moto's LambdaFunction.vpc_config (idempotent)."""
    from moto.awslambda.models import LambdaFunction
    from moto.ec2.models import ec2_backends

    if getattr(LambdaFunction, "_vpcbox_patched", False):
        return

    def vpc_config(self: Any) -> dict[str, Any] | None:
        if not self._vpc_config:
            return None
        config = dict(self._vpc_config)
        subnets = config.get("SubnetIds") or []
        if subnets:
            try:
                config["VpcId"] = ec2_backends[self.account_id][self.region].get_subnet(subnets[0]).vpc_id
            except Exception:  # an unknown subnet: AWS would have refused the function; say nothing
                config.pop("VpcId", None)
        return config

    LambdaFunction.vpc_config = property(vpc_config)  # type: ignore[assignment,method-assign]
    LambdaFunction._vpcbox_patched = True  # type: ignore[attr-defined]
