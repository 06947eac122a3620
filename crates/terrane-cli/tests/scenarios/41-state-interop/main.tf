resource "null_resource" "single" {
  triggers = {
    a = "1"
  }
}

resource "null_resource" "counted" {
  count = 2
}

resource "null_resource" "keyed" {
  for_each = { x = "1", y = "2" }
  triggers = {
    v = each.value
  }
}

data "null_data_source" "d" {
  inputs = {
    k = "v"
  }
}

module "m" {
  source = "./m"
}

output "keys" {
  value = keys(null_resource.keyed)
}
