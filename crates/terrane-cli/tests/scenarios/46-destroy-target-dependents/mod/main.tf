variable "in" {
  type = string
}

resource "null_resource" "inner" {
  triggers = {
    in = var.in
  }
}
