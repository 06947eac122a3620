terraform {
  required_providers {
    nl = { source = "hashicorp/null" }
  }
}
variable "name" {}
locals {
  upper = upper(var.name)
}
resource "null_resource" "r" {
  provider = nl
  triggers = { n = local.upper }
}
module "b" {
  source = "./b"
  v      = null_resource.r.id
}
output "name" {
  value = module.b.out
}
