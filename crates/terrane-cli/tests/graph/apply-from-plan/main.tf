variable "n" {
  default = 1
}
resource "null_resource" "a" {
  count = var.n
}
resource "null_resource" "b" {
  triggers = { a = null_resource.a[0].id, x = "2" }
}
resource "null_resource" "c" {
  triggers = { b = null_resource.b.id }
}
output "o" {
  value = null_resource.b.id
}
