variable "v" {}
provider "null" {
  alias = "unused_in_module"
}
resource "null_resource" "inner" {
  triggers = { v = var.v }
  lifecycle {
    create_before_destroy = true
  }
}
resource "null_resource" "dep" {
  depends_on = [null_resource.inner]
  count      = length(var.v)
}
output "out" {
  value = null_resource.dep[0].id
}
provider "null" {
  alias = "cfg"
}
resource "null_resource" "aliased" {
  provider = null.cfg
  triggers = { v = var.v }
}
