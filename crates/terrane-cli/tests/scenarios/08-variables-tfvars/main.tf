variable "tags" {
  type = map(string)
  default = {
    team = "ops"
  }
}

variable "replicas" {
  type    = number
  default = 2
}

resource "null_resource" "r" {
  count    = var.replicas
  triggers = merge(var.tags, { index = tostring(count.index) })
}

output "count" {
  value = length(null_resource.r)
}
