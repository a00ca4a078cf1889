output "queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = try(aws_sqs_queue.this[0].arn, null)
}

output "queue_url" {
  description = "URL of the dead-letter queue."
  value       = try(aws_sqs_queue.this[0].url, null)
}

output "queue_name" {
  description = "Name of the dead-letter queue."
  value       = try(aws_sqs_queue.this[0].name, null)
}
