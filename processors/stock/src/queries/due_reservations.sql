-- Active reservations past their time, oldest first (the expiry timer).
SELECT reservation_id, sku, warehouse FROM stock.reservations
WHERE status = 'active' AND expires_at <= now()
ORDER BY expires_at
LIMIT $1
