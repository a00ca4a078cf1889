variable "create" {
  description = "Whether to create the function and everything around it."
  type        = bool
  default     = true
}

variable "function_name" {
  description = "Name of the Lambda function (also names its role, log group and queue unless given)."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,64}$", var.function_name))
    error_message = "function_name must be 1-64 letters, digits, '-' or '_'."
  }
}

variable "description" {
  description = "Description of the function."
  type        = string
  default     = "Tarius CSV to DynamoDB loader"
}

variable "package_path" {
  description = "Path of the zip holding the bootstrap binary (built by scripts/package)."
  type        = string
}

variable "architecture" {
  description = "Instruction set of the function: arm64 or x86_64."
  type        = string
  default     = "arm64"

  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "memory_size" {
  description = "Memory in MB (1769 MB gives one full vCPU)."
  type        = number
  default     = 1769

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size must be between 128 and 10240."
  }
}

variable "timeout" {
  description = "Function timeout in seconds."
  type        = number
  default     = 900

  validation {
    condition     = var.timeout >= 1 && var.timeout <= 900
    error_message = "timeout must be between 1 and 900 seconds."
  }
}

variable "reserved_concurrent_executions" {
  description = "Reserved concurrency; null leaves the function unreserved."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrent_executions == null || try(var.reserved_concurrent_executions >= 0, false)
    error_message = "reserved_concurrent_executions must be null or at least 0."
  }
}

variable "log_retention_days" {
  description = "Retention of the function's log group."
  type        = number
  default     = 30

  validation {
    condition     = contains([1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653], var.log_retention_days)
    error_message = "log_retention_days must be a value CloudWatch Logs accepts (1, 3, 5, 7, 14, 30, 60, 90, ...)."
  }
}

variable "log_level" {
  description = "TARIUS_LOG_LEVEL of the function."
  type        = string
  default     = "info"

  validation {
    condition     = contains(["trace", "debug", "info", "warn", "error"], var.log_level)
    error_message = "log_level must be trace, debug, info, warn or error."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key for the log group, the queue and the environment variables."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "bucket_name" {
  description = "Name of the landing bucket."
  type        = string
}

variable "prefixes" {
  description = "Landing, rejects and reports prefixes in the bucket."
  type = object({
    landing = optional(string, "raw-data/")
    rejects = optional(string, "invalid-records/")
    reports = optional(string, "load-reports/")
  })
  default = {}

  validation {
    condition     = alltrue([for p in values(var.prefixes) : endswith(p, "/") && !startswith(p, "/")])
    error_message = "prefixes must end with '/' and must not start with '/'."
  }
}

variable "table_name" {
  description = "Name of the target DynamoDB table (TARIUS_TABLE); null with feeds."
  type        = string
  default     = null

  validation {
    condition     = var.table_name != null || var.feeds != null
    error_message = "table_name is required without feeds."
  }
}

variable "feeds" {
  description = "Feeds mode: the feeds document (TARIUS_FEEDS, replacing TARIUS_TABLE and TARIUS_LANDING_PREFIX: inline, or s3://bucket/key with document_object = bucket/key, which the function may then read) and what its feeds need: the prefixes they load from, write rejects and reports to, each table with the DynamoDB actions its feeds' modes call, and where the snapshot feeds keep their state and digests (snapshot_areas: <digests_prefix><feed>/ each). null: the one feed of prefixes.landing into table_name."
  type = object({
    document         = string
    landing_prefixes = list(string)
    rejects_prefixes = list(string)
    reports_prefixes = list(string)
    table_actions    = map(list(string))
    document_object  = optional(string)
    snapshot_areas   = optional(list(string), [])
  })
  default = null

  validation {
    condition = var.feeds == null || try(length(var.feeds.landing_prefixes) > 0 && length(var.feeds.table_actions) > 0 && alltrue([
      for p in concat(var.feeds.landing_prefixes, var.feeds.rejects_prefixes, var.feeds.reports_prefixes, var.feeds.snapshot_areas) : endswith(p, "/") && !startswith(p, "/")
    ]) && alltrue([for a in flatten(values(var.feeds.table_actions)) : startswith(a, "dynamodb:")]) && (var.feeds.document_object == null) == !startswith(var.feeds.document, "s3://"), false)
    error_message = "feeds needs at least one landing prefix and one table; prefixes end with '/' and do not start with '/'; table actions are dynamodb:* actions; document_object is given exactly when the document is an s3:// URI."
  }
}

variable "ledger_table_name" {
  description = "Name of the load-ledger DynamoDB table."
  type        = string
}

variable "topic_name" {
  description = "Name of the SNS topic receiving a summary per load."
  type        = string
}

variable "dlq_name" {
  description = "Name of the dead-letter queue for failed invocations (same account and region)."
  type        = string
}

variable "max_wcu" {
  description = "TARIUS_MAX_WCU: cap on write capacity units per second the loader consumes; null leaves it unset."
  type        = number
  default     = null

  validation {
    condition     = var.max_wcu == null || try(var.max_wcu > 0, false)
    error_message = "max_wcu must be null or positive."
  }
}

variable "mapping" {
  description = "TARIUS_MAPPING: inline JSON mapping or s3:// URI; null leaves it unset."
  type        = string
  default     = null
}

variable "trigger" {
  description = "How S3 events reach the function: direct (S3 invokes it) or queue (S3 -> SQS -> event source mapping)."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "queue"], var.trigger)
    error_message = "trigger must be direct or queue."
  }
}

