UPDATE catalog.warehouses
SET name_th = $2, name_en = $3, address = $4, active = $5,
    version = version + 1, updated_at = now()
WHERE code = $1
RETURNING version
