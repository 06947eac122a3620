resource "null_resource" "in_module" {}
