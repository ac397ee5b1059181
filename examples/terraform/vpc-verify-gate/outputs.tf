output "run_id" {
  description = "The gate's run id (the function's request id; its log lines carry it)."
  value       = jsondecode(aws_lambda_invocation.gate.result).run_id
}

output "report" {
  description = "Where the gate's full report is."
  value       = jsondecode(aws_lambda_invocation.gate.result).report
}

output "function_name" {
  description = "The gate function (invoke it again with the same input to re-check)."
  value       = aws_lambda_function.gate.function_name
}
