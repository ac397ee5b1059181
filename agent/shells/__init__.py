"""Shells for deployment tools: the post-deploy gate (gate) as a CloudFormation custom resource (cfn_resource),
a CodePipeline Lambda invoke action (pipeline_action) and a direct invocation (gate.handle, for Terraform)."""
