UPDATE stock.items
SET on_hand = $3, reserved = $4, in_transit = $5, minimum_override = $6, low = $7,
    version = $8, updated_at = now()
WHERE sku = $1 AND warehouse = $2
