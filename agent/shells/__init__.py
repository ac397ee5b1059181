"""The shells: thin layers that wire a run to a command line, a loop, a Lambda or an HTTP port.

The EC2 agent's HTTP port (status_http, web_config) and the deployment gates: the post-deploy gate (gate) as
a CloudFormation custom resource (cfn_resource), a CodePipeline Lambda invoke action (pipeline_action) and a
direct invocation (gate.handle, for Terraform).
"""
