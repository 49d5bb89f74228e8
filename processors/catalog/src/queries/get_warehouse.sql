SELECT code, name_th, name_en, address, active, version
FROM catalog.warehouses WHERE code = $1
