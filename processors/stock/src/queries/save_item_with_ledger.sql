-- The item's new levels and the ledger row of the movement that made them,
-- in one round trip (the UPDATE runs once whether or not it is read).
WITH saved AS (
    UPDATE stock.items
    SET on_hand = $3, reserved = $4, in_transit = $5, minimum_override = $6, low = $7,
        version = $8, updated_at = now()
    WHERE sku = $1 AND warehouse = $2
    RETURNING 1
)
INSERT INTO stock.ledger (command_id, sku, warehouse, movement, quantity, reason, reference,
    actor_id, actor_kind, on_hand_before, reserved_before, in_transit_before,
    on_hand_after, reserved_after, in_transit_after, occurred_at)
SELECT $9, $1, $2, $10, $11, $12, $13, $14, $15, $16, $17, $18, $3, $4, $5,
    to_timestamp($19::double precision / 1000000)
FROM saved
