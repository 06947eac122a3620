module "mc" {
  source = "./m"
  count  = 2
}
module "mf" {
  source   = "./m"
  for_each = toset(["a", "b"])
}
data "null_data_source" "top" { inputs = { k = "v" } }
resource "null_resource" "r" {
  depends_on = [module.mc]
}
