variable "region" {
  default = "x"
}
module "m" {
  source = "./mod"
  v      = var.region
}
data "null_data_source" "top" {
  inputs = {
    a = module.m.out
  }
}
locals {
  unused = 1
}
output "d" {
  value     = data.null_data_source.top.outputs
  sensitive = false
}
