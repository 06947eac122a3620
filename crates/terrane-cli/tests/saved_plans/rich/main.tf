terraform {
  required_providers {
    null = { source = "hashicorp/null", version = "~> 2.1" }
  }
}
provider "null" {}
variable "names" {
  type        = set(string)
  description = "the names"
  default     = ["x", "y"]
}
locals { prefix = "p-" }
resource "null_resource" "each" {
  for_each = var.names
  triggers = { n = "${local.prefix}${each.key}" }
  lifecycle { create_before_destroy = true }
}
resource "null_resource" "after" {
  depends_on = [null_resource.each]
  triggers = { first = null_resource.each["x"].id, all = join(",", [for k, v in null_resource.each : v.id]) }
}
module "m" {
  source = "./mod"
  value  = local.prefix
  count  = 1
}
output "m" {
  value       = module.m[0].out
  description = "from the module"
}
