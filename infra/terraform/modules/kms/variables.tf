variable "create" {
  description = "Whether to create any resource of this module."
  type        = bool
  default     = true
}

variable "create_key" {
  description = "Create a customer managed key; when false, key_arn must name an existing key."
  type        = bool
  default     = true
}

variable "key_arn" {
  description = "ARN of an existing customer managed key to use instead of creating one."
  type        = string
  default     = null

  validation {
    condition     = var.key_arn == null || can(regex("^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/", var.key_arn))
    error_message = "key_arn must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)."
  }
}

variable "alias_name" {
  description = "Alias of the created key, without the alias/ prefix."
  type        = string
  default     = null

  validation {
    condition     = var.alias_name == null || can(regex("^[a-zA-Z0-9/_-]+$", var.alias_name))
    error_message = "alias_name may contain only letters, digits, '/', '_' and '-'."
  }
}

variable "description" {
  description = "Description of the created key."
  type        = string
  default     = "Tarius data encryption key"
}

variable "deletion_window_in_days" {
  description = "Waiting period before a scheduled key deletion completes."
  type        = number
  default     = 30

  validation {
    condition     = var.deletion_window_in_days >= 7 && var.deletion_window_in_days <= 30
    error_message = "deletion_window_in_days must be between 7 and 30."
  }
}

variable "service_principals" {
  description = "AWS services that use the key on their own behalf, each limited to the resources that cause it (aws:SourceArn, ArnLike) in this account."
  type = list(object({
    sid         = string
    service     = string
    actions     = list(string)
    source_arns = list(string)
  }))
  default = []

  validation {
    condition     = alltrue([for s in var.service_principals : contains(["s3", "sns", "sqs", "cloudwatch", "events", "lambda", "cloudtrail"], s.service) && length(s.source_arns) > 0 && can(regex("^[A-Za-z0-9]+$", s.sid))])
    error_message = "service_principals: service among s3, sns, sqs, cloudwatch, events, lambda, cloudtrail; at least one source ARN; an alphanumeric sid."
  }

  validation {
    condition     = alltrue(flatten([for s in var.service_principals : [for a in s.actions : startswith(a, "kms:") && a != "kms:*"]]))
    error_message = "service_principals actions must be named kms: actions (no kms:*)."
  }
}

variable "administrator_role_arns" {
  description = "IAM role ARNs that administer the created key through its policy (the deploy role); no cryptographic use."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.administrator_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "administrator_role_arns must be IAM role ARNs."
  }
}

variable "allow_cloudwatch_logs" {
  description = "Let CloudWatch Logs in this region encrypt log groups of this account (scoped by the encryption context)."
  type        = bool
  default     = true
}

variable "log_group_name_prefix" {
  description = "Log group name prefix the Logs grant is limited to (encryption context condition)."
  type        = string
  default     = "/aws/lambda/"
}

variable "user_role_arns" {
  description = "IAM role ARNs (e.g. the loader function's role) allowed to use the key; the roles need not exist yet."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for a in var.user_role_arns : can(regex("^arn:aws[a-z-]*:iam::[0-9]{12}:role/", a))])
    error_message = "user_role_arns must be IAM role ARNs."
  }
}

variable "tags" {
  description = "Tags added to the key."
  type        = map(string)
  default     = {}
}
