data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  # Built from the configured name (known at plan time) so the policy can be reviewed in the plan.
  queue_arn = "arn:${data.aws_partition.current.partition}:sqs:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${try(aws_sqs_queue.this[0].name, var.name)}"
}

resource "aws_sqs_queue" "this" {
  count = var.create ? 1 : 0

  name                              = var.name
  kms_master_key_id                 = var.kms_key_arn
  kms_data_key_reuse_period_seconds = 300
  message_retention_seconds         = var.message_retention_seconds
  tags                              = var.tags

  # Only the listed queues may use this one as their dead-letter queue (none: no queue may).
  redrive_allow_policy = !var.set_redrive_allow_policy ? null : length(var.source_queue_arns) > 0 ? jsonencode({
    redrivePermission = "byQueue"
    sourceQueueArns   = var.source_queue_arns
  }) : jsonencode({ redrivePermission = "denyAll" })
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = ["sqs:*"]
    resources = [local.queue_arn]

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

  dynamic "statement" {
    for_each = length(var.producer_role_arns) > 0 ? [1] : []

    content {
      sid       = "AllowProducers"
      actions   = ["sqs:SendMessage"]
      resources = [local.queue_arn]

      principals {
        type        = "AWS"
        identifiers = ["arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:PrincipalArn"
        values   = var.producer_role_arns
      }
    }
  }

  # AWS services that dead-letter into this queue on their own behalf (SNS subscriptions' redrive), limited to the
  # resources that cause it.
  dynamic "statement" {
    for_each = { for s in var.service_senders : s.sid => s }

    content {
      sid       = statement.value.sid
      actions   = ["sqs:SendMessage"]
      resources = [local.queue_arn]

      principals {
        type        = "Service"
        identifiers = ["${statement.value.service}.amazonaws.com"]
      }

      condition {
        test     = "ArnLike"
        variable = "aws:SourceArn"
        values   = statement.value.source_arns
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }
    }
  }

  dynamic "statement" {
    for_each = length(var.producer_role_arns) > 0 ? [1] : []

    content {
      # Only the listed producers may send: everything else that reaches the queue comes from SQS redrive.
      sid       = "DenyOtherSenders"
      effect    = "Deny"
      actions   = ["sqs:SendMessage"]
      resources = [local.queue_arn]

      principals {
        type        = "*"
        identifiers = ["*"]
      }

      condition {
        test     = "ArnNotEquals"
        variable = "aws:PrincipalArn"
        values   = var.producer_role_arns
      }
    }
  }
}

resource "aws_sqs_queue_policy" "this" {
  count = var.create ? 1 : 0

  queue_url = aws_sqs_queue.this[0].id
  policy    = data.aws_iam_policy_document.this[0].json
}
