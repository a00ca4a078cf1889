output "kms_key_arn" {
  description = "ARN of the customer managed key encrypting everything."
  value       = module.kms.key_arn
}

output "bucket_name" {
  description = "Landing bucket; producers drop CSV files under landing_prefix."
  value       = module.bucket.bucket_id
}

output "landing_prefix" {
  description = "Prefix watched by the event notification."
  value       = var.bucket.landing_prefix
}

output "table_name" {
  description = "Target DynamoDB table."
  value       = module.table.table_name
}

output "ledger_table_name" {
  description = "Load-ledger DynamoDB table."
  value       = module.ledger.table_name
}

output "topic_arn" {
  description = "SNS topic of load summaries and alarms."
  value       = module.notifications.topic_arn
}

output "function_name" {
  description = "Loader function name."
  value       = module.loader.lambda_function_name
}

output "function_arn" {
  description = "Loader function ARN."
  value       = module.loader.lambda_function_arn
}

output "queue_url" {
  description = "Event queue URL (queue trigger; also for `tarius worker`)."
  value       = module.loader.queue_url
}

output "dlq_url" {
  description = "Dead-letter queue URL."
  value       = module.dlq.queue_url
}

output "dashboard_name" {
  description = "CloudWatch dashboard of the load metrics."
  value       = module.alarms.dashboard_name
}

output "worker_policy_json" {
  description = "IAM policy for the principal that runs `tarius worker` on the event queue (queue trigger; null otherwise)."
  value       = module.loader.worker_policy_json
}

output "log_bucket_name" {
  description = "Bucket of the landing bucket's access logs and data-event trail (null when audit_logs is off)."
  value       = module.audit_logs.bucket_id
}

output "delivery_dlq_url" {
  description = "Dead-letter queue of undeliverable SNS notifications (null without HTTPS or SQS subscribers)."
  value       = module.delivery_dlq.queue_url
}
