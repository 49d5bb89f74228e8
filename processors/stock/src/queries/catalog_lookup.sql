-- The catalog side of one movement in one round trip: the product (null
-- status when unknown) and whether the warehouse is active (null when
-- unknown).
SELECT p.status, p.min_stock, w.active AS warehouse_active
FROM (SELECT 1) AS one
LEFT JOIN catalog.products p ON p.sku = $1
LEFT JOIN catalog.warehouses w ON w.code = $2
