resource "null_resource" "precious" {
  lifecycle {
    prevent_destroy = true
  }
}
