provider "null" {
  alias = "other"
}

resource "null_resource" "default" {}

resource "null_resource" "aliased" {
  provider = null.other
}
