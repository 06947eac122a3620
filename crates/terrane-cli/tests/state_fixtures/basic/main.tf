variable "x" {
  default = "1"
}

resource "null_resource" "a" {
  triggers = { x = var.x }
}

resource "null_resource" "b" {
  count = 2
}

resource "null_resource" "c" {
  for_each = toset(["k1", "k2"])
}

module "m" {
  source = "./m"
}

output "o" {
  value = terraform.workspace
}
