SELECT code, name_th, name_en, address, active, version, created_at, updated_at
FROM catalog.warehouses
WHERE ($1::boolean IS NULL OR active = $1)
  AND ($2::text IS NULL OR code > $2)
ORDER BY code
LIMIT $3
