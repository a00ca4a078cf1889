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
  description = "Target DynamoDB table (the one feed's; with feeds, the table named data, or null)."
  value       = module.table.table_name
}

output "feed_table_names" {
  description = "Each feed's DynamoDB table, by feed name (empty without feeds)."
  value       = { for n, t in local.feed_tables : n => t.name }
}

output "feeds_document" {
  description = "The feeds document the function reads from TARIUS_FEEDS (JSON; null without feeds): give it to `tarius worker` or `tarius load --feeds`."
  value       = local.feeds_document

  # The checks of var.feeds that need what feeds.tf derives from it (a variable's validation cannot use values
  # derived from the variable itself): they fail the plan like the validations.
  precondition {
    condition     = alltrue([for n, f in var.feeds : f.max_wcu == null || local.feed_table_capacity[n] == null || try(f.max_wcu <= local.feed_table_capacity[n], true)])
    error_message = join("\n", [for n, f in var.feeds : "feeds.${n}.max_wcu: exceeds the write capacity (${local.feed_table_capacity[n]}) of the PROVISIONED table the feed creates: leave it unset (it follows the capacity) or lower it" if !(f.max_wcu == null || local.feed_table_capacity[n] == null || try(f.max_wcu <= local.feed_table_capacity[n], true))])
  }

  precondition {
    condition = alltrue(flatten([for p in concat(local.feed_rejects_prefixes, local.feed_reports_prefixes) : [
      for f in var.feeds : !startswith(p, f.match.prefix) && !startswith(f.match.prefix, p)
    ]]))
    error_message = join("\n", flatten([for p in concat(local.feed_rejects_prefixes, local.feed_reports_prefixes) : [
      for n, f in var.feeds : "feeds.${n}.match.prefix: \"${f.match.prefix}\" nests with \"${p}\", where the loader writes rejects or reports: they would be loaded in turn" if startswith(p, f.match.prefix) || startswith(f.match.prefix, p)
    ]]))
  }

  precondition {
    condition     = alltrue([for i, a in keys(var.feeds) : alltrue([for j, b in keys(var.feeds) : j <= i || !(local.feed_tables[a].create && local.feed_tables[b].create && local.feed_tables[a].short == local.feed_tables[b].short)])])
    error_message = join("\n", flatten([for i, a in keys(var.feeds) : [for j, b in keys(var.feeds) : "feeds.${b}.table: ${local.feed_tables[b].name} is created by feed ${a} already: name it here as an existing table, table = { create = false, name = \"${local.feed_tables[b].name}\" }" if j > i && local.feed_tables[a].create && local.feed_tables[b].create && local.feed_tables[a].short == local.feed_tables[b].short]]))
  }

  precondition {
    condition     = alltrue([for n, f in var.feeds : !local.feed_tables[n].data || alltrue([f.table.hash_key == null, f.table.range_key == null, f.table.billing_mode == null, f.table.read_capacity == null, f.table.write_capacity == null, f.table.point_in_time_recovery == null, f.table.deletion_protection == null])])
    error_message = join("\n", [for n, f in var.feeds : "feeds.${n}.table: the table named data is the stack's target table: set its key schema and settings in the variable table" if local.feed_tables[n].data && !alltrue([f.table.hash_key == null, f.table.range_key == null, f.table.billing_mode == null, f.table.read_capacity == null, f.table.write_capacity == null, f.table.point_in_time_recovery == null, f.table.deletion_protection == null])])
  }

  precondition {
    condition     = alltrue(flatten([for n, f in var.feeds : [for role, key in local.feed_mapping_keys[n] : key == null || try(contains(["S", "N", "B"], key.type) && key.name != "", false)]]))
    error_message = join("\n", flatten([for n, f in var.feeds : [for role, key in local.feed_mapping_keys[n] : "feeds.${n}.mapping.${role == "hash" ? "partition_key" : "sort_key"}: key \"${role == "hash" ? f.mapping.partition_key : f.mapping.sort_key}\": ${key.name == "" ? "empty name" : "unknown type \"${key.type}\" (expected NAME:S, NAME:N or NAME:B)"}" if !(key == null || try(contains(["S", "N", "B"], key.type) && key.name != "", false))]]))
  }

  precondition {
    condition = alltrue(flatten([for n, f in var.feeds : [for role, key in local.feed_mapping_keys[n] :
    key == null || local.feed_table_keys[n] == null || try(key == local.feed_table_keys[n][role], false)]]))
    error_message = join("\n", flatten([for n, f in var.feeds : [for role, key in local.feed_mapping_keys[n] :
      "feeds.${n}.mapping.${role == "hash" ? "partition_key" : "sort_key"}: ${key.name}:${key.type} is not the ${role == "hash" ? "partition" : "sort"} key of the table the feed creates (${try("${local.feed_table_keys[n][role].name}:${local.feed_table_keys[n][role].type}", "none")})"
    if !(key == null || local.feed_table_keys[n] == null || try(key == local.feed_table_keys[n][role], false))]]))
  }

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
