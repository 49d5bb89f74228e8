INSERT INTO khlang_runtime.outbox (relay, topic, key, payload, headers)
SELECT $1, t, k, p, h
FROM unnest($2::text[], $3::bytea[], $4::bytea[], $5::jsonb[]) AS x(t, k, p, h)
