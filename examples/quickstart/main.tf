# A small configuration on terrane's built-in providers, with local state:
# `terrane apply -auto-approve` creates two random pets and writes an
# inventory file; `terrane destroy` removes them.

terraform {
  required_version = ">= 1.0.0"

  required_providers {
    random = {
      source = "hashicorp/random"
    }
    local = {
      source = "hashicorp/local"
    }
  }
}

variable "environment" {
  type        = string
  default     = "staging"
  description = "Deployment environment name."

  validation {
    condition     = contains(["staging", "production"], var.environment)
    error_message = "The environment must be staging or production."
  }
}

variable "servers" {
  type = map(object({
    size = string
    tags = optional(map(string), {})
  }))
  default = {
    web = { size = "small" }
    api = { size = "medium", tags = { team = "backend" } }
  }
}

locals {
  name_prefix = "${var.environment}-app"
  inventory = {
    for name, server in var.servers :
    name => merge(server.tags, { size = server.size, env = var.environment })
  }
}

resource "random_pet" "server" {
  for_each = var.servers
  prefix   = "${local.name_prefix}-${each.key}"
}

resource "local_file" "inventory" {
  filename = "${path.module}/inventory.json"
  content = jsonencode({
    for name, pet in random_pet.server : pet.id => local.inventory[name]
  })
}

output "server_names" {
  value = [for pet in random_pet.server : pet.id]
}
