variable "size" {
  type    = string
  default = "huge"

  validation {
    condition     = contains(["small", "large"], var.size)
    error_message = "The size must be small or large."
  }
}

resource "null_resource" "sized" {
  triggers = {
    size = var.size
  }
}
