variable "create" {
  description = "Whether to create the log bucket (and the trail when create_trail)."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Globally unique name of the log bucket."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lower-case letters, digits, '.' or '-'."
  }
}

variable "force_destroy" {
  description = "Allow destroying a non-empty log bucket (only for throw-away environments)."
  type        = bool
  default     = false
}

variable "retention_days" {
  description = "Days after which log objects expire."
  type        = number
  default     = 365

  validation {
    condition     = var.retention_days >= 1
    error_message = "retention_days must be at least 1."
  }
}

variable "access_log_source_bucket_arns" {
  description = "Buckets whose server access logs may be delivered here (aws:SourceArn of logging.s3.amazonaws.com)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.access_log_source_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", a))])
    error_message = "access_log_source_bucket_arns must be S3 bucket ARNs."
  }
}

variable "access_log_prefix" {
  description = "Key prefix of the server access logs in the log bucket."
  type        = string
  default     = "s3-access/"

  validation {
    condition     = endswith(var.access_log_prefix, "/") && !startswith(var.access_log_prefix, "/")
    error_message = "access_log_prefix must end with '/' and must not start with '/'."
  }
}

variable "create_trail" {
  description = "Create a CloudTrail trail recording the S3 data events of data_event_bucket_arns into the log bucket."
  type        = bool
  default     = false
}

variable "trail_name" {
  description = "Name of the trail."
  type        = string
  default     = "tarius-data-events"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{2,127}$", var.trail_name))
    error_message = "trail_name must be 3-128 letters, digits, '.', '_' or '-', starting with a letter or digit."
  }
}

variable "trail_prefix" {
  description = "Key prefix of the trail's files in the log bucket (without a trailing '/')."
  type        = string
  default     = "cloudtrail"

  validation {
    condition     = can(regex("^[a-z0-9-]+$", var.trail_prefix))
    error_message = "trail_prefix must be lower-case letters, digits or '-'."
  }
}

variable "data_event_bucket_arns" {
  description = "Buckets whose object-level (data) events the trail records."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.data_event_bucket_arns : can(regex("^arn:aws[a-z-]*:s3:::[a-z0-9.-]+$", a))])
    error_message = "data_event_bucket_arns must be S3 bucket ARNs."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key encrypting the trail's log files (its policy must allow cloudtrail.amazonaws.com); null leaves them SSE-S3."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the bucket and the trail."
  type        = map(string)
  default     = {}
}
