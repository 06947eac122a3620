resource "null_resource" "x" {}
module "inner" {
  source = "./inner"
}
