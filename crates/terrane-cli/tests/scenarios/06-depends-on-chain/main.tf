resource "null_resource" "first" {}

resource "null_resource" "second" {
  depends_on = [null_resource.first]
}

resource "null_resource" "third" {
  triggers = {
    after = null_resource.second.id
  }
}
