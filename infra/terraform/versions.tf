terraform {
  required_version = ">= 1.10.0"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.60.0, < 6.0.0"
    }
  }

  # Configured per environment: terraform init -backend-config=envs/<env>.backend.hcl
  backend "s3" {}
}
