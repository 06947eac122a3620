module "unit" {
  source = "./unit"
  count  = 2
  name   = "unit-${count.index}"
}

output "names" {
  value = module.unit[*].name
}
