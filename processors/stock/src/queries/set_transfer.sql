-- A transfer's next status (and, when given, whether the destination
-- expects it).
UPDATE stock.transfers SET status = $2, expected = coalesce($3, expected), updated_at = now()
WHERE transfer_id = $1
