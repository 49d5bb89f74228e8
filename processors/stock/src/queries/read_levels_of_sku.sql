SELECT sku, warehouse, on_hand, reserved, in_transit, minimum_override, low, version, updated_at
FROM stock.items
WHERE sku = $1
ORDER BY warehouse
