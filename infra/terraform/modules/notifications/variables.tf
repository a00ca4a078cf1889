variable "create" {
  description = "Whether to create the topic and its subscriptions."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the SNS topic."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_-]{1,256}$", var.name))
    error_message = "name must be 1-256 letters, digits, '-' or '_'."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key that encrypts the topic."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "email_addresses" {
  description = "E-mail addresses subscribed to the load summaries and alarms (each must confirm)."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for e in var.email_addresses : can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", e))])
    error_message = "email_addresses must be e-mail addresses."
  }
}

variable "sqs_subscriptions" {
  description = "Machine subscribers: SQS queues receiving the summaries (the queue policy must allow the topic)."
  type = list(object({
    queue_arn            = string
    raw_message_delivery = optional(bool, true)
    filter_policy        = optional(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.sqs_subscriptions : can(regex("^arn:aws[a-z-]*:sqs:", s.queue_arn))])
    error_message = "sqs_subscriptions[*].queue_arn must be SQS queue ARNs."
  }
}

variable "https_endpoints" {
  description = "Machine subscribers: HTTPS endpoints receiving the summaries."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for u in var.https_endpoints : startswith(u, "https://")])
    error_message = "https_endpoints must start with https://."
  }
}

variable "publisher_role_arns" {
  description = "IAM role ARNs allowed to publish (the loader function's role); the roles need not exist yet."
  type        = list(string)
  default     = []
}

variable "allow_cloudwatch_alarms" {
  description = "Let CloudWatch alarms of this account publish to the topic."
  type        = bool
  default     = true
}

variable "alarm_source_arns" {
  description = "CloudWatch alarm ARNs (ArnLike patterns) allowed to publish; empty allows every alarm of this account."
  type        = list(string)
  default     = []
}

variable "delivery_dlq_arn" {
  description = "SQS queue receiving what SNS fails to deliver to the HTTPS and SQS subscriptions (redrive policy); null: none."
  type        = string
  default     = null

  validation {
    condition     = var.delivery_dlq_arn == null || can(regex("^arn:aws[a-z-]*:sqs:", var.delivery_dlq_arn))
    error_message = "delivery_dlq_arn must be an SQS queue ARN."
  }
}

variable "tags" {
  description = "Tags added to the topic."
  type        = map(string)
  default     = {}
}
