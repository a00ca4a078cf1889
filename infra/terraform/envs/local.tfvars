# The local stack (moto): every service at one endpoint; use a local backend (see docs/deploy.md).
env            = "local"
region         = "us-east-1"
trigger        = "queue"
local_endpoint = "http://127.0.0.1:5000"

# moto 5 does not keep an SQS queue's RedriveAllowPolicy, and the provider waits for it forever.
dlq_redrive_allow_policy = false

kms = { deletion_window_in_days = 7 }

function = {
  architecture       = "arm64"
  timeout            = 60
  log_retention_days = 1
  log_level          = "debug"
}

bucket = { force_destroy = true }

# The products feed's key, so the end-to-end test loads the seed sample into it.
table = {
  hash_key = { name = "ID", type = "S" }
}

notifications = { email_addresses = ["tarius-local@example.com"] }
