module "a" {
  source = "./m"
  in     = "first"
}

module "b" {
  source = "./m"
  in     = module.a.upper
}

output "b" {
  value = module.b.upper
}
