resource "null_resource" "in_child" {}

output "id" {
  value = null_resource.in_child.id
}
