-- A product's state from the catalog's state topic; an older version never
-- overwrites a newer one.
INSERT INTO stock.products AS p (sku, min_stock, active, version)
VALUES ($1, $2, $3, $4)
ON CONFLICT (sku) DO UPDATE
SET min_stock = EXCLUDED.min_stock, active = EXCLUDED.active, version = EXCLUDED.version,
    updated_at = now()
WHERE p.version < EXCLUDED.version
