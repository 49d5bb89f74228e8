-- State of the stock processor. One row per stock item (sku@warehouse),
-- owned by the partition its key hashes to. The CHECK is the last line of
-- defence of the no-oversell promise: whatever the code did, PostgreSQL
-- refuses to commit a state with more reserved than on hand.
CREATE SCHEMA IF NOT EXISTS stock;

CREATE TABLE stock.items (
    sku              text    NOT NULL,
    warehouse        text    NOT NULL,
    on_hand          bigint  NOT NULL DEFAULT 0,
    reserved         bigint  NOT NULL DEFAULT 0,
    in_transit       bigint  NOT NULL DEFAULT 0,
    minimum_override bigint,
    -- true while available is below the minimum: a LowStock event is sent
    -- when this turns true, not on every movement below it
    low              boolean NOT NULL DEFAULT false,
    version          bigint  NOT NULL DEFAULT 0,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sku, warehouse),
    CONSTRAINT levels_valid CHECK (reserved >= 0 AND on_hand >= reserved AND in_transit >= 0)
);
CREATE INDEX items_warehouse ON stock.items (warehouse, sku);

-- Append-only: one row per applied movement, never updated.
CREATE TABLE stock.ledger (
    seq               bigserial PRIMARY KEY,
    command_id        text    NOT NULL UNIQUE,
    sku               text    NOT NULL,
    warehouse         text    NOT NULL,
    movement          text    NOT NULL,
    quantity          bigint  NOT NULL,
    reason            text,
    reference         text,
    actor_id          text    NOT NULL,
    actor_kind        text    NOT NULL,
    on_hand_before    bigint  NOT NULL,
    reserved_before   bigint  NOT NULL,
    in_transit_before bigint  NOT NULL,
    on_hand_after     bigint  NOT NULL,
    reserved_after    bigint  NOT NULL,
    in_transit_after  bigint  NOT NULL,
    occurred_at       timestamptz NOT NULL,
    recorded_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_item ON stock.ledger (sku, warehouse, seq);
CREATE INDEX ledger_warehouse ON stock.ledger (warehouse, seq);
CREATE INDEX ledger_actor ON stock.ledger (actor_id, seq);
CREATE INDEX ledger_occurred ON stock.ledger (occurred_at);

CREATE TABLE stock.reservations (
    reservation_id text PRIMARY KEY,
    sku            text   NOT NULL,
    warehouse      text   NOT NULL,
    quantity       bigint NOT NULL,
    expires_at     timestamptz NOT NULL,
    order_ref      text,
    status         text   NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now(),
    closed_at      timestamptz
);
CREATE INDEX reservations_due ON stock.reservations (expires_at) WHERE status = 'active';

CREATE TABLE stock.transfers (
    transfer_id    text PRIMARY KEY,
    sku            text   NOT NULL,
    from_warehouse text   NOT NULL,
    to_warehouse   text   NOT NULL,
    quantity       bigint NOT NULL,
    status         text   NOT NULL,
    expected       boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
