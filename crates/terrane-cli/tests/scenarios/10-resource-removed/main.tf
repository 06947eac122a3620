resource "null_resource" "keep" {}

resource "null_resource" "drop" {
  triggers = {
    keep = null_resource.keep.id
  }
}
