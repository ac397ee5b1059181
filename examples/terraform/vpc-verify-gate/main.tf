# A vpc-verify gate: a Lambda function inside the VPC that checks the endpoints (DNS, TCP, TLS and the control
# plane), invoked by Terraform once the resources it verifies exist. The apply fails, with the failing endpoints
# and their findings, when the report is not healthy within wait_seconds (docs/guides/ci-pipelines.md).

data "aws_partition" "current" {}
data "aws_region" "current" {}
data "aws_caller_identity" "current" {}

resource "aws_security_group" "gate" {
  name        = var.name
  description = "vpc-verify gate - DNS and HTTPS"
  vpc_id      = var.vpc_id

  egress {
    description = "VPC resolver"
    protocol    = "udp"
    from_port   = 53
    to_port     = 53
    cidr_blocks = [var.vpc_cidr]
  }
  egress {
    description = "VPC resolver (TCP)"
    protocol    = "tcp"
    from_port   = 53
    to_port     = 53
    cidr_blocks = [var.vpc_cidr]
  }
  egress {
    description = "the endpoints and the EC2 API"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = ["0.0.0.0/0"]
  }
}

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "gate" {
  statement {
    sid = "ControlPlaneRead"
    actions = [
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
    resources = ["*"]
  }
  statement {
    sid       = "OwnVpcConfig"
    actions   = ["lambda:GetFunctionConfiguration"]
    resources = ["arn:${data.aws_partition.current.partition}:lambda:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:function:${var.name}"]
  }
}

resource "aws_iam_role" "gate" {
  name               = var.name
  assume_role_policy = data.aws_iam_policy_document.assume.json
}

resource "aws_iam_role_policy" "gate" {
  name   = "vpc-verify-gate"
  role   = aws_iam_role.gate.id
  policy = data.aws_iam_policy_document.gate.json
}

resource "aws_iam_role_policy_attachment" "vpc_access" {
  role       = aws_iam_role.gate.name
  policy_arn = "arn:${data.aws_partition.current.partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole"
}

resource "aws_lambda_function" "gate" {
  function_name = var.name
  description   = "vpc-verify gate - checks the endpoints from inside the VPC"
  role          = aws_iam_role.gate.arn
  runtime       = "python3.13"
  handler       = "handler.gate_handler"
  architectures = ["arm64"]
  memory_size   = 256
  timeout       = 900
  s3_bucket     = var.code_s3_bucket
  s3_key        = var.code_s3_key

  vpc_config {
    subnet_ids         = var.subnet_ids
    security_group_ids = [aws_security_group.gate.id]
  }

  depends_on = [aws_iam_role_policy.gate, aws_iam_role_policy_attachment.vpc_access]
}

# Invoked on create and again whenever the input or a trigger changes. The function answers within its
# timeout on every path; `healthy` is false, with the reason, when the endpoints did not converge in time.
resource "aws_lambda_invocation" "gate" {
  function_name = aws_lambda_function.gate.function_name
  input = jsonencode({
    Topology    = var.topology
    WaitSeconds = var.wait_seconds
    HealthyRuns = var.healthy_runs
  })
  triggers = var.triggers

  lifecycle {
    postcondition {
      condition     = jsondecode(self.result).healthy
      error_message = jsondecode(self.result).reason
    }
  }
}
