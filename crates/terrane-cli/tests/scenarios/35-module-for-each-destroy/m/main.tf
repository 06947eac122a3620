variable "k" {}

resource "null_resource" "r" {
  triggers = {
    k = var.k
  }
}
