resource "null_resource" "x" {}

removed {
  from = null_resource.old

  lifecycle {
    destroy = false
  }
}
