data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # <project>-<name>-<env>-<region>
  name       = { for n in ["loader", "events", "dlq", "delivery", "summary", "data", "ledger", "key", "alarms", "trail"] : n => "${var.project}-${n}-${var.env}-${var.region}" }
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Bucket names are global: the account id keeps two accounts' buckets apart.
  bucket_name     = "${var.project}-landing-${var.env}-${var.region}-${local.account_id}"
  log_bucket_name = "${var.project}-logs-${var.env}-${var.region}-${local.account_id}"

  role_name = local.name.loader
  role_arn  = "arn:${local.partition}:iam::${local.account_id}:role/${local.role_name}"

  # ARNs built from names (known at plan time), for policies that must not wait for the resources.
  bucket_arn       = "arn:${local.partition}:s3:::${local.bucket_name}"
  topic_arn        = "arn:${local.partition}:sns:${var.region}:${local.account_id}:${local.name.summary}"
  events_queue_arn = "arn:${local.partition}:sqs:${var.region}:${local.account_id}:${local.name.events}"
  trail_arn        = "arn:${local.partition}:cloudtrail:${var.region}:${local.account_id}:trail/${local.name.trail}"
  alarm_arns       = "arn:${local.partition}:cloudwatch:${var.region}:${local.account_id}:alarm:${local.name.alarms}-*"

  deploy_role_arn          = var.deploy_role_name == null ? null : "arn:${local.partition}:iam::${local.account_id}:role/${var.deploy_role_name}"
  permissions_boundary_arn = var.permissions_boundary_name == null ? null : "arn:${local.partition}:iam::${local.account_id}:policy/${var.permissions_boundary_name}"

  # SNS keeps what it cannot deliver to machine subscribers (HTTPS, SQS) in a dead-letter queue of its own.
  create_delivery_dlq = length(var.notifications.https_endpoints) + length(var.notifications.sqs_subscriptions) > 0
  create_audit_logs   = var.audit_logs.access_logs || var.audit_logs.data_events

  # The loader's write budget: a provisioned table takes no more than its write capacity (a larger budget would be
  # throttled all along); on-demand tables take function.max_wcu (null: unlimited). With feeds, function.max_wcu is
  # the default of the feeds that set no budget and whose table is not a provisioned one created here (feeds.tf).
  max_wcu = !local.feeds_given && var.table.billing_mode == "PROVISIONED" ? coalesce(var.function.max_wcu, var.table.write_capacity) : var.function.max_wcu

  package_path        = coalesce(var.package_path, var.function.package_path, "${path.root}/../../build/package/tarius-lambda-${var.function.architecture}.zip")
  deletion_protection = coalesce(var.table.deletion_protection, var.env == "prod")
}

module "kms" {
  source = "./modules/kms"

  create_key              = var.kms.create
  key_arn                 = var.kms.key_arn
  alias_name              = local.name.key
  deletion_window_in_days = var.kms.deletion_window_in_days
  log_group_name_prefix   = "/aws/lambda/${local.name.loader}"
  user_role_arns          = [local.role_arn]
  administrator_role_arns = local.deploy_role_arn == null ? [] : [local.deploy_role_arn]

  # Only the services that use the key on their own behalf, each for the resources that make it do so.
  service_principals = concat(
    var.trigger == "queue" ? [{
      sid = "S3EventNotifications", service = "s3", actions = ["kms:GenerateDataKey", "kms:Decrypt"], source_arns = [local.bucket_arn]
    }] : [],
    var.alarms.create ? [{
      sid = "CloudWatchAlarms", service = "cloudwatch", actions = ["kms:GenerateDataKey*", "kms:Decrypt"], source_arns = [local.alarm_arns]
    }] : [],
    local.create_delivery_dlq ? [{
      sid = "SNSDeliveryDeadLetters", service = "sns", actions = ["kms:GenerateDataKey*", "kms:Decrypt"], source_arns = [local.topic_arn]
    }] : [],
    var.audit_logs.data_events ? [{
      sid = "CloudTrailLogs", service = "cloudtrail", actions = ["kms:GenerateDataKey*", "kms:DescribeKey"], source_arns = [local.trail_arn]
    }] : [],
  )
}

module "dlq" {
  source = "./modules/dlq"

  name        = local.name.dlq
  kms_key_arn = module.kms.key_arn
  # Direct trigger: Lambda's on-failure destination sends with the function's role. Queue trigger: only the event
  # queue's redrive fills it.
  producer_role_arns       = var.trigger == "direct" ? [local.role_arn] : []
  source_queue_arns        = var.trigger == "queue" ? [local.events_queue_arn] : []
  set_redrive_allow_policy = var.dlq_redrive_allow_policy
}

module "delivery_dlq" {
  source = "./modules/dlq"

  create                   = local.create_delivery_dlq
  name                     = local.name.delivery
  kms_key_arn              = module.kms.key_arn
  service_senders          = [{ sid = "SNSRedrive", service = "sns", source_arns = [local.topic_arn] }]
  set_redrive_allow_policy = var.dlq_redrive_allow_policy
}

module "notifications" {
  source = "./modules/notifications"

