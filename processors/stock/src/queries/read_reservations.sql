SELECT reservation_id, sku, warehouse, quantity, expires_at, order_ref, status
FROM stock.reservations
ORDER BY reservation_id
