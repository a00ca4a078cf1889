# terraform init -backend-config=envs/devl.backend.hcl  (state bucket and lock table: see docs/deploy.md)
bucket         = "tarius-tfstate-111111111111-eu-west-1"
key            = "tarius/devl/terraform.tfstate"
region         = "eu-west-1"
encrypt        = true
use_lockfile   = true
dynamodb_table = "tarius-tflock"
