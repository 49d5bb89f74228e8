-- The runtime's pieces for stream-table joins and backfills.
--
-- A join waits, on a lookup miss, until every outbox row committed for its
-- source topic has been published: it asks for the newest such row by topic,
-- whichever relay owns it.
CREATE INDEX IF NOT EXISTS outbox_topic_seq ON khlang_runtime.outbox (topic, seq);

-- One row per backfill that has run: a backfill puts its records into the
-- outbox in the transaction that inserts its row here, so it runs exactly
-- once however many instances start at the same time.
CREATE TABLE IF NOT EXISTS khlang_runtime.backfills (
    name   text PRIMARY KEY,
    relay  text NOT NULL,
    rows   bigint NOT NULL DEFAULT 0,
    run_at timestamptz NOT NULL DEFAULT now()
);
