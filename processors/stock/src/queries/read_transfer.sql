SELECT transfer_id, sku, from_warehouse, to_warehouse, quantity, status, expected
FROM stock.transfers
WHERE transfer_id = $1
