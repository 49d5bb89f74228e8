-- The items a batch touches, locked for its transaction in a fixed order
-- (so two instances never deadlock). Items not here yet start empty.
SELECT i.sku, i.warehouse, i.on_hand, i.reserved, i.in_transit, i.minimum_override, i.low,
    i.version
FROM stock.items i
JOIN unnest($1::text[], $2::text[]) AS k (sku, warehouse)
    ON i.sku = k.sku AND i.warehouse = k.warehouse
ORDER BY i.sku, i.warehouse
FOR UPDATE OF i
