resource "null_resource" "feed" {}

resource "null_resource" "unrelated" {}

resource "null_resource" "count_source" {}

module "m" {
  source = "./mod"
  in     = null_resource.feed.id
  n      = length(null_resource.count_source.id) > 0 ? 1 : 0
}

module "leaf" {
  source = "./leaf"
}

resource "null_resource" "consumer" {
  triggers = {
    out = module.leaf.first
  }
}
