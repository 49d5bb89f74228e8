-- Serialises outbox inserts of one relay so that sequence numbers become
-- visible in commit order; the relay relies on that when it recovers.
SELECT pg_advisory_xact_lock(hashtextextended('khlang.outbox.' || $1, 0))
