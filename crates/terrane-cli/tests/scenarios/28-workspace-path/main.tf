resource "null_resource" "w" {
  triggers = {
    ws   = terraform.workspace
    path = path.module
  }
}

output "ws" {
  value = terraform.workspace
}
