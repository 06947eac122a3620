# Every instance of module.gone is forgotten; inside module.kept a removed
# block of the child module forgets its null_resource.old.
removed {
  from = module.gone

  lifecycle {
    destroy = false
  }
}

module "kept" {
  source = "./mod"
}