variable "async" {
  description = "Asynchronous invocation settings (direct trigger)."
  type = object({
    maximum_retry_attempts       = optional(number, 2)
    maximum_event_age_in_seconds = optional(number, 21600)
  })
  default = {}

  validation {
    condition     = var.async.maximum_retry_attempts >= 0 && var.async.maximum_retry_attempts <= 2 && var.async.maximum_event_age_in_seconds >= 60 && var.async.maximum_event_age_in_seconds <= 21600
    error_message = "async.maximum_retry_attempts must be 0-2 and async.maximum_event_age_in_seconds 60-21600."
  }
}

variable "queue" {
  description = "Event queue settings (queue trigger); visibility_timeout_seconds null means 6 x the function timeout."
  type = object({
    name                               = optional(string)
    visibility_timeout_seconds         = optional(number)
    message_retention_seconds          = optional(number, 345600)
    max_receive_count                  = optional(number, 5)
    batch_size                         = optional(number, 10)
    maximum_batching_window_in_seconds = optional(number, 0)
    maximum_concurrency                = optional(number)
  })
  default = {}

  validation {
    condition     = var.queue.visibility_timeout_seconds == null || try(var.queue.visibility_timeout_seconds <= 43200, false)
    error_message = "queue.visibility_timeout_seconds must be at most 43200."
  }

  validation {
    condition     = var.queue.max_receive_count >= 1 && var.queue.batch_size >= 1 && var.queue.batch_size <= 10000
    error_message = "queue.max_receive_count must be at least 1 and queue.batch_size 1-10000."
  }

  validation {
    condition     = var.queue.maximum_concurrency == null || try(var.queue.maximum_concurrency >= 2, false)
    error_message = "queue.maximum_concurrency must be null or at least 2."
  }
}

variable "role_name" {
  description = "Name of the execution role; null uses the function name."
  type        = string
  default     = null
}

variable "environment" {
  description = "Extra environment variables merged after the TARIUS_* ones."
  type        = map(string)
  default     = {}
}

variable "create_event_source_mapping" {
  description = "Create the SQS event source mapping (queue trigger); false leaves the queue to the tarius worker."
  type        = bool
  default     = true
}

variable "permissions_boundary_arn" {
  description = "Permissions boundary of the execution role (the deploy role may only create roles that carry it); null: none."
  type        = string
  default     = null

  validation {
    condition     = var.permissions_boundary_arn == null || can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:policy/", var.permissions_boundary_arn))
    error_message = "permissions_boundary_arn must be an IAM policy ARN."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing of the function: PassThrough (off unless the caller traces) or Active."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["PassThrough", "Active"], var.tracing_mode)
    error_message = "tracing_mode must be PassThrough or Active."
  }
}

variable "tags" {
  description = "Tags added to every resource of the module."
  type        = map(string)
  default     = {}
}
