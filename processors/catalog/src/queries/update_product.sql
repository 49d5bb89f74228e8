UPDATE catalog.products
SET name_th = $2, name_en = $3, description = $4, category = $5, unit = $6, barcodes = $7,
    price_satang = $8, cost_satang = $9, min_stock = $10, status = $11,
    version = version + 1, updated_at = now()
WHERE sku = $1
RETURNING version
