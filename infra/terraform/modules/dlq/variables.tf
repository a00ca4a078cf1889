variable "create" {
  description = "Whether to create the dead-letter queue."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the dead-letter queue."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,80}$", var.name))
    error_message = "name must be 1-80 letters, digits, '-' or '_'."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key that encrypts the queue."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "message_retention_seconds" {
  description = "How long failed events are kept (the SQS maximum, 14 days, by default)."
  type        = number
  default     = 1209600

  validation {
    condition     = var.message_retention_seconds >= 60 && var.message_retention_seconds <= 1209600
    error_message = "message_retention_seconds must be between 60 and 1209600."
  }
}

variable "producer_role_arns" {
  description = "IAM role ARNs allowed to send to the queue (the loader function's role for on-failure destinations)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.producer_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "producer_role_arns must be IAM role ARNs."
  }
}

variable "tags" {
  description = "Tags added to the queue."
  type        = map(string)
  default     = {}
}
