removed {
  from = null_resource.counted[0]
}

removed {
  from = module.many[1]
}

removed {
  from = data.null_data_source.x
}
