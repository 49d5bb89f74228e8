-- A transfer, locked for the batch.
SELECT sku, from_warehouse, to_warehouse, quantity, status, expected
FROM stock.transfers WHERE transfer_id = $1 FOR UPDATE
