-- Merchants, their review history, tills, product catalogue with price
-- history; staff accounts may belong to a merchant (owner) and a till (cashier).

CREATE TABLE merchants (
    id              BLOB PRIMARY KEY NOT NULL,
    legal_name      TEXT NOT NULL,
    credit_code     TEXT NOT NULL UNIQUE,
    industry        TEXT NOT NULL,
    scale           TEXT NOT NULL,
    address         TEXT NOT NULL,
    district        TEXT NOT NULL,
    lat             REAL,
    lng             REAL,
    contact_name    TEXT NOT NULL,
    contact_phone   TEXT NOT NULL,
    bank_name       TEXT NOT NULL,
    account_name    TEXT NOT NULL,
    account_number  TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected', 'suspended')),
    status_reason   TEXT NOT NULL,
    source          TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    updated_at_ms   INTEGER NOT NULL
) STRICT;
CREATE INDEX merchants_district ON merchants (district, id);
CREATE INDEX merchants_status ON merchants (status, id);

CREATE TABLE merchant_reviews (
    id              BLOB PRIMARY KEY NOT NULL,
    merchant_id     BLOB NOT NULL REFERENCES merchants (id),
    action          TEXT NOT NULL,
    from_status     TEXT NOT NULL,
    to_status       TEXT NOT NULL,
    reason          TEXT NOT NULL,
    actor           BLOB NOT NULL,
    at_ms           INTEGER NOT NULL
) STRICT;
CREATE INDEX merchant_reviews_merchant ON merchant_reviews (merchant_id, at_ms);

CREATE TABLE tills (
    id              BLOB PRIMARY KEY NOT NULL,
    merchant_id     BLOB NOT NULL REFERENCES merchants (id),
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    created_at_ms   INTEGER NOT NULL,
    UNIQUE (merchant_id, code)
) STRICT;

CREATE TABLE products (
    id              BLOB PRIMARY KEY NOT NULL,
    merchant_id     BLOB NOT NULL REFERENCES merchants (id),
    sku             TEXT NOT NULL,
    brand           TEXT NOT NULL,
    model           TEXT NOT NULL,
    category        TEXT NOT NULL,
    energy_class    TEXT NOT NULL,
    list_price_fen  INTEGER NOT NULL CHECK (list_price_fen > 0),
    updated_at_ms   INTEGER NOT NULL,
    UNIQUE (merchant_id, sku)
) STRICT;

CREATE TABLE product_prices (
    product_id      BLOB NOT NULL REFERENCES products (id),
    price_fen       INTEGER NOT NULL,
    at_ms           INTEGER NOT NULL,
    actor           BLOB NOT NULL
) STRICT;
CREATE INDEX product_prices_product ON product_prices (product_id, at_ms);

ALTER TABLE users ADD COLUMN merchant_id BLOB REFERENCES merchants (id);
ALTER TABLE users ADD COLUMN till_id BLOB REFERENCES tills (id);
