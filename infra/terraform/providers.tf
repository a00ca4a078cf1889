locals {
  # Every service endpoint points at the local stack when local_endpoint is set; null keeps the AWS defaults.
  ep = var.local_endpoint
}

provider "aws" {
  region = var.region

  s3_use_path_style           = local.ep != null
  skip_credentials_validation = local.ep != null
  skip_metadata_api_check     = local.ep != null
  skip_region_validation      = local.ep != null
  allowed_account_ids         = var.allowed_account_ids

  endpoints {
    cloudwatch     = local.ep
    cloudwatchlogs = local.ep
    dynamodb       = local.ep
    iam            = local.ep
    kms            = local.ep
    lambda         = local.ep
    s3             = local.ep
    sns            = local.ep
    sqs            = local.ep
    sts            = local.ep
  }

  default_tags {
    tags = merge(var.tags, {
      Project     = var.project
      Environment = var.env
      ManagedBy   = "terraform"
    })
  }
}
