resource "null_resource" "some" {
  triggers = {
    v    = "1"
    keep = "x"
  }
  lifecycle {
    ignore_changes = [triggers["v"]]
  }
}

resource "null_resource" "all" {
  triggers = {
    v = "1"
  }
  lifecycle {
    ignore_changes = all
  }
}

resource "null_resource" "whole" {
  triggers = {
    v = "1"
  }
  lifecycle {
    ignore_changes = [triggers]
  }
}

output "some" {
  value = null_resource.some.triggers
}
