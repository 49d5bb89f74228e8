INSERT INTO catalog.warehouses (code, name_th, name_en, address, active, version)
VALUES ($1, $2, $3, $4, $5, 1)
ON CONFLICT (code) DO NOTHING
