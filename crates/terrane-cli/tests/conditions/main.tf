variable "n" {
  type    = number
  default = 1
}

resource "null_resource" "a" {
  count = 2
  triggers = {
    i = count.index
  }
  lifecycle {
    precondition {
      condition     = var.n < 5
      error_message = "n must be below 5."
    }
    postcondition {
      condition     = self.triggers.i != "1" || var.n != 2
      error_message = "instance ${count.index} has i = 1."
    }
  }
}

check "positive" {
  assert {
    condition     = var.n > 0
    error_message = "n must be positive."
  }
}

output "o" {
  value = var.n
  precondition {
    condition     = var.n != 3
    error_message = "n is 3."
  }
}
