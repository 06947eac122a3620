resource "null_resource" "inner" {}

output "done" {
  value      = true
  depends_on = [null_resource.inner]
}
