resource "null_resource" "inner" {
  count = 2
}
