SELECT seq, command_id, sku, warehouse, movement, quantity, reason, reference, actor_id, actor_kind,
       on_hand_before, reserved_before, in_transit_before,
       on_hand_after, reserved_after, in_transit_after, occurred_at
FROM stock.ledger
WHERE ($1::text IS NULL OR sku = $1)
  AND ($2::text IS NULL OR warehouse = $2)
  AND ($3::text IS NULL OR movement = $3)
  AND ($4::text IS NULL OR actor_id = $4)
  AND ($5::timestamptz IS NULL OR occurred_at >= $5)
  AND ($6::timestamptz IS NULL OR occurred_at < $6)
  AND ($7::bigint IS NULL OR seq > $7)
ORDER BY seq
LIMIT $8
