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

# Two feeds, each into a table of its own (tarius-products-local-us-east-1, tarius-prices-local-us-east-1), keyed by
# their mapping's partition key; tests/python/test_terraform_apply_local.py loads a file of each through
# `tarius worker`. Only mode put is loaded by this version.
feeds = {
  products = {
    match = { prefix = "raw-data/products/" }
    mapping = {
      partition_key = "ID:S"
      columns       = { "Price (USD)" = { attribute = "price_usd", type = "number", currency = true } }
    }
  }
  prices = {
    match = { prefix = "raw-data/prices/", suffixes = [".csv"] }
    mapping = {
      partition_key = "ID:S"
      defaults      = { type = "string", empty = "omit" }
      columns = {
        "Price (USD)" = { attribute = "price_usd", type = "number", currency = true }
        "Valid From"  = { attribute = "valid_from" }
      }
    }
    rejects_prefix = "invalid-records/prices/"
    max_wcu        = 200
    concurrency    = 8
  }
}

notifications = { email_addresses = ["tarius-local@example.com"] }
