data "null_data_source" "values" {
  inputs = {
    a = "alpha"
    b = "beta"
  }
}

resource "null_resource" "uses" {
  triggers = data.null_data_source.values.outputs
}

output "joined" {
  value = join(",", values(data.null_data_source.values.outputs))
}
