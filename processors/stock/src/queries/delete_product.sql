-- A tombstone on the catalog's state topic.
DELETE FROM stock.products WHERE sku = $1
