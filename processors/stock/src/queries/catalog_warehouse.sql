SELECT active FROM catalog.warehouses WHERE code = $1