  name                = local.name.summary
  kms_key_arn         = module.kms.key_arn
  email_addresses     = var.notifications.email_addresses
  https_endpoints     = var.notifications.https_endpoints
  sqs_subscriptions   = var.notifications.sqs_subscriptions
  publisher_role_arns = [local.role_arn]
  alarm_source_arns   = [local.alarm_arns]
  delivery_dlq_arn    = local.create_delivery_dlq ? module.delivery_dlq.queue_arn : null
}

# The target table: the one feed's without feeds; with feeds, the table of a feed that names it data (feeds.tf).
module "table" {
  source = "./modules/table"

  create                 = !local.feeds_given || anytrue([for t in values(local.feed_tables) : t.data])
  name                   = local.name.data
  kms_key_arn            = module.kms.key_arn
  billing_mode           = var.table.billing_mode
  read_capacity          = var.table.read_capacity
  write_capacity         = var.table.write_capacity
  hash_key               = var.table.hash_key
  range_key              = var.table.range_key
  point_in_time_recovery = var.table.point_in_time_recovery
  deletion_protection    = local.deletion_protection
}

module "ledger" {
  source = "./modules/table"

  name                   = local.name.ledger
  kms_key_arn            = module.kms.key_arn
  hash_key               = { name = "pk", type = "S" }
  ttl_attribute          = "expires_at"
  point_in_time_recovery = true
  deletion_protection    = local.deletion_protection
}

module "bucket" {
  source = "./modules/landing-bucket"

  bucket_name           = local.bucket_name
  kms_key_arn           = module.kms.key_arn
  force_destroy         = var.bucket.force_destroy
  landing_prefix        = var.bucket.landing_prefix
  rejects_prefix        = var.bucket.rejects_prefix
  reports_prefix        = var.bucket.reports_prefix
  notification_suffixes = var.bucket.suffixes
  notification_filters  = local.notification_filters
  lifecycle_days        = var.bucket.lifecycle_days
  snapshot_prefixes     = sort(distinct(values(local.feed_digests_prefix)))
  notification_target   = module.loader.notification_target
  access_log            = var.audit_logs.access_logs ? { target_bucket = module.audit_logs.bucket_id, target_prefix = module.audit_logs.access_log_prefix } : null
}

# Server access logs of the landing bucket and a trail of its data events (Security Hub S3.9, S3.22, S3.23).
module "audit_logs" {
  source = "./modules/audit-logs"

  create                        = local.create_audit_logs
  bucket_name                   = local.log_bucket_name
  force_destroy                 = var.bucket.force_destroy
  retention_days                = var.audit_logs.retention_days
  access_log_source_bucket_arns = var.audit_logs.access_logs ? [local.bucket_arn] : []
  create_trail                  = var.audit_logs.data_events
  trail_name                    = local.name.trail
  data_event_bucket_arns        = [local.bucket_arn]
  kms_key_arn                   = module.kms.key_arn
}

module "loader" {
  source = "./modules/loader-function"

  function_name                  = local.name.loader
  role_name                      = local.role_name
  package_path                   = local.package_path
  architecture                   = var.function.architecture
  memory_size                    = var.function.memory_size
  timeout                        = var.function.timeout
  reserved_concurrent_executions = var.function.reserved_concurrent_executions
  log_retention_days             = var.function.log_retention_days
  log_level                      = var.function.log_level
  tracing_mode                   = var.function.tracing_mode
  max_wcu                        = local.max_wcu
  permissions_boundary_arn       = local.permissions_boundary_arn
  mapping                        = var.function.mapping
  kms_key_arn                    = module.kms.key_arn
  bucket_name                    = module.bucket.bucket_id
  table_name                     = local.feeds_given ? null : module.table.table_name
  feeds                          = local.feeds_for_function
  ledger_table_name              = module.ledger.table_name
  topic_name                     = module.notifications.topic_name
  dlq_name                       = module.dlq.queue_name
  trigger                        = var.trigger
  create_event_source_mapping    = var.function.create_event_source_mapping
  queue                          = { name = local.name.events }

  prefixes = {
    landing = var.bucket.landing_prefix
    rejects = var.bucket.rejects_prefix
    reports = var.bucket.reports_prefix
  }
}

module "alarms" {
  source = "./modules/alarms"

  create                     = var.alarms.create
  create_dashboard           = var.alarms.create_dashboard
  name_prefix                = local.name.alarms
  alarm_topic_arn            = module.notifications.topic_arn
  function_name              = module.loader.lambda_function_name
  function_timeout           = var.function.timeout
  duration_threshold_percent = var.alarms.duration_threshold_percent
  deadline_margin_ms         = module.loader.deadline_margin_ms
  async_invocation           = var.trigger == "direct"
  reserved_concurrency       = var.function.reserved_concurrent_executions
  dlq_name                   = module.dlq.queue_name
  queue_name                 = module.loader.queue_name
  table_name                 = module.table.table_name
  table_names                = local.alarm_table_names
  feed_names                 = local.alarm_feed_names
  table_operations           = local.feeds_given ? [for a in sort(distinct(flatten(values(local.feed_table_actions)))) : trimprefix(a, "dynamodb:")] : ["BatchWriteItem", "DescribeTable"]
  ledger_table_name          = module.ledger.table_name
  topic_name                 = module.notifications.topic_name
  delivery_dlq_name          = local.create_delivery_dlq ? module.delivery_dlq.queue_name : null
  rows_rejected_threshold    = var.alarms.rows_rejected_threshold
  period                     = var.alarms.period
}
