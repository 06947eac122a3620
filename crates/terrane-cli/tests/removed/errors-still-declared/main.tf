resource "null_resource" "still_here" {}

module "child" {
  source = "./mod"
}

removed {
  from = null_resource.still_here
}

removed {
  from = module.child
}
