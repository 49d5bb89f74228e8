-- A new active reservation; nothing when the id was used before.
INSERT INTO stock.reservations (reservation_id, sku, warehouse, quantity, expires_at, order_ref,
    status)
VALUES ($1, $2, $3, $4, to_timestamp($5::double precision / 1000000), $6, 'active')
ON CONFLICT DO NOTHING
