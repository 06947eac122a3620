variable "secret" {
  type      = string
  default   = "hunter2"
  sensitive = true
}

resource "null_resource" "a" {}

output "secret" {
  value     = var.secret
  sensitive = true
}
