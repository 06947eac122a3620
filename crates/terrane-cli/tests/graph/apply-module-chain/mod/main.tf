variable "in" {}
resource "null_resource" "c" {
  triggers = {
    in = var.in
  }
}
output "out" {
  value = null_resource.c.id
}
