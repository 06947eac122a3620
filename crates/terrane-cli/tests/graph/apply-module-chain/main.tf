variable "n" {
  default = 2
}
locals {
  name = "x-${var.n}"
}
resource "null_resource" "a" {
  count = var.n
  triggers = {
    name = local.name
  }
}
resource "null_resource" "b" {
  triggers = {
    a = null_resource.a[0].id
  }
}
module "m" {
  source = "./mod"
  in     = null_resource.b.id
}
output "o" {
  value = module.m.out
}
