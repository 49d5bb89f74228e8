UPDATE stock.reservations SET status = $2, closed_at = now() WHERE reservation_id = $1
