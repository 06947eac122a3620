resource "null_resource" "a" {}

data "terraform_remote_state" "y" {
  backend = "local"
  config = {
    path = "missing-y.tfstate"
  }
}

data "terraform_remote_state" "z" {
  backend = "local"
  config = {
    path = "missing-z.tfstate"
  }
}
