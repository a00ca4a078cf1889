output "bucket_id" {
  description = "Name of the log bucket."
  value       = try(aws_s3_bucket.this[0].bucket, null)
}

output "bucket_arn" {
  description = "ARN of the log bucket."
  value       = try(aws_s3_bucket.this[0].arn, null)
}

output "access_log_prefix" {
  description = "Key prefix of the server access logs."
  value       = var.access_log_prefix
}

output "trail_arn" {
  description = "ARN of the data-event trail (null when not created)."
  value       = try(aws_cloudtrail.this[0].arn, null)
}
