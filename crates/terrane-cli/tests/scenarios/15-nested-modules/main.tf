module "outer" {
  source = "./modules/outer"
  prefix = "app"
}

output "inner_names" {
  value = module.outer.names
}
