resource "null_resource" "a" {}

output "greeting" {
  value = "hello"
}
