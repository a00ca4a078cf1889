data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

locals {
  # <project>-<name>-<env>-<region>
  name       = { for n in ["loader", "events", "dlq", "summary", "data", "ledger", "key", "alarms"] : n => "${var.project}-${n}-${var.env}-${var.region}" }
  account_id = data.aws_caller_identity.current.account_id
  partition  = data.aws_partition.current.partition

  # Bucket names are global: the account id keeps two accounts' buckets apart.
  bucket_name = "${var.project}-landing-${var.env}-${var.region}-${local.account_id}"

  role_name = local.name.loader
  role_arn  = "arn:${local.partition}:iam::${local.account_id}:role/${local.role_name}"

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
}

module "dlq" {
  source = "./modules/dlq"

  name               = local.name.dlq
  kms_key_arn        = module.kms.key_arn
  producer_role_arns = [local.role_arn]
}

module "notifications" {
  source = "./modules/notifications"

  name                = local.name.summary
  kms_key_arn         = module.kms.key_arn
  email_addresses     = var.notifications.email_addresses
  https_endpoints     = var.notifications.https_endpoints
  sqs_subscriptions   = var.notifications.sqs_subscriptions
  publisher_role_arns = [local.role_arn]
}

module "table" {
  source = "./modules/table"

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
  lifecycle_days        = var.bucket.lifecycle_days
  notification_target   = module.loader.notification_target
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
  max_wcu                        = var.function.max_wcu
  mapping                        = var.function.mapping
  kms_key_arn                    = module.kms.key_arn
  bucket_name                    = module.bucket.bucket_id
  table_name                     = module.table.table_name
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
  reserved_concurrency       = var.function.reserved_concurrent_executions
  dlq_name                   = module.dlq.queue_name
  queue_name                 = module.loader.queue_name
  table_name                 = module.table.table_name
  rows_rejected_threshold    = var.alarms.rows_rejected_threshold
  period                     = var.alarms.period
}
