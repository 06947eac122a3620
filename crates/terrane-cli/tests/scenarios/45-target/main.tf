resource "null_resource" "a" {}

resource "null_resource" "b" {
  triggers = {
    a = null_resource.a.id
  }
}

resource "null_resource" "c" {
  count = 2
}

module "m" {
  source = "./mod"
}
