output "alarm_arns" {
  description = "ARNs of all alarms, by short name."
  value       = merge({ for k, a in aws_cloudwatch_metric_alarm.this : k => a.arn }, { for a in concat(aws_cloudwatch_metric_alarm.rows_rejected, aws_cloudwatch_metric_alarm.dynamodb_system_errors) : trimprefix(a.alarm_name, "${var.name_prefix}-") => a.arn })
}

output "dashboard_arn" {
  description = "ARN of the dashboard."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_arn, null)
}

output "dashboard_name" {
  description = "Name of the dashboard."
  value       = try(aws_cloudwatch_dashboard.this[0].dashboard_name, null)
}
