-- The levels a batch left its items at, one statement for all of them.
-- Items that existed were locked when the batch read them, so their version
-- is still the one read; items new to this batch are inserted, and one that
-- appeared meanwhile (another partition after a partition-count change)
-- makes the count come out short: the batch is then retried, re-reading it.
-- The CHECK on stock.items still refuses a broken item.
WITH rows AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::bigint[],
        $6::bigint[], $7::boolean[], $8::bigint[], $9::bigint[])
        AS r (sku, warehouse, on_hand, reserved, in_transit, minimum_override, low, version,
            read_version)
), updated AS (
    UPDATE stock.items AS i
    SET on_hand = r.on_hand, reserved = r.reserved, in_transit = r.in_transit,
        minimum_override = r.minimum_override, low = r.low, version = r.version,
        updated_at = now()
    FROM rows r
    WHERE r.read_version IS NOT NULL AND i.sku = r.sku AND i.warehouse = r.warehouse
        AND i.version = r.read_version
    RETURNING 1
), inserted AS (
    INSERT INTO stock.items (sku, warehouse, on_hand, reserved, in_transit, minimum_override,
        low, version)
    SELECT sku, warehouse, on_hand, reserved, in_transit, minimum_override, low, version
    FROM rows WHERE read_version IS NULL
    ON CONFLICT (sku, warehouse) DO NOTHING
    RETURNING 1
)
SELECT (SELECT count(*) FROM updated) + (SELECT count(*) FROM inserted) AS saved
