env     = "prod"
region  = "eu-west-1"
trigger = "direct"

tags = { CostCenter = "data-platform", DataClassification = "internal" }

function = {
  architecture                   = "arm64"
  timeout                        = 900
  reserved_concurrent_executions = 50
  log_retention_days             = 365
  max_wcu                        = 2000
}

table = {
  billing_mode   = "PROVISIONED"
  read_capacity  = 10
  write_capacity = 1000
  hash_key       = { name = "pk", type = "S" }
  range_key      = { name = "sk", type = "S" }
  # deletion_protection defaults to true in prod
}

notifications = {
  email_addresses = ["tarius-oncall@example.com"]
  https_endpoints = ["https://hooks.example.com/tarius"]
}

alarms = { rows_rejected_threshold = 100 }
