variable "in" {
  type = string
}

resource "null_resource" "x" {
  triggers = {
    in = var.in
  }
}

output "upper" {
  value = upper(var.in)
}
