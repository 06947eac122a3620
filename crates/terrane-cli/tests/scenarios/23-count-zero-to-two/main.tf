resource "null_resource" "n" {
  count = 0
}
