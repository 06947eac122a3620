resource "null_resource" "a" {
  triggers = {
    v = "1"
  }
  lifecycle {
    create_before_destroy = true
  }
}
