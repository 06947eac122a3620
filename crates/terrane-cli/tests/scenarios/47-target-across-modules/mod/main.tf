variable "in" {
  type = string
}

variable "n" {
  type = number
}

resource "null_resource" "inner" {
  triggers = {
    in = var.in
    n  = var.n
  }
}

resource "null_resource" "independent" {}
