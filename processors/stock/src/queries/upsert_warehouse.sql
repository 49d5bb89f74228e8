-- A warehouse's state from the catalog's state topic; an older version
-- never overwrites a newer one.
INSERT INTO stock.warehouses AS w (code, active, version)
VALUES ($1, $2, $3)
ON CONFLICT (code) DO UPDATE
SET active = EXCLUDED.active, version = EXCLUDED.version, updated_at = now()
WHERE w.version < EXCLUDED.version
