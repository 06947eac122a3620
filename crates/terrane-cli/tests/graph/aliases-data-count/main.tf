provider "null" {}
provider "null" {
  alias = "two"
}
variable "unused" {}
locals {
  l = "v"
}
data "null_data_source" "d" {
  inputs = {
    x = local.l
  }
}
resource "null_resource" "a" {
  provider = null.two
  triggers = data.null_data_source.d.outputs
}
resource "null_resource" "b" {
  depends_on = [null_resource.a]
}
module "m" {
  source = "./mod"
  count  = 2
}
output "o" {
  value = null_resource.b.id
}
provider "null" {
  alias = "unused"
}
