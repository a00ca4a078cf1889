data "aws_region" "current" {}

locals {
  fn = { FunctionName = var.function_name }

  # The tables the loader writes: the target table, or every feed's (table_names), whose alarms end in its name.
  tables       = var.table_names != null ? var.table_names : [var.table_name]
  table_suffix = { for t in local.tables : t => var.table_names == null ? "" : "-${t}" }

  # The loads the EMF alarms watch: by table (dimension set table, status) without feeds; by feed (dimension set
  # feed, status) with feeds, each feed's alarms ending in its name.
  loads = var.feed_names == null ? [{ suffix = "", dimensions = { table = var.table_name }, what = "" }] : [
    for f in var.feed_names : { suffix = "-${f}", dimensions = { feed = f }, what = " of feed ${f}" }
  ]

  # A load that would outlive the function stops deadline_margin_ms before the timeout and continues in a new
  # invocation, so long durations are normal: alarm only when an invocation ran into the second half of that margin,
  # i.e. it failed to hand over and is about to be killed. Without a margin: a percentage of the timeout (p99).
  duration_alarm = var.duration_threshold_percent == null && var.deadline_margin_ms != null ? {
    description = "An invocation ran past its handover point (within ${floor(var.deadline_margin_ms / 2)} ms of the timeout): a load did not continue in time."
    namespace   = "AWS/Lambda", metric = "Duration", dimensions = local.fn
    statistic   = "Maximum", extended = null, threshold = var.function_timeout * 1000 - floor(var.deadline_margin_ms / 2)
    } : {
    description = "p99 duration is above ${coalesce(var.duration_threshold_percent, 80)}% of the timeout."
    namespace   = "AWS/Lambda", metric = "Duration", dimensions = local.fn
    statistic   = null, extended = "p99", threshold = var.function_timeout * 1000 * coalesce(var.duration_threshold_percent, 80) / 100
  }

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
      function-duration = local.duration_alarm
      dlq-visible = {
        description = "Failed events are waiting in the dead-letter queue."
        namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = var.dlq_name }
        statistic   = "Maximum", extended = null, threshold = 0
      }
    },
    { for t in local.tables : "table-write-throttles${local.table_suffix[t]}" => {
      description = var.table_names == null ? "Writes to the target table were throttled." : "Writes to the table ${t} were throttled."
      namespace   = "AWS/DynamoDB", metric = "WriteThrottleEvents", dimensions = { TableName = t }
      statistic   = "Sum", extended = null, threshold = 0
    } },
    # With feeds: an object that reached the loader but matches no feed is skipped (EMF ObjectsUnmatched, no
    # dimensions): a producer writing where no feed reads, or a feed missing from the document.
    var.feed_names == null ? {} : {
      objects-unmatched = {
        description = "An object reached the loader but matches no feed: it was skipped, not loaded (EMF ObjectsUnmatched)."
        namespace   = var.metric_namespace, metric = "ObjectsUnmatched", dimensions = {}
        statistic   = "Sum", extended = null, threshold = 0
      }
    },
    { for l in local.loads : "loads-failed${l.suffix}" => {
      description = "A load${l.what} failed (EMF LoadsFailed)."
      namespace   = var.metric_namespace, metric = "LoadsFailed", dimensions = merge(l.dimensions, { status = var.failed_status })
      statistic   = "Sum", extended = null, threshold = 0
    } },
    var.reserved_concurrency == null ? {} : {
      function-concurrency = {
        description = "Concurrent executions are above ${var.concurrency_threshold_percent}% of the reserved concurrency."
        namespace   = "AWS/Lambda", metric = "ConcurrentExecutions", dimensions = local.fn
        statistic   = "Maximum", extended = null, threshold = var.reserved_concurrency * var.concurrency_threshold_percent / 100
      }
    },
    # Asynchronous invocation (direct trigger): events Lambda dropped (too old, retries exhausted) and events it
    # failed to hand to the on-failure destination (a KMS or queue-policy denial would otherwise lose them silently).
    !var.async_invocation ? {} : {
      async-events-dropped = {
        description = "Lambda dropped asynchronous events of the loader (age or retries exceeded, not delivered)."
        namespace   = "AWS/Lambda", metric = "AsyncEventsDropped", dimensions = local.fn
        statistic   = "Sum", extended = null, threshold = 0
      }
      destination-delivery-failures = {
        description = "Lambda failed to deliver failed events to the dead-letter destination: they are lost."
        namespace   = "AWS/Lambda", metric = "DestinationDeliveryFailures", dimensions = local.fn
        statistic   = "Sum", extended = null, threshold = 0
      }
    },
    {
      # Account- and region-wide: DynamoDB publishes UserErrors without dimensions. Conditional-check failures (the
      # ledger's claims) are counted apart (ConditionalCheckFailedRequests) and do not fire it.
      dynamodb-user-errors = {
        description = "DynamoDB answered requests of this account and region with HTTP 400 (validation, access denied, ...)."
        namespace   = "AWS/DynamoDB", metric = "UserErrors", dimensions = {}
        statistic   = "Sum", extended = null, threshold = 0
      }
    },
    var.ledger_table_name == null ? {} : {
      ledger-write-throttles = {
        description = "Writes to the ledger table were throttled."
        namespace   = "AWS/DynamoDB", metric = "WriteThrottleEvents", dimensions = { TableName = var.ledger_table_name }
        statistic   = "Sum", extended = null, threshold = 0
      }
      ledger-read-throttles = {
        description = "Reads of the ledger table were throttled."
        namespace   = "AWS/DynamoDB", metric = "ReadThrottleEvents", dimensions = { TableName = var.ledger_table_name }
        statistic   = "Sum", extended = null, threshold = 0
      }
    },
    var.topic_name == null ? {} : {
      notifications-failed = {
        description = "SNS failed to deliver load summaries or alarms to a subscriber."
        namespace   = "AWS/SNS", metric = "NumberOfNotificationsFailed", dimensions = { TopicName = var.topic_name }
        statistic   = "Sum", extended = null, threshold = 0
      }
    },
    var.delivery_dlq_name == null ? {} : {
      delivery-dlq-visible = {
        description = "Notifications SNS could not deliver wait in the delivery dead-letter queue."
        namespace   = "AWS/SQS", metric = "ApproximateNumberOfMessagesVisible", dimensions = { QueueName = var.delivery_dlq_name }
        statistic   = "Maximum", extended = null, threshold = 0
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

# DynamoDB SystemErrors (HTTP 500 on DynamoDB's side) are published per table and operation: one alarm sums the
# operations the loader calls on its tables and on the ledger, ten metrics at most (CloudWatch's limit for a
# metric math alarm): more tables take more alarms (-2, -3, ...).
locals {
  system_error_metrics = concat(
    flatten([for t in local.tables : [for op in var.table_operations : { table = t, operation = op }]]),
    var.ledger_table_name == null ? [] : [for op in var.ledger_operations : { table = var.ledger_table_name, operation = op }],
  )
  system_error_chunks = chunklist(local.system_error_metrics, 10)
}

resource "aws_cloudwatch_metric_alarm" "dynamodb_system_errors" {
  count = var.create ? length(local.system_error_chunks) : 0

  alarm_name          = "${var.name_prefix}-dynamodb-system-errors${count.index == 0 ? "" : "-${count.index + 1}"}"
  alarm_description   = var.table_names == null ? "DynamoDB failed requests of the loader on its side (SystemErrors of the target table and the ledger)." : "DynamoDB failed requests of the loader on its side (SystemErrors of ${join(", ", distinct([for m in local.system_error_chunks[count.index] : m.table]))})."
  comparison_operator = "GreaterThanThreshold"
  threshold           = 0
  evaluation_periods  = 1
  treat_missing_data  = "notBreaching"
  alarm_actions       = [var.alarm_topic_arn]
  ok_actions          = [var.alarm_topic_arn]
  tags                = var.tags

  metric_query {
    id          = "total"
    expression  = join(" + ", [for i, m in local.system_error_chunks[count.index] : "FILL(s${i}, 0)"])
    label       = "SystemErrors"
    return_data = true
  }

  dynamic "metric_query" {
    for_each = local.system_error_chunks[count.index]

    content {
      id = "s${metric_query.key}"

      metric {
        namespace   = "AWS/DynamoDB"
        metric_name = "SystemErrors"
        dimensions  = { TableName = metric_query.value.table, Operation = metric_query.value.operation }
        stat        = "Sum"
        period      = var.period
      }
    }
  }
}

# RowsRejected is emitted once per load status, so the alarm sums the series of all statuses (one alarm per feed).
resource "aws_cloudwatch_metric_alarm" "rows_rejected" {
  count = var.create ? length(local.loads) : 0

  alarm_name          = "${var.name_prefix}-rows-rejected${local.loads[count.index].suffix}"
  alarm_description   = "More than ${var.rows_rejected_threshold} rows${local.loads[count.index].what} were rejected (EMF RowsRejected)."
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
        dimensions  = merge(local.loads[count.index].dimensions, { status = metric_query.value })
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
        metrics = concat([for l in local.loads : [for s in var.load_statuses : concat([var.metric_namespace, m], flatten([for k, v in l.dimensions : [k, v]]), ["status", s])]]...)
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
