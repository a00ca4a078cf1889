# The smallest useful Tarius: CSV files dropped under raw-data/ are loaded by the function (direct trigger) into a
# table keyed by pk; summaries go to a topic without subscribers, failed events to a dead-letter queue.

data "aws_caller_identity" "current" {}

locals {
  role_arn = "arn:aws:iam::${data.aws_caller_identity.current.account_id}:role/${var.name}-loader"
}

module "kms" {
  source = "../../modules/kms"

  alias_name              = var.name
  deletion_window_in_days = 7
  log_group_name_prefix   = "/aws/lambda/${var.name}-loader"
  user_role_arns          = [local.role_arn]
}

module "dlq" {
  source = "../../modules/dlq"

  name               = "${var.name}-dlq"
  kms_key_arn        = module.kms.key_arn
  producer_role_arns = [local.role_arn]
}

module "notifications" {
  source = "../../modules/notifications"

  name                = "${var.name}-summary"
  kms_key_arn         = module.kms.key_arn
  publisher_role_arns = [local.role_arn]
}

module "table" {
  source = "../../modules/table"

  name        = "${var.name}-data"
  kms_key_arn = module.kms.key_arn
}

module "ledger" {
  source = "../../modules/table"

  name          = "${var.name}-ledger"
  kms_key_arn   = module.kms.key_arn
  ttl_attribute = "expires_at"
}

module "bucket" {
  source = "../../modules/landing-bucket"

  bucket_name         = "${var.name}-${data.aws_caller_identity.current.account_id}"
  kms_key_arn         = module.kms.key_arn
  force_destroy       = true
  notification_target = module.loader.notification_target
}

module "loader" {
  source = "../../modules/loader-function"

  function_name     = "${var.name}-loader"
  package_path      = var.package_path
  kms_key_arn       = module.kms.key_arn
  bucket_name       = module.bucket.bucket_id
  table_name        = module.table.table_name
  ledger_table_name = module.ledger.table_name
  topic_name        = module.notifications.topic_name
  dlq_name          = module.dlq.queue_name
}
