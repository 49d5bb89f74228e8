-- Stock's own copy of the catalog: the columns stock decides with, joined
-- from the compacted khlang.catalog.state topic (a stream-table join; the
-- offsets of that topic are stored in khlang_runtime.consumer_offsets in
-- the same transaction, under the group khlang-<service>-join-catalog).
-- Every stock instance of one database shares these tables.
CREATE TABLE stock.products (
    sku        text    PRIMARY KEY,
    -- the catalog's default minimum available stock per warehouse
    min_stock  bigint  NOT NULL,
    -- false once discontinued: no receipts, reservations or transfers out
    active     boolean NOT NULL,
    -- the catalog's version of the product; an older one never overwrites
    version    bigint  NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE stock.warehouses (
    code       text    PRIMARY KEY,
    active     boolean NOT NULL,
    version    bigint  NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);
