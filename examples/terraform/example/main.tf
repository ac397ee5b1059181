# Interface endpoints and the vpc-verify gate after them: `terraform apply` fails when the endpoints do not
# resolve privately and answer from inside the VPC within the wait.

terraform {
  required_version = ">= 1.3"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

variable "vpc_id" {
  type = string
}

variable "vpc_cidr" {
  type = string
}

variable "subnet_ids" {
  type = list(string)
}

variable "code_s3_bucket" {
  type = string
}

variable "code_s3_key" {
  type = string
}

variable "private_dns_enabled" {
  type    = bool
  default = true
}

data "aws_region" "current" {}

resource "aws_security_group" "endpoints" {
  name_prefix = "endpoints-"
  description = "Interface endpoints - HTTPS from the VPC"
  vpc_id      = var.vpc_id

  ingress {
    description = "HTTPS from the VPC"
    protocol    = "tcp"
    from_port   = 443
    to_port     = 443
    cidr_blocks = [var.vpc_cidr]
  }
}

resource "aws_vpc_endpoint" "interface" {
  for_each            = toset(["sqs", "kms"])
  vpc_id              = var.vpc_id
  service_name        = "com.amazonaws.${data.aws_region.current.name}.${each.key}"
  vpc_endpoint_type   = "Interface"
  private_dns_enabled = var.private_dns_enabled
  subnet_ids          = var.subnet_ids
  security_group_ids  = [aws_security_group.endpoints.id]
}

module "vpc_verify_gate" {
  source = "../vpc-verify-gate"

  vpc_id         = var.vpc_id
  vpc_cidr       = var.vpc_cidr
  subnet_ids     = var.subnet_ids
  code_s3_bucket = var.code_s3_bucket
  code_s3_key    = var.code_s3_key
  wait_seconds   = 300
  topology = yamlencode({
    version = 1
    region  = data.aws_region.current.name
    vpc     = { id = var.vpc_id, cidrs = [var.vpc_cidr] }
    endpoints = [
      for name, endpoint in aws_vpc_endpoint.interface : {
        name    = name
        type    = "interface"
        service = endpoint.service_name
      }
    ]
  })
  # Re-check whenever what the gate verifies changes.
  triggers = merge(
    { for name, endpoint in aws_vpc_endpoint.interface : name => "${endpoint.id}:${endpoint.private_dns_enabled}" },
    { security_group = sha256(jsonencode(aws_security_group.endpoints.ingress)) },
  )

  depends_on = [aws_vpc_endpoint.interface, aws_security_group.endpoints]
}

output "gate_report" {
  value = module.vpc_verify_gate.report
}
