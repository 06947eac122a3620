variable "v" {
  type    = string
  default = "1"
}

resource "null_resource" "src" {
  triggers = {
    v = var.v
  }
}

resource "null_resource" "whole" {
  lifecycle {
    replace_triggered_by = [null_resource.src]
  }
}

resource "null_resource" "attr" {
  count = 1
  lifecycle {
    replace_triggered_by = [null_resource.src.id]
  }
}

resource "null_resource" "other" {}

resource "null_resource" "unrelated" {
  lifecycle {
    replace_triggered_by = [null_resource.other]
  }
}
