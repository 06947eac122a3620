resource "null_resource" "user" {
  for_each = toset(["alice", "bob", "carol"])
  triggers = {
    name = each.key
  }
}
