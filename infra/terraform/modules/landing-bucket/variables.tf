variable "create" {
  description = "Whether to create the bucket."
  type        = bool
  default     = true
}

variable "bucket_name" {
  description = "Globally unique bucket name."
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lower-case letters, digits, '.' or '-'."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key for SSE-KMS default encryption (with an S3 bucket key)."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "force_destroy" {
  description = "Allow destroying a non-empty bucket (only for throw-away environments)."
  type        = bool
  default     = false
}

variable "landing_prefix" {
  description = "Prefix where producers drop CSV files; the event notification watches it."
  type        = string
  default     = "raw-data/"

  validation {
    condition     = can(regex("^[^/].*/$", var.landing_prefix))
    error_message = "landing_prefix must not start with '/' and must end with '/'."
  }
}

variable "rejects_prefix" {
  description = "Prefix of rejected rows written by the loader."
  type        = string
  default     = "invalid-records/"

  validation {
    condition     = can(regex("^[^/].*/$", var.rejects_prefix))
    error_message = "rejects_prefix must not start with '/' and must end with '/'."
  }
}

variable "reports_prefix" {
  description = "Prefix of load reports written by the loader."
  type        = string
  default     = "load-reports/"

  validation {
    condition     = can(regex("^[^/].*/$", var.reports_prefix))
    error_message = "reports_prefix must not start with '/' and must end with '/'."
  }
}

variable "snapshot_prefixes" {
  description = "Prefixes where snapshot feeds keep their state and digests (each feed under <prefix><feed>/): their replaced and deleted versions expire after lifecycle_days.noncurrent_expiration."
  type        = list(string)
  default     = []
}

variable "lifecycle_days" {
  description = "Expiry of objects under the rejects and reports prefixes, of noncurrent versions, and of incomplete multipart uploads."
  type = object({
    rejects_expiration         = optional(number, 90)
    reports_expiration         = optional(number, 365)
    noncurrent_expiration      = optional(number, 30)
    abort_incomplete_multipart = optional(number, 7)
  })
  default = {}

  validation {
    condition     = alltrue([for v in values(var.lifecycle_days) : v >= 1])
    error_message = "lifecycle_days values must be at least 1."
  }
}

variable "access_log" {
  description = "Server access logging: the target bucket (SSE-S3, in this account) and the key prefix; null disables it."
  type = object({
    target_bucket = string
    target_prefix = optional(string, "s3-access/")
  })
  default = null

  validation {
    condition     = var.access_log == null || try(endswith(var.access_log.target_prefix, "/"), false)
    error_message = "access_log.target_prefix must end with '/'."
  }
}

variable "notification_suffixes" {
  description = "Object key suffixes that trigger a load."
  type        = list(string)
  default     = [".csv", ".csv.gz", ".csv.zst"]

  validation {
    condition     = length(var.notification_suffixes) > 0 && alltrue([for s in var.notification_suffixes : startswith(s, ".")])
    error_message = "notification_suffixes must be a non-empty list of suffixes starting with '.'."
  }
}

variable "notification_filters" {
  description = "The (prefix, suffix) pairs that trigger a load, one event notification each (feeds); null: landing_prefix with each of notification_suffixes. S3 refuses pairs that overlap (one prefix nested in the other and one suffix the end of the other)."
  type = list(object({
    prefix = string
    suffix = string
  }))
  default = null

  validation {
    condition = var.notification_filters == null || try(length(var.notification_filters) > 0 && alltrue([
      for f in var.notification_filters : can(regex("^[^/].*/$", f.prefix)) && startswith(f.suffix, ".")
    ]), false)
    error_message = "notification_filters must be null or non-empty, each prefix ending with '/' (not starting with '/') and each suffix starting with '.'."
  }
}

variable "create_notification" {
  description = "Create the event notification (set notification_target when true)."
  type        = bool
  default     = true
}

variable "notification_target" {
  description = "Where object-created events go: type \"lambda\" (function ARN) or \"queue\" (SQS queue ARN)."
  type = object({
    type = string
    arn  = string
  })
  default = null

  validation {
    condition     = var.notification_target == null || try(contains(["lambda", "queue"], var.notification_target.type), false)
    error_message = "notification_target.type must be lambda or queue."
  }
}

variable "tags" {
  description = "Tags added to the bucket."
  type        = map(string)
  default     = {}
}
