resource "null_resource" "first" {}

resource "null_resource" "second" {}

output "first" {
  value = null_resource.first.id
}

output "second" {
  value = null_resource.second.id
}
