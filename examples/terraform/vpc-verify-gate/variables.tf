variable "name" {
  description = "Name of the gate function and its role and security group."
  type        = string
  default     = "vpc-verify-gate"
}

variable "vpc_id" {
  description = "The VPC the gate checks from."
  type        = string
}

variable "vpc_cidr" {
  description = "The VPC's CIDR (DNS to the VPC resolver is allowed only inside it)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the gate function (one per AZ whose path should be checked)."
  type        = list(string)
}

variable "code_s3_bucket" {
  description = "Bucket holding the zip from `python lambda/build.py --arch arm64`."
  type        = string
}

variable "code_s3_key" {
  description = "Key of the zip."
  type        = string
}

variable "topology" {
  description = "The topology (docs/topology.md) as YAML or JSON text; yamlencode() or jsonencode() of an object works."
  type        = string
}

variable "wait_seconds" {
  description = "How long to wait for the endpoints to converge (the function's timeout is 900 s)."
  type        = number
  default     = 300
  validation {
    condition     = var.wait_seconds >= 0 && var.wait_seconds <= 840
    error_message = "wait_seconds must be from 0 to 840 (the gate answers within the function's 900 s timeout)."
  }
}

variable "healthy_runs" {
  description = "Healthy runs in a row that count as converged."
  type        = number
  default     = 2
}

variable "triggers" {
  description = "Values whose change runs the gate again (endpoint ids, security group rules, a deploy id)."
  type        = map(string)
  default     = {}
}
