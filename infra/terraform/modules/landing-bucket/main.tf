data "aws_partition" "current" {}

locals {
  notify = var.create && var.create_notification && var.notification_target != null

  # One event notification per (prefix, suffix): the landing prefix with each suffix, or the filters given (feeds).
  notification_filters = var.notification_filters != null ? var.notification_filters : [
    for s in var.notification_suffixes : { prefix = var.landing_prefix, suffix = s }
  ]

  # Built from the configured name (known at plan time) so the policy can be reviewed in the plan.
  bucket_arn = "arn:${data.aws_partition.current.partition}:s3:::${try(aws_s3_bucket.this[0].bucket, var.bucket_name)}"
}

resource "aws_s3_bucket" "this" {
  count = var.create ? 1 : 0

  bucket        = var.bucket_name
  force_destroy = var.force_destroy
  tags          = var.tags
}

resource "aws_s3_bucket_ownership_controls" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    object_ownership = "BucketOwnerEnforced"
  }
}

resource "aws_s3_bucket_public_access_block" "this" {
  count = var.create ? 1 : 0

  bucket                  = aws_s3_bucket.this[0].id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

resource "aws_s3_bucket_versioning" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    bucket_key_enabled = true

    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = var.kms_key_arn
    }
  }
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["s3:*"]
    resources = [local.bucket_arn, "${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "Bool"
      variable = "aws:SecureTransport"
      values   = ["false"]
    }
  }

  # A put without encryption headers gets the default (this key); one that asks for anything else is refused.
  statement {
    sid       = "DenyOtherEncryption"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption"
      values   = ["aws:kms"]
    }
  }

  statement {
    sid       = "DenyWrongKey"
    effect    = "Deny"
    actions   = ["s3:PutObject"]
    resources = ["${local.bucket_arn}/*"]

    principals {
      type        = "*"
      identifiers = ["*"]
    }

    condition {
      test     = "StringNotEqualsIfExists"
      variable = "s3:x-amz-server-side-encryption-aws-kms-key-id"
      values   = [var.kms_key_arn]
    }
  }
}

resource "aws_s3_bucket_policy" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id
  policy = data.aws_iam_policy_document.this[0].json

  # S3 refuses a policy while the public access block is being changed.
  depends_on = [aws_s3_bucket_public_access_block.this]
}

resource "aws_s3_bucket_lifecycle_configuration" "this" {
  count = var.create ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  rule {
    id     = "rejects"
    status = "Enabled"

    filter {
      prefix = var.rejects_prefix
    }

    expiration {
      days = var.lifecycle_days.rejects_expiration
    }

    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_days.noncurrent_expiration
    }
  }

  rule {
    id     = "reports"
    status = "Enabled"

    filter {
      prefix = var.reports_prefix
    }

    expiration {
      days = var.lifecycle_days.reports_expiration
    }

    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_days.noncurrent_expiration
    }
  }

  rule {
    id     = "landing"
    status = "Enabled"

    filter {
      prefix = var.landing_prefix
    }

    noncurrent_version_expiration {
      noncurrent_days = var.lifecycle_days.noncurrent_expiration
    }
  }

  # A snapshot feed rewrites its state.json at every load and deletes the digests it no longer needs: the versions
  # this leaves behind expire (the current state and digest never do).
  dynamic "rule" {
    for_each = toset(var.snapshot_prefixes)

    content {
      id     = "snapshots-${replace(trimsuffix(rule.value, "/"), "/", "-")}"
      status = "Enabled"

      filter {
        prefix = rule.value
      }

      noncurrent_version_expiration {
        noncurrent_days = var.lifecycle_days.noncurrent_expiration
      }

      expiration {
        expired_object_delete_marker = true
      }
    }
  }

  # Unfinished multipart uploads anywhere in the bucket (the loader's rejects and reports are multipart when large;
  # producers upload under the landing prefix) are removed, so their parts do not linger unseen and billed.
  rule {
    id     = "abort-incomplete-multipart"
    status = "Enabled"

    filter {}

    abort_incomplete_multipart_upload {
      days_after_initiation = var.lifecycle_days.abort_incomplete_multipart
    }
  }

  # Lifecycle rules on a versioned bucket need versioning in place first.
  depends_on = [aws_s3_bucket_versioning.this]
}

# Server access logs (Security Hub S3.9) to a separate bucket, which must use SSE-S3: log delivery does not support
# SSE-KMS targets.
resource "aws_s3_bucket_logging" "this" {
  count = var.create && var.access_log != null ? 1 : 0

  bucket        = aws_s3_bucket.this[0].id
  target_bucket = var.access_log.target_bucket
  target_prefix = var.access_log.target_prefix
}

resource "aws_s3_bucket_notification" "this" {
  count = local.notify ? 1 : 0

  bucket = aws_s3_bucket.this[0].id

  dynamic "lambda_function" {
    for_each = var.notification_target.type == "lambda" ? local.notification_filters : []

    content {
      lambda_function_arn = var.notification_target.arn
      events              = ["s3:ObjectCreated:*"]
      filter_prefix       = lambda_function.value.prefix
      filter_suffix       = lambda_function.value.suffix
    }
  }

  dynamic "queue" {
    for_each = var.notification_target.type == "queue" ? local.notification_filters : []

    content {
      queue_arn     = var.notification_target.arn
      events        = ["s3:ObjectCreated:*"]
      filter_prefix = queue.value.prefix
      filter_suffix = queue.value.suffix
    }
  }
}
