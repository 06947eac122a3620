resource "null_resource" "a" {}

resource "null_resource" "b" {
  triggers = {
    a = null_resource.a.id
  }
}

resource "null_resource" "c" {
  count = 2
  triggers = {
    b = null_resource.b.id
  }
}

resource "null_resource" "other" {}

resource "null_resource" "after" {
  depends_on = [null_resource.other]
}

module "m" {
  source = "./mod"
  in     = null_resource.a.id
}
