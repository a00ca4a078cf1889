variable "project" {
  description = "Project name, first part of every resource name."
  type        = string
  default     = "tarius"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project must be 2-21 lower-case letters, digits or '-', starting with a letter."
  }
}

variable "env" {
  description = "Environment: devl, test, prod or local (the local stack)."
  type        = string

  validation {
    condition     = contains(["devl", "test", "prod", "local"], var.env)
    error_message = "env must be devl, test, prod or local."
  }
}

variable "region" {
  description = "AWS region."
  type        = string
  default     = "eu-west-1"

  validation {
    condition     = can(regex("^[a-z]{2}(-gov)?-[a-z]+-[0-9]$", var.region))
    error_message = "region must look like eu-west-1."
  }
}

variable "allowed_account_ids" {
  description = "Accounts this configuration may touch (guards against applying prod to the wrong account)."
  type        = list(string)
  default     = null
}

variable "deploy_role_name" {
  description = "IAM role that applies this configuration (docs/deploy.md); it administers the created KMS key through the key policy. null: none named."
  type        = string
  default     = null
}

variable "permissions_boundary_name" {
  description = "Customer managed policy set as permissions boundary of every role this configuration creates (the deploy role may only create roles carrying it). null: none."
  type        = string
  default     = null
}

variable "audit_logs" {
  description = "S3 server access logs of the landing bucket and a CloudTrail trail of its data events, in a log bucket of their own."
  type = object({
    access_logs    = optional(bool, false)
    data_events    = optional(bool, false)
    retention_days = optional(number, 365)
  })
  default = {}
}

variable "dlq_redrive_allow_policy" {
  description = "Give the dead-letter queues a redrive allow policy naming their only source queue; false only for a local stack that lacks the attribute (moto 5)."
  type        = bool
  default     = true
}

variable "local_endpoint" {
  description = "Endpoint of a local AWS stack (e.g. http://127.0.0.1:5000); when set every service uses it."
  type        = string
  default     = null

  validation {
    condition     = var.local_endpoint == null || can(regex("^https?://", var.local_endpoint))
    error_message = "local_endpoint must be an http(s) URL."
  }
}

variable "tags" {
  description = "Tags added to every resource (on top of Project, Environment and ManagedBy)."
  type        = map(string)
  default     = {}
}

variable "kms" {
  description = "Create a customer managed key (create = true) or use an existing one (key_arn)."
  type = object({
    create                  = optional(bool, true)
    key_arn                 = optional(string)
    deletion_window_in_days = optional(number, 30)
  })
  default = {}

  validation {
    condition     = var.kms.create || var.kms.key_arn != null
    error_message = "kms.key_arn is required when kms.create is false."
  }
}

variable "trigger" {
  description = "direct: S3 invokes the function; queue: S3 -> SQS -> event source mapping (the tarius worker may share the queue)."
  type        = string
  default     = "direct"

  validation {
    condition     = contains(["direct", "queue"], var.trigger)
    error_message = "trigger must be direct or queue."
  }
}

variable "function" {
  description = "Loader function settings."
  type = object({
    package_path                   = optional(string)
    architecture                   = optional(string, "arm64")
    memory_size                    = optional(number, 1769)
    timeout                        = optional(number, 900)
    reserved_concurrent_executions = optional(number)
    log_retention_days             = optional(number, 30)
    log_level                      = optional(string, "info")
    tracing_mode                   = optional(string, "PassThrough")
    max_wcu                        = optional(number)
    mapping                        = optional(string)
    create_event_source_mapping    = optional(bool, true)
  })
  default = {}

  validation {
    condition     = contains(["arm64", "x86_64"], var.function.architecture)
    error_message = "function.architecture must be arm64 or x86_64."
  }

  # A budget above a provisioned table's write capacity is throttled all along: leave max_wcu unset (it follows the
  # capacity) or keep it within.
  validation {
    condition     = var.function.max_wcu == null || var.table.billing_mode != "PROVISIONED" || try(var.function.max_wcu <= var.table.write_capacity, false)
    error_message = "function.max_wcu exceeds table.write_capacity of the PROVISIONED table: leave it unset (it follows the capacity) or lower it."
  }
}

variable "package_path" {
  description = "Path of the Lambda zip; overrides function.package_path (default build/package/tarius-lambda-<arch>.zip)."
  type        = string
  default     = null
}

variable "bucket" {
  description = "Landing bucket settings."
  type = object({
    force_destroy  = optional(bool, false)
    landing_prefix = optional(string, "raw-data/")
    rejects_prefix = optional(string, "invalid-records/")
    reports_prefix = optional(string, "load-reports/")
    suffixes       = optional(list(string), [".csv", ".csv.gz", ".csv.zst"])
    lifecycle_days = optional(object({
      rejects_expiration         = optional(number, 90)
      reports_expiration         = optional(number, 365)
      noncurrent_expiration      = optional(number, 30)
      abort_incomplete_multipart = optional(number, 7)
    }), {})
  })
  default = {}
}

variable "table" {
  description = "Target table settings; deletion_protection null means on in prod only."
  type = object({
    billing_mode           = optional(string, "PAY_PER_REQUEST")
    read_capacity          = optional(number, 5)
    write_capacity         = optional(number, 25)
    hash_key               = optional(object({ name = string, type = optional(string, "S") }), { name = "pk", type = "S" })
    range_key              = optional(object({ name = string, type = optional(string, "S") }))
    point_in_time_recovery = optional(bool, true)
    deletion_protection    = optional(bool)
  })
  default = {}

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.table.billing_mode)
    error_message = "table.billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "notifications" {
  description = "Subscribers of the load-summary and alarm topic."
  type = object({
    email_addresses = optional(list(string), [])
    https_endpoints = optional(list(string), [])
    sqs_subscriptions = optional(list(object({
      queue_arn            = string
      raw_message_delivery = optional(bool, true)
      filter_policy        = optional(string)
    })), [])
  })
  default = {}
}

variable "alarms" {
  description = "Alarm settings."
  type = object({
    create                     = optional(bool, true)
    create_dashboard           = optional(bool, true)
    duration_threshold_percent = optional(number)
    rows_rejected_threshold    = optional(number, 0)
    period                     = optional(number, 300)
  })
  default = {}
}
