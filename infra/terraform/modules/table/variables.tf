variable "create" {
  description = "Whether to create the table."
  type        = bool
  default     = true
}

variable "name" {
  description = "Name of the DynamoDB table."
  type        = string

  validation {
    condition     = can(regex("^[a-zA-Z0-9_.-]{3,255}$", var.name))
    error_message = "name must be 3-255 letters, digits, '_', '-' or '.'."
  }
}

variable "billing_mode" {
  description = "PAY_PER_REQUEST (on-demand) or PROVISIONED."
  type        = string
  default     = "PAY_PER_REQUEST"

  validation {
    condition     = contains(["PAY_PER_REQUEST", "PROVISIONED"], var.billing_mode)
    error_message = "billing_mode must be PAY_PER_REQUEST or PROVISIONED."
  }
}

variable "read_capacity" {
  description = "Read capacity units (PROVISIONED only)."
  type        = number
  default     = 5

  validation {
    condition     = var.read_capacity >= 1
    error_message = "read_capacity must be at least 1."
  }
}

variable "write_capacity" {
  description = "Write capacity units (PROVISIONED only)."
  type        = number
  default     = 25

  validation {
    condition     = var.write_capacity >= 1
    error_message = "write_capacity must be at least 1."
  }
}

variable "hash_key" {
  description = "Partition key: attribute name and type (S, N or B)."
  type = object({
    name = string
    type = optional(string, "S")
  })
  default = { name = "pk", type = "S" }

  validation {
    condition     = contains(["S", "N", "B"], var.hash_key.type) && length(var.hash_key.name) > 0
    error_message = "hash_key.type must be S, N or B and hash_key.name must not be empty."
  }
}

variable "range_key" {
  description = "Optional sort key: attribute name and type (S, N or B)."
  type = object({
    name = string
    type = optional(string, "S")
  })
  default = null

  validation {
    condition     = var.range_key == null || try(contains(["S", "N", "B"], var.range_key.type), false)
    error_message = "range_key.type must be S, N or B."
  }
}

variable "kms_key_arn" {
  description = "Customer managed key for server-side encryption."
  type        = string

  validation {
    condition     = can(regex("^arn:aws[a-z-]*:kms:", var.kms_key_arn))
    error_message = "kms_key_arn must be a KMS key ARN."
  }
}

variable "point_in_time_recovery" {
  description = "Enable point-in-time recovery."
  type        = bool
  default     = true
}

variable "deletion_protection" {
  description = "Enable deletion protection (keep it on in production)."
  type        = bool
  default     = false
}

variable "ttl_attribute" {
  description = "Attribute holding the expiry epoch second; null disables TTL."
  type        = string
  default     = null
}

variable "tags" {
  description = "Tags added to the table."
  type        = map(string)
  default     = {}
}
