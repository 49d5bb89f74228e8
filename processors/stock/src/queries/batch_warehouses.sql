-- The warehouses a batch's commands name, and whether each is active.
SELECT code, active FROM catalog.warehouses WHERE code = ANY($1::text[])
