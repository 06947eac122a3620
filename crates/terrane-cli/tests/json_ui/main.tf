variable "v" {
  default = "1"
}

resource "null_resource" "a" {
  count = 2
  triggers = {
    v = var.v
  }
}

resource "null_resource" "b" {
  triggers = {
    a = join(",", null_resource.a[*].id)
  }
}

resource "null_resource" "c" {
  for_each = toset(["x"])
}

output "count" {
  value = length(null_resource.a)
}

output "secret" {
  value     = var.v
  sensitive = true
}
