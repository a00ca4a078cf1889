data "aws_region" "current" {}

locals {
  fn  = { FunctionName = var.function_name }
  emf = { table = var.table_name }

  # One entry per alarm; statistic or extended_statistic, never both.
  alarms = merge(
    {
      function-errors = {
        description = "The loader function reported errors."
        namespace   = "AWS/Lambda", metric = "Errors", dimensions = local.fn
        statistic   = "Sum", extended = null, threshold = 0
      }
      function-throttles = {
        description = "Invocations of the loader function were throttled."
        namespace   = "AWS/Lambda", metric = "Throttles", dimensions = local.fn
        statistic   = "Sum", extended = null, threshold = 0
      }
      function-duration = {
        description = "p99 duration is above ${var.duration_threshold_percent}% of the timeout."
        namespace   = "AWS/Lambda", metric = "Duration", dimensions = local.fn
        statistic   = null, extended = "p99", threshold = var.function_timeout * 1000 * var.duration_threshold_percent / 100
      }
      dlq-visible = {
        description = "Failed events are waiting in the dead-letter queue."
        namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = var.dlq_name }
        statistic   = "Maximum", extended = null, threshold = 0
      }
      table-write-throttles = {
        description = "Writes to the target table were throttled."
        namespace   = "AWS/DynamoDB", metric = "WriteThrottleEvents", dimensions = { TableName = var.table_name }
        statistic   = "Sum", extended = null, threshold = 0
      }
      loads-failed = {
        description = "A load failed (EMF LoadsFailed)."
        namespace   = var.metric_namespace, metric = "LoadsFailed", dimensions = merge(local.emf, { status = var.failed_status })
        statistic   = "Sum", extended = null, threshold = 0
      }
    },
    var.reserved_concurrency == null ? {} : {
      function-concurrency = {
        description = "Concurrent executions are above ${var.concurrency_threshold_percent}% of the reserved concurrency."
        namespace   = "AWS/Lambda", metric = "ConcurrentExecutions", dimensions = local.fn
        statistic   = "Maximum", extended = null, threshold = var.reserved_concurrency * var.concurrency_threshold_percent / 100
      }
    },
    var.queue_name == null ? {} : {
      queue-age = {
        description = "Events wait too long in the event queue."
        namespace   = "AWS/SQS", metric = "ApproximateAgeOfOldestMessage", dimensions = { QueueName = var.queue_name }
        statistic   = "Maximum", extended = null, threshold = var.queue_age_threshold_seconds
      }
    },
  )
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each = var.create ? local.alarms : {}

  alarm_name          = "${var.name_prefix}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  extended_statistic  = each.value.extended
  comparison_operator = "GreaterThanThreshold"
  threshold           = each.value.threshold
  period              = var.period
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags
}

# RowsRejected is emitted once per load status, so the alarm sums the series of all statuses.
resource "aws_cloudwatch_metric_alarm" "rows_rejected" {
  count = var.create ? 1 : 0

  alarm_name          = "${var.name_prefix}-rows-rejected"
  alarm_description   = "More than ${var.rows_rejected_threshold} rows were rejected (EMF RowsRejected)."
  comparison_operator = "GreaterThanThreshold"
  threshold           = var.rows_rejected_threshold
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags

  metric_query {
    id          = "total"
    expression  = join(" + ", [for i, s in var.load_statuses : "FILL(m${i}, 0)"])
    label       = "RowsRejected"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = var.load_statuses

    content {
      id = "m${metric_query.key}"

      metric {
        namespace   = var.metric_namespace
        metric_name = "RowsRejected"
        dimensions  = merge(local.emf, { status = metric_query.value })
        stat        = "Sum"
        period      = var.period
      }
    }
  }
}

locals {
  region = data.aws_region.current.name

  emf_widgets = [
    for i, m in ["RowsRead", "ItemsWritten", "RowsRejected", "BytesRead", "WCUConsumed", "Throttles", "LoadDuration", "LoadsFailed"] : {
      type   = "metric"
      x      = (i % 3) * 8
      y      = floor(i / 3) * 6
      width  = 8
      height = 6
      properties = {
        title   = m
        region  = local.region
        stat    = m == "LoadDuration" ? "p99" : "Sum"
        period  = var.period
        metrics = [for s in var.load_statuses : [var.metric_namespace, m, "table", var.table_name, "status", s]]
      }
    }
  ]

  lambda_widget = {
    type   = "metric"
    x      = 16
    y      = 12
    width  = 8
    height = 6
    properties = {
      title  = "Function"
      region = local.region
      stat   = "Sum"
      period = var.period
      metrics = [
        ["AWS/Lambda", "Invocations", "FunctionName", var.function_name],
        ["AWS/Lambda", "Errors", "FunctionName", var.function_name],
        ["AWS/Lambda", "Throttles", "FunctionName", var.function_name],
        ["AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", var.dlq_name, { stat = "Maximum" }],
      ]
    }
  }
}

resource "aws_cloudwatch_dashboard" "this" {
  count = var.create && var.create_dashboard ? 1 : 0

  dashboard_name = var.name_prefix
  dashboard_body = jsonencode({ widgets = concat(local.emf_widgets, [local.lambda_widget]) })
}
