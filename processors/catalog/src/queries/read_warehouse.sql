SELECT code, name_th, name_en, address, active, version, created_at, updated_at
FROM catalog.warehouses
WHERE code = $1
