-- A reservation, locked for the batch, with its expiry in microseconds.
SELECT sku, warehouse, quantity, status,
    (extract(epoch from expires_at) * 1000000)::bigint AS expires_us
FROM stock.reservations WHERE reservation_id = $1 FOR UPDATE
