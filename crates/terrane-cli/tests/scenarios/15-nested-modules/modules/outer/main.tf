variable "prefix" {
  type = string
}

module "inner" {
  source   = "./inner"
  for_each = toset(["a", "b"])
  name     = "${var.prefix}-${each.key}"
}

output "names" {
  value = [for k, m in module.inner : m.name]
}
