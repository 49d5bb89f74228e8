-- Search over sku, name_th, name_en and description with ILIKE '%term%'. A trigram GIN
-- index makes it fast when the pg_trgm extension can be created (it is a
-- trusted extension: the database owner may create it without superuser).
-- Where it cannot, the migration still succeeds and search falls back to a
-- sequential scan with the same results.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS pg_trgm;
EXCEPTION
    WHEN insufficient_privilege OR undefined_file OR feature_not_supported THEN
        RAISE NOTICE 'pg_trgm is not available: catalog search runs without a trigram index';
END
$$;

DO $$
DECLARE
    trgm_schema text;
BEGIN
    SELECT n.nspname INTO trgm_schema
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname = 'pg_trgm';
    IF trgm_schema IS NOT NULL THEN
        EXECUTE format(
            'CREATE INDEX IF NOT EXISTS products_search_trgm ON catalog.products '
            'USING gin (sku %1$I.gin_trgm_ops, name_th %1$I.gin_trgm_ops, '
            'name_en %1$I.gin_trgm_ops, description %1$I.gin_trgm_ops)',
            trgm_schema);
    END IF;
END
$$;
