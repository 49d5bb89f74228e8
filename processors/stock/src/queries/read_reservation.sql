SELECT reservation_id, sku, warehouse, quantity, expires_at, order_ref, status
FROM stock.reservations
WHERE reservation_id = $1
