output "lambda_function_arn" {
  description = "ARN of the function."
  value       = try(aws_lambda_function.this[0].arn, null)
}

output "lambda_function_name" {
  description = "Name of the function."
  value       = try(aws_lambda_function.this[0].function_name, null)
}

output "lambda_function_timeout" {
  description = "Timeout of the function in seconds."
  value       = try(aws_lambda_function.this[0].timeout, null)
}

output "iam_role_arn" {
  description = "ARN of the execution role."
  value       = try(aws_iam_role.this[0].arn, null)
}

output "iam_role_name" {
  description = "Name of the execution role."
  value       = try(aws_iam_role.this[0].name, null)
}

output "log_group_name" {
  description = "Name of the function's log group."
  value       = try(aws_cloudwatch_log_group.this[0].name, null)
}

output "queue_arn" {
  description = "ARN of the event queue (queue trigger)."
  value       = try(aws_sqs_queue.events[0].arn, null)
}

output "queue_url" {
  description = "URL of the event queue (queue trigger); the tarius worker can consume it too."
  value       = try(aws_sqs_queue.events[0].url, null)
}

output "queue_name" {
  description = "Name of the event queue (queue trigger)."
  value       = try(aws_sqs_queue.events[0].name, null)
}

output "worker_policy_json" {
  description = "IAM policy for the principal running `tarius worker` on the event queue (queue trigger; null otherwise)."
  value       = try(data.aws_iam_policy_document.worker[0].json, null)
}

output "iam_role_policy_json" {
  description = "The execution role's inline policy."
  value       = try(data.aws_iam_policy_document.this[0].json, null)
}

output "deadline_margin_ms" {
  description = "TARIUS_DEADLINE_MARGIN_MS: loads stop this long before the timeout and continue in a new invocation."
  value       = local.deadline_margin_ms
}

output "notification_target" {
  description = "Target for the bucket's event notification, available once S3 is allowed to use it."
  value = !var.create ? null : (var.trigger == "direct" ?
    { type = "lambda", arn = try(aws_lambda_function.this[0].arn, null) } :
  { type = "queue", arn = try(aws_sqs_queue.events[0].arn, null) })

  # The notification is refused (real S3 tests its destination) until the permission or queue policy exists.
  depends_on = [aws_lambda_permission.s3, aws_sqs_queue_policy.events]
}
