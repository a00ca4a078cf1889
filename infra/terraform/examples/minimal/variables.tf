variable "region" {
  description = "AWS region of the example."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Name prefix of every resource of the example."
  type        = string
  default     = "tarius-example"

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.name))
    error_message = "name must be 3-31 lower-case letters, digits or '-'."
  }
}

variable "package_path" {
  description = "Zip with the bootstrap binary, as built by scripts/package."
  type        = string
  default     = "../../../../build/package/tarius-lambda-arm64.zip"
}
