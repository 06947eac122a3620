resource "null_resource" "source" {}

data "null_data_source" "later" {
  inputs = {
    id = null_resource.source.id
  }
}

output "has_id" {
  value = data.null_data_source.later.outputs["id"] != ""
}
