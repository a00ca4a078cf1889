env     = "test"
region  = "eu-west-1"
trigger = "queue"

tags = { CostCenter = "data-platform" }

function = {
  architecture                   = "arm64"
  timeout                        = 600
  reserved_concurrent_executions = 10
  log_retention_days             = 30
  max_wcu                        = 500
}

table = {
  hash_key  = { name = "pk", type = "S" }
  range_key = { name = "sk", type = "S" }
}

notifications = { email_addresses = ["tarius-test@example.com"] }
