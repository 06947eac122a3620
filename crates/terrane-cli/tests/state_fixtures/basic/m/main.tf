resource "null_resource" "x" {}

data "null_data_source" "d" {
  inputs = { a = "b" }
}
