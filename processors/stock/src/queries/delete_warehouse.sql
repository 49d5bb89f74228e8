-- A tombstone on the catalog's state topic.
DELETE FROM stock.warehouses WHERE code = $1
