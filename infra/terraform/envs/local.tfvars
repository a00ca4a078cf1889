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

# Two feeds, each into a table of its own (tarius-products-local-us-east-1, tarius-stock-local-us-east-1) keyed by
# its mapping's partition key: products puts every row; stock is a delete feed, whose op column makes rows deletes.
# tests/python/test_terraform_apply_local.py loads a file of each through `tarius worker`.
feeds = {
  products = {
    match = { prefix = "raw-data/products/" }
    mapping = {
      partition_key = "ID:S"
      columns       = { "Price (USD)" = { attribute = "price_usd", type = "number", currency = true } }
    }
  }
  stock = {
    match = { prefix = "raw-data/stock/", suffixes = [".csv"] }
    mapping = {
      partition_key = "SKU:S"
      columns       = { "Quantity" = { attribute = "quantity", type = "number" } }
    }
    mode           = "delete"
    op             = { column = "op", delete = ["D"] }
    rejects_prefix = "invalid-records/stock/"
    max_wcu        = 200
    concurrency    = 4
  }
}

notifications = { email_addresses = ["tarius-local@example.com"] }
