data "terraform_remote_state" "y" {
  backend = "local"
  config = {
    path = "missing2.tfstate"
  }
}

data "terraform_remote_state" "z" {
  backend = "local"
  config = {
    path = "missing3.tfstate"
  }
}
