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

variable "source_queue_arns" {
  description = "Queues allowed to use this queue as their dead-letter queue (redrive allow policy); empty denies all."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.source_queue_arns : can(regex("^arn:aws[a-z-]*:sqs:", a))])
    error_message = "source_queue_arns must be SQS queue ARNs."
  }
}

variable "set_redrive_allow_policy" {
  description = "Set the redrive allow policy (source_queue_arns); false only where the SQS implementation lacks it (moto 5)."
  type        = bool
  default     = true
}

variable "service_senders" {
  description = "AWS services allowed to send here on their own behalf (e.g. sns for subscription redrive), limited by aws:SourceArn."
  type = list(object({
    sid         = string
    service     = string
    source_arns = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.service_senders : contains(["sns", "events", "s3"], s.service) && length(s.source_arns) > 0])
    error_message = "service_senders: service among sns, events, s3, with at least one source ARN."
  }
}

variable "tags" {
  description = "Tags added to the queue."
  type        = map(string)
  default     = {}
}
