-- The ledger rows of a batch, in the order the movements were applied
-- (seq follows it, so each item's chain reads in order).
INSERT INTO stock.ledger (command_id, sku, warehouse, movement, quantity, reason, reference,
    actor_id, actor_kind, on_hand_before, reserved_before, in_transit_before,
    on_hand_after, reserved_after, in_transit_after, occurred_at)
SELECT command_id, sku, warehouse, movement, quantity, reason, reference, actor_id, actor_kind,
    on_hand_before, reserved_before, in_transit_before, on_hand_after, reserved_after,
    in_transit_after, to_timestamp(occurred_us::double precision / 1000000)
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::bigint[], $11::bigint[], $12::bigint[],
    $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[])
    WITH ORDINALITY AS r (command_id, sku, warehouse, movement, quantity, reason, reference,
        actor_id, actor_kind, on_hand_before, reserved_before, in_transit_before,
        on_hand_after, reserved_after, in_transit_after, occurred_us, n)
ORDER BY n
