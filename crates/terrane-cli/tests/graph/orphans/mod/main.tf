resource "null_resource" "c" {}
