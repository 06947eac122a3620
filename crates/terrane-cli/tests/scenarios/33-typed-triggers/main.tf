locals {
  n = 42
  b = true
  f = 1.5
}

resource "null_resource" "t" {
  triggers = {
    n = local.n
    b = local.b
    f = local.f
    s = "${local.n}-${local.b}"
  }
}
