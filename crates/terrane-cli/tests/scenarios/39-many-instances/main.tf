resource "null_resource" "many" {
  count = 25
  triggers = {
    i = count.index
  }
}

output "n" {
  value = length(null_resource.many)
}
