data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}

data "aws_region" "current" {}

locals {
  # Built from the configured name (known at plan time) so the policy can be reviewed in the plan.
  topic_arn    = "arn:${data.aws_partition.current.partition}:sns:${data.aws_region.current.name}:${data.aws_caller_identity.current.account_id}:${try(aws_sns_topic.this[0].name, var.name)}"
  account_root = "arn:${data.aws_partition.current.partition}:iam::${data.aws_caller_identity.current.account_id}:root"

  # The actions a topic policy may name.
  topic_actions = [
    "sns:AddPermission", "sns:DeleteTopic", "sns:GetTopicAttributes", "sns:ListSubscriptionsByTopic",
    "sns:ListTagsForResource", "sns:Publish", "sns:RemovePermission", "sns:SetTopicAttributes", "sns:Subscribe",
    "sns:TagResource", "sns:UntagResource",
  ]

  # Subscribers that cannot be reached keep their messages in the delivery dead-letter queue instead of losing them.
  redrive_policy = var.delivery_dlq_arn == null ? null : jsonencode({ deadLetterTargetArn = var.delivery_dlq_arn })
}

resource "aws_sns_topic" "this" {
  count = var.create ? 1 : 0

  name              = var.name
  kms_master_key_id = var.kms_key_arn
  tags              = var.tags
}

data "aws_iam_policy_document" "this" {
  count = var.create ? 1 : 0

  statement {
    sid       = "OwnerManages"
    actions   = ["sns:GetTopicAttributes", "sns:SetTopicAttributes", "sns:Subscribe", "sns:ListSubscriptionsByTopic", "sns:DeleteTopic", "sns:TagResource", "sns:UntagResource", "sns:ListTagsForResource"]
    resources = [local.topic_arn]

    principals {
      type        = "AWS"
      identifiers = [local.account_root]
    }
  }

  dynamic "statement" {
    for_each = length(var.publisher_role_arns) > 0 ? [1] : []

    content {
      sid       = "Publishers"
      actions   = ["sns:Publish"]
      resources = [local.topic_arn]

      principals {
        type        = "AWS"
        identifiers = [local.account_root]
      }

      condition {
        test     = "ArnEquals"
        variable = "aws:PrincipalArn"
        values   = var.publisher_role_arns
      }
    }
  }

  dynamic "statement" {
    for_each = var.allow_cloudwatch_alarms ? [1] : []

    content {
      sid       = "CloudWatchAlarms"
      actions   = ["sns:Publish"]
      resources = [local.topic_arn]

      principals {
        type        = "Service"
        identifiers = ["cloudwatch.amazonaws.com"]
      }

      condition {
        test     = "StringEquals"
        variable = "aws:SourceAccount"
        values   = [data.aws_caller_identity.current.account_id]
      }

      dynamic "condition" {
        for_each = length(var.alarm_source_arns) > 0 ? [1] : []

        content {
          test     = "ArnLike"
          variable = "aws:SourceArn"
          values   = var.alarm_source_arns
        }
      }
    }
  }

  # Every action a topic policy can name, not only Publish: subscribing or reading attributes over plain HTTP is
  # refused too.
  statement {
    sid       = "DenyInsecureTransport"
    effect    = "Deny"
    actions   = local.topic_actions
    resources = [local.topic_arn]

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
}

resource "aws_sns_topic_policy" "this" {
  count = var.create ? 1 : 0

  arn    = aws_sns_topic.this[0].arn
  policy = data.aws_iam_policy_document.this[0].json
}

resource "aws_sns_topic_subscription" "email" {
  for_each = var.create ? toset(var.email_addresses) : toset([])

  topic_arn = aws_sns_topic.this[0].arn
  protocol  = "email"
  endpoint  = each.value
}

resource "aws_sns_topic_subscription" "sqs" {
  for_each = var.create ? { for s in var.sqs_subscriptions : s.queue_arn => s } : {}

  topic_arn            = aws_sns_topic.this[0].arn
  protocol             = "sqs"
  endpoint             = each.value.queue_arn
  raw_message_delivery = each.value.raw_message_delivery
  filter_policy        = each.value.filter_policy
  redrive_policy       = local.redrive_policy
}

resource "aws_sns_topic_subscription" "https" {
  for_each = var.create ? toset(var.https_endpoints) : toset([])

  topic_arn              = aws_sns_topic.this[0].arn
  protocol               = "https"
  endpoint               = each.value
  endpoint_auto_confirms = false
  redrive_policy         = local.redrive_policy
}
