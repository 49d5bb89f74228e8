SELECT sku, warehouse, on_hand, reserved, in_transit, minimum_override, low, version, updated_at
FROM stock.items
ORDER BY sku, warehouse
