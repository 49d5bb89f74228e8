-- Claims a backfill; no row back when it ran before (or another instance's
-- transaction claims it now and commits).
INSERT INTO khlang_runtime.backfills (name, relay) VALUES ($1, $2)
ON CONFLICT (name) DO NOTHING
RETURNING name
