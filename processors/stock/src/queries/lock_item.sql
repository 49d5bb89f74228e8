INSERT INTO stock.items (sku, warehouse) VALUES ($1, $2)
ON CONFLICT (sku, warehouse) DO UPDATE SET sku = EXCLUDED.sku
RETURNING on_hand, reserved, in_transit, minimum_override, low, version
