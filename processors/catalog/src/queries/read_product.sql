SELECT sku, name_th, name_en, description, category, unit, barcodes, price_satang, cost_satang,
       min_stock, status, version, created_at, updated_at
FROM catalog.products
WHERE sku = $1
