env     = "devl"
region  = "eu-west-1"
trigger = "direct"

tags = { CostCenter = "data-platform" }

kms = { deletion_window_in_days = 7 }

function = {
  architecture       = "arm64"
  timeout            = 300
  log_retention_days = 14
  log_level          = "debug"
}

bucket = { force_destroy = true }

table = {
  hash_key  = { name = "pk", type = "S" }
  range_key = { name = "sk", type = "S" }
}

notifications = { email_addresses = ["tarius-devl@example.com"] }
