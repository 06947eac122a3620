terraform {
  required_providers {
    nl = { source = "hashicorp/null" }
  }
}
provider "nl" {
  alias = "x"
}
variable "keys" {
  default = ["p", "q"]
}
resource "null_resource" "first" {
  provider = nl
}
module "a" {
  source   = "./a"
  for_each = toset(var.keys)
  providers = {
    nl = nl.x
  }
  depends_on = [null_resource.first]
  name = each.key
}
output "names" {
  value = { for k, v in module.a : k => v.name }
}
output "const" {
  value = 1
}
