-- Every item's levels (rebuilding the Redis copy).
SELECT sku, warehouse, on_hand, reserved, in_transit, version FROM stock.items
