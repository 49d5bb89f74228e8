-- The destination expects the transfer.
UPDATE stock.transfers SET expected = true, updated_at = now() WHERE transfer_id = $1
