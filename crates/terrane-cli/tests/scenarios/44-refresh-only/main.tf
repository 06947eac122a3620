resource "null_resource" "a" {
  triggers = {
    v = "1"
  }
}

output "v" {
  value = null_resource.a.triggers.v
}
