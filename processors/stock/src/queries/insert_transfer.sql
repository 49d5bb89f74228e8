-- A new transfer leaving its source; nothing when the id was used before.
INSERT INTO stock.transfers (transfer_id, sku, from_warehouse, to_warehouse, quantity, status)
VALUES ($1, $2, $3, $4, $5, 'in_transit')
ON CONFLICT DO NOTHING
