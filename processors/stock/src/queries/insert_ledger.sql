INSERT INTO stock.ledger (command_id, sku, warehouse, movement, quantity, reason, reference,
    actor_id, actor_kind, on_hand_before, reserved_before, in_transit_before,
    on_hand_after, reserved_after, in_transit_after, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
    to_timestamp($16::double precision / 1000000))
