resource "null_resource" "first" {}

module "child" {
  source     = "./child"
  depends_on = [null_resource.first]
}

resource "null_resource" "last" {
  triggers = {
    child = module.child.id
  }
}
