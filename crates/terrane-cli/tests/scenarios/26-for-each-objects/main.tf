variable "servers" {
  default = {
    web = { size = "small", port = 80 }
    api = { size = "large", port = 8080 }
  }
}

resource "null_resource" "server" {
  for_each = var.servers
  triggers = {
    size = each.value.size
    port = each.value.port
  }
}
