# null_resource.a leaves the state but is not destroyed; null_resource.b
# is destroyed as if its block had simply been deleted.
resource "null_resource" "c" {
  triggers = {
    name = "kept"
  }
}

removed {
  from = null_resource.a

  lifecycle {
    destroy = false
  }
}

removed {
  from = null_resource.b
}
