variable "names" {
  type = list(string)
}

resource "null_resource" "n" {
  for_each = toset(var.names)
}
