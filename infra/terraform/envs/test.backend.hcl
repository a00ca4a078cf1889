# terraform init -backend-config=envs/test.backend.hcl  (state bucket: see docs/deploy.md)
bucket         = "tarius-tfstate-222222222222-eu-west-1"
key            = "tarius/test/terraform.tfstate"
region         = "eu-west-1"
encrypt        = true
use_lockfile   = true # S3-native lock (Terraform >= 1.10): <key>.tflock next to the state
