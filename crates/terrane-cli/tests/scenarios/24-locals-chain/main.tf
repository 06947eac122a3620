locals {
  base   = "svc"
  names  = [for i in range(3) : "${local.base}-${i}"]
  lookup = { for n in local.names : n => upper(n) }
}

resource "null_resource" "svc" {
  for_each = local.lookup
  triggers = {
    upper = each.value
  }
}

output "keys" {
  value = keys(null_resource.svc)
}
