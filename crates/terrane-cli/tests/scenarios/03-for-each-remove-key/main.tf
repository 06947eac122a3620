locals {
  envs = {
    staging    = "s"
    production = "p"
    dev        = "d"
  }
}

resource "null_resource" "env" {
  for_each = local.envs
  triggers = {
    short = each.value
    name  = each.key
  }
}

output "names" {
  value = sort([for k, v in null_resource.env : k])
}
