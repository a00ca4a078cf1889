output "topic_arn" {
  description = "ARN of the SNS topic."
  value       = try(aws_sns_topic.this[0].arn, null)
}

output "topic_name" {
  description = "Name of the SNS topic."
  value       = try(aws_sns_topic.this[0].name, null)
}

output "subscription_arns" {
  description = "ARNs of all subscriptions (e-mail ones stay pending until confirmed)."
  value       = concat([for s in aws_sns_topic_subscription.email : s.arn], [for s in aws_sns_topic_subscription.sqs : s.arn], [for s in aws_sns_topic_subscription.https : s.arn])
}
