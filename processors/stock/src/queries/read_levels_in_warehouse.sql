SELECT sku, warehouse, on_hand, reserved, in_transit, minimum_override, low, version, updated_at
FROM stock.items
WHERE warehouse = $1
  AND ($2::boolean IS NULL OR low = $2)
  AND ($3::text IS NULL OR sku > $3)
ORDER BY sku
LIMIT $4
