resource "null_resource" "y" { count = 1 }
