variable "enabled" {
  type    = bool
  default = true
}

resource "null_resource" "maybe" {
  count = var.enabled ? 1 : 0
}

output "created" {
  value = length(null_resource.maybe) > 0
}
