env    = "devl"
region = "eu-west-1"
# The account of envs/devl.backend.hcl: the provider refuses to touch any other (replace with yours).
allowed_account_ids = ["111111111111"]

# docs/deploy.md creates both: the role applying this configuration administers its KMS key, and every role the
# configuration creates carries the boundary.
deploy_role_name          = "tarius-deploy-devl"
permissions_boundary_name = "tarius-workload-boundary"
trigger                   = "direct"

tags = { CostCenter = "data-platform" }

kms = { deletion_window_in_days = 7 }

function = {
  architecture                   = "arm64"
  timeout                        = 300
  reserved_concurrent_executions = 5 # a runaway (continuation loop, event storm) stays small and visible
  log_retention_days             = 14
  log_level                      = "debug"
}

bucket = { force_destroy = true }

table = {
  hash_key  = { name = "pk", type = "S" }
  range_key = { name = "sk", type = "S" }
}

notifications = { email_addresses = ["tarius-devl@example.com"] }
