env    = "test"
region = "eu-west-1"
# The account of envs/test.backend.hcl: the provider refuses to touch any other (replace with yours).
allowed_account_ids = ["222222222222"]

# docs/deploy.md creates both: the role applying this configuration administers its KMS key, and every role the
# configuration creates carries the boundary.
deploy_role_name          = "tarius-deploy-test"
permissions_boundary_name = "tarius-workload-boundary"
trigger                   = "queue"

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
