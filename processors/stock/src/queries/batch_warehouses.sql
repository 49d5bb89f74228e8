-- The warehouses a batch's commands name, and whether each is active, from
-- stock's own copy of the catalog (joined from khlang.catalog.state).
SELECT code, active FROM stock.warehouses WHERE code = ANY($1::text[])
