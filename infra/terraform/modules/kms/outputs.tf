output "key_arn" {
  description = "ARN of the key in use (created or passed in)."
  value       = var.create ? try(aws_kms_key.this[0].arn, var.key_arn) : null
}

output "key_id" {
  description = "ID of the created key (null when an existing key is used)."
  value       = try(aws_kms_key.this[0].key_id, null)
}

output "alias_name" {
  description = "Alias of the created key."
  value       = try(aws_kms_alias.this[0].name, null)
}

output "key_policy_json" {
  description = "Policy document attached to the created key."
  value       = try(data.aws_iam_policy_document.this[0].json, null)
}
