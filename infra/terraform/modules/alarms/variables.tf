variable "create" {
  description = "Whether to create the alarms and the dashboard."
  type        = bool
  default     = true
}

variable "name_prefix" {
  description = "Prefix of alarm and dashboard names."
  type        = string
}

variable "alarm_topic_arn" {
  description = "SNS topic notified when an alarm fires or recovers."
  type        = string
}

variable "function_name" {
  description = "Name of the loader function."
  type        = string
}

variable "function_timeout" {
  description = "Timeout of the loader function in seconds (the Duration alarm fires near it)."
  type        = number

  validation {
    condition     = var.function_timeout >= 1 && var.function_timeout <= 900
    error_message = "function_timeout must be between 1 and 900."
  }
}

variable "duration_threshold_percent" {
  description = "Duration alarm threshold as a percentage of the timeout (p99); null (with deadline_margin_ms) alarms on an invocation that ran past its handover point instead."
  type        = number
  default     = null

  validation {
    condition     = var.duration_threshold_percent == null || try(var.duration_threshold_percent > 0 && var.duration_threshold_percent <= 100, false)
    error_message = "duration_threshold_percent must be null or in (0, 100]."
  }
}

variable "deadline_margin_ms" {
  description = "TARIUS_DEADLINE_MARGIN_MS of the function: loads stop this long before the timeout and continue; the Duration alarm fires past half of it."
  type        = number
  default     = null

  validation {
    condition     = var.deadline_margin_ms == null || try(var.deadline_margin_ms > 0, false)
    error_message = "deadline_margin_ms must be null or positive."
  }
}

variable "async_invocation" {
  description = "The function is invoked asynchronously (direct trigger): alarm on AsyncEventsDropped and DestinationDeliveryFailures."
  type        = bool
  default     = false
}

variable "ledger_table_name" {
  description = "Name of the ledger table (throttle and SystemErrors alarms); null skips them."
  type        = string
  default     = null
}

variable "table_operations" {
  description = "DynamoDB operations the loader calls on its tables (SystemErrors alarm)."
  type        = list(string)
  default     = ["BatchWriteItem", "DescribeTable"]
}

variable "ledger_operations" {
  description = "DynamoDB operations the loader calls on the ledger table (SystemErrors alarm)."
  type        = list(string)
  default     = ["GetItem", "PutItem", "UpdateItem"]
}

variable "topic_name" {
  description = "Name of the notification topic (NumberOfNotificationsFailed alarm); null skips it."
  type        = string
  default     = null
}

variable "delivery_dlq_name" {
  description = "Name of the SNS delivery dead-letter queue (messages-visible alarm); null skips it."
  type        = string
  default     = null
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the function; null skips the ConcurrentExecutions alarm."
  type        = number
  default     = null
}

variable "concurrency_threshold_percent" {
  description = "ConcurrentExecutions alarm threshold as a percentage of the reserved concurrency."
  type        = number
  default     = 80

  validation {
    condition     = var.concurrency_threshold_percent > 0 && var.concurrency_threshold_percent <= 100
    error_message = "concurrency_threshold_percent must be in (0, 100]."
  }
}

variable "dlq_name" {
  description = "Name of the dead-letter queue."
  type        = string
}

variable "queue_name" {
  description = "Name of the event queue (queue trigger); null skips the queue-age alarm."
  type        = string
  default     = null
}

variable "queue_age_threshold_seconds" {
  description = "Alarm when the oldest event waits longer than this in the event queue."
  type        = number
  default     = 3600
}

variable "table_name" {
  description = "Name of the target DynamoDB table (WriteThrottleEvents alarm, EMF dimension `table`); ignored when table_names is set."
  type        = string
  default     = null
}

variable "table_names" {
  description = "Names of the tables the loader writes (feeds); null: table_name alone. Each table gets its table alarms, named after the table."
  type        = list(string)
  default     = null

  validation {
    condition     = var.table_names == null || try(length(var.table_names) > 0 && length(distinct(var.table_names)) == length(var.table_names), false)
    error_message = "table_names must be null or a non-empty list of distinct names."
  }
}

variable "feed_names" {
  description = "Names of the feeds (EMF dimension `feed`): the load alarms (LoadsFailed, RowsRejected) and the dashboard watch each feed; null: the loads of table_name (EMF dimension `table`)."
  type        = list(string)
  default     = null

  validation {
    condition     = var.feed_names == null || try(length(var.feed_names) > 0 && length(distinct(var.feed_names)) == length(var.feed_names), false)
    error_message = "feed_names must be null or a non-empty list of distinct names."
  }
}

variable "metric_namespace" {
  description = "Namespace of the loader's EMF metrics."
  type        = string
  default     = "Tarius"
}

variable "load_statuses" {
  description = "Values of the EMF `status` dimension; the first one that means failure is failed_status."
  type        = list(string)
  default     = ["succeeded", "succeeded_with_rejects", "failed"]
}

variable "failed_status" {
  description = "Value of the EMF `status` dimension for failed loads."
  type        = string
  default     = "failed"
}

variable "rows_rejected_threshold" {
  description = "Alarm when more rows than this are rejected in one period."
  type        = number
  default     = 0

  validation {
    condition     = var.rows_rejected_threshold >= 0
    error_message = "rows_rejected_threshold must not be negative."
  }
}

variable "period" {
  description = "Alarm period in seconds."
  type        = number
  default     = 300

  validation {
    condition     = contains([10, 30, 60], var.period) || (var.period >= 60 && var.period % 60 == 0)
    error_message = "period must be 10, 30 or a multiple of 60."
  }
}

variable "create_dashboard" {
  description = "Create the CloudWatch dashboard of the load metrics."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to the alarms."
  type        = map(string)
  default     = {}
}
