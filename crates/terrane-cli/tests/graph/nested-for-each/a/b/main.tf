variable "v" {}
output "out" {
  value = var.v
}
output "c" {
  value = "c"
}
