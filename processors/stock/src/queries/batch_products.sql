-- The products a batch's commands name, from stock's own copy of the
-- catalog (joined from khlang.catalog.state).
SELECT sku, active, min_stock FROM stock.products WHERE sku = ANY($1::text[])
