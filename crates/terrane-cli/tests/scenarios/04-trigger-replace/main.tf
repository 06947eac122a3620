resource "null_resource" "a" {
  triggers = {
    version = "1"
  }
}

resource "null_resource" "b" {
  triggers = {
    upstream = null_resource.a.id
  }
}
