variable "n" {
  default = 3
}

resource "null_resource" "r" {
  count = var.n
  triggers = {
    i = count.index
  }
}
