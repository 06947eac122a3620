resource "null_resource" "keep" {}
