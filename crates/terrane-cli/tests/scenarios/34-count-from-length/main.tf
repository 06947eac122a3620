locals {
  zones = ["a", "b"]
}

resource "null_resource" "zone" {
  count = length(local.zones)
  triggers = {
    zone = local.zones[count.index]
  }
}
