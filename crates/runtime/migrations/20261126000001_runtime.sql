-- The stream runtime's own tables: consumed offsets, the outbox, and the one
-- outcome of every command. They live in the same database as a processor's
-- state so that state, offsets and outgoing events commit in one transaction.
CREATE SCHEMA IF NOT EXISTS khlang_runtime;

CREATE TABLE khlang_runtime.consumer_offsets (
    consumer_group text   NOT NULL,
    topic          text   NOT NULL,
    partition      int    NOT NULL,
    -- the offset of the next record to apply
    next_offset    bigint NOT NULL,
    updated_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer_group, topic, partition)
);

CREATE TABLE khlang_runtime.outbox (
    seq        bigserial PRIMARY KEY,
    relay      text  NOT NULL,
    topic      text  NOT NULL,
    key        bytea,
    payload    bytea NOT NULL,
    headers    jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_relay_seq ON khlang_runtime.outbox (relay, seq);

CREATE TABLE khlang_runtime.command_outcomes (
    command_id       text PRIMARY KEY,
    consumer_group   text   NOT NULL,
    command_type     text   NOT NULL,
    aggregate_id     text   NOT NULL,
    status           text   NOT NULL CHECK (status IN ('accepted', 'rejected')),
    reason_code      text,
    message          text,
    correlation_id   text   NOT NULL,
    source_topic     text   NOT NULL,
    source_partition int    NOT NULL,
    source_offset    bigint NOT NULL,
    processed_at     timestamptz NOT NULL DEFAULT now()
);
