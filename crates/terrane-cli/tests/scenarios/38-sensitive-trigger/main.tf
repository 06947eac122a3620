variable "pw" {
  default   = "s3cret"
  sensitive = true
}

resource "null_resource" "s" {
  triggers = {
    pw = var.pw
  }
}
