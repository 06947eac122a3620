resource "null_resource" "a" {}

resource "null_resource" "b" {
  count = 2
  triggers = {
    a = null_resource.a.id
  }
}
