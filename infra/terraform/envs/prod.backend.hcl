# terraform init -backend-config=envs/prod.backend.hcl  (state bucket and lock table: see docs/deploy.md)
bucket         = "tarius-tfstate-333333333333-eu-west-1"
key            = "tarius/prod/terraform.tfstate"
region         = "eu-west-1"
encrypt        = true
use_lockfile   = true
dynamodb_table = "tarius-tflock"
