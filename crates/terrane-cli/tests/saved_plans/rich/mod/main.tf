variable "value" {}
resource "null_resource" "inner" { triggers = { v = var.value } }
output "out" { value = null_resource.inner.id }
