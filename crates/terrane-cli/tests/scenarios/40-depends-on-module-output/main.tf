module "m" {
  source = "./m"
}

resource "null_resource" "after" {
  triggers = {
    ok = module.m.done
  }
}
