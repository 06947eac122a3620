resource "null_resource" "a" {
  triggers = {
    x = "1"
  }
}

output "id_set" {
  value = null_resource.a.id != ""
}
