-- The catalog side of a batch: the products its commands name (the
-- stream-table join, read once per batch).
SELECT sku, status, min_stock FROM catalog.products WHERE sku = ANY($1::text[])
