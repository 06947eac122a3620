variable "on" {
  default = true
}

resource "null_resource" "t" {
  triggers = var.on ? { v = "1" } : null
}
