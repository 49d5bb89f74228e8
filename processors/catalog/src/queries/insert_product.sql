INSERT INTO catalog.products (sku, name_th, name_en, description, category, unit, barcodes,
                              price_satang, cost_satang, min_stock, status, version)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'active', 1)
ON CONFLICT (sku) DO NOTHING
