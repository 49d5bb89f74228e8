SELECT sku, name_th, name_en, description, category, unit, barcodes, price_satang, cost_satang,
       min_stock, status, version, created_at, updated_at
FROM catalog.products
WHERE ($1::text IS NULL
       OR sku ILIKE '%' || $1 || '%'
       OR name_th ILIKE '%' || $1 || '%'
       OR name_en ILIKE '%' || $1 || '%'
       OR description ILIKE '%' || $1 || '%')
  AND ($2::text IS NULL OR category = $2)
  AND ($3::text IS NULL OR status = $3)
  AND ($4::text IS NULL OR sku > $4)
ORDER BY sku
LIMIT $5
