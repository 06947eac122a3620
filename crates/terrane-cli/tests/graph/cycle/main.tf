resource "null_resource" "a" { triggers = { x = null_resource.b.id } }
resource "null_resource" "b" { triggers = { x = null_resource.a.id } }
