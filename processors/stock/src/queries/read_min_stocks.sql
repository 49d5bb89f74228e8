-- The catalog's default minimum of each SKU in $1, from stock's joined copy.
SELECT sku, min_stock
FROM stock.products
WHERE sku = ANY($1)
