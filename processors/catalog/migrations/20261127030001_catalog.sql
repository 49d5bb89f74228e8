-- State of the catalog processor: products keyed by SKU and warehouses keyed
-- by code. Money is in satang (1/100 baht) as bigint, never floating point.
-- The ingress reads these tables directly for GET /v1/products and
-- GET /v1/warehouses; only the catalog processor writes them.
CREATE SCHEMA IF NOT EXISTS catalog;

CREATE TABLE catalog.products (
    sku          text   PRIMARY KEY,
    name_th      text   NOT NULL,
    name_en      text   NOT NULL,
    description  text,
    category     text   NOT NULL,
    unit         text   NOT NULL,
    barcodes     text[] NOT NULL DEFAULT '{}',
    price_satang bigint NOT NULL CHECK (price_satang >= 0),
    cost_satang  bigint NOT NULL CHECK (cost_satang >= 0),
    min_stock    bigint NOT NULL CHECK (min_stock >= 0),
    status       text   NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'discontinued')),
    version      bigint NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX products_category ON catalog.products (category);
CREATE INDEX products_status ON catalog.products (status);

-- One row per barcode: the primary key is what makes "exactly one wins" hold
-- when two products claiming one barcode are created on different partitions
-- (INSERT ... ON CONFLICT DO NOTHING waits for the other transaction).
-- A discontinued product keeps its barcodes.
CREATE TABLE catalog.product_barcodes (
    barcode text PRIMARY KEY,
    sku     text NOT NULL REFERENCES catalog.products (sku)
);
CREATE INDEX product_barcodes_sku ON catalog.product_barcodes (sku);

CREATE TABLE catalog.warehouses (
    code       text    PRIMARY KEY,
    name_th    text    NOT NULL,
    name_en    text    NOT NULL,
    address    text    NOT NULL DEFAULT '',
    active     boolean NOT NULL DEFAULT true,
    version    bigint  NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
