env    = "prod"
region = "eu-west-1"
# The account of envs/prod.backend.hcl: the provider refuses to touch any other (replace with yours).
allowed_account_ids = ["333333333333"]

# docs/deploy.md creates both: the role applying this configuration administers its KMS key, and every role the
# configuration creates carries the boundary.
deploy_role_name          = "tarius-deploy-prod"
permissions_boundary_name = "tarius-workload-boundary"
trigger                   = "direct"

tags = { CostCenter = "data-platform", DataClassification = "internal" }

function = {
  architecture                   = "arm64"
  timeout                        = 900
  reserved_concurrent_executions = 50
  log_retention_days             = 365
  tracing_mode                   = "Active"
  # max_wcu unset: the write budget follows the table's write capacity (1,000 WCU/s).
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

# Server access logs and S3 data events of the landing bucket (Security Hub S3.9, S3.22, S3.23).
audit_logs = { access_logs = true, data_events = true }
