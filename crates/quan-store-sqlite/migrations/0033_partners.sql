-- Partners of the partner API (issue 27). Same version and name as PostgreSQL's.
--
-- A bank, payment institution, city app or mini program registered by an
-- official: its scopes, its mode (test partners see test data only) and
-- whether it is cut off (熔断). Its keys: SM2 public keys by serial number
-- (several at once, for rotation) or an HMAC-SHA256 secret, sealed under
-- the deployment's key (it was shown once, at creation).
CREATE TABLE partners (
    id               BLOB PRIMARY KEY,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('bank', 'payment', 'city_app', 'mini_program')),
    mode             TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    -- Comma-separated scope names (checkout, claim, bill).
    scopes           TEXT NOT NULL,
    -- The official's region it was registered in: who may manage it.
    region           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    status_reason    TEXT NOT NULL DEFAULT '',
    status_by        BLOB,
    status_at_ms     INTEGER,
    created_by       BLOB NOT NULL,
    created_at_ms    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX partners_name ON partners (name);

CREATE TABLE partner_keys (
    partner_id       BLOB NOT NULL,
    serial_no        TEXT NOT NULL,
    scheme           TEXT NOT NULL CHECK (scheme IN ('sm2', 'hmac')),
    -- SM2: the SEC1 public key in hex; HMAC: the secret, sealed.
    public_key       TEXT,
    sealed_secret    BLOB,
    created_at_ms    INTEGER NOT NULL,
    revoked_at_ms    INTEGER,
    PRIMARY KEY (partner_id, serial_no)
) STRICT;

-- Nonces seen, each single-use per partner until it expires (10 minutes).
CREATE TABLE partner_nonces (
    partner_id       BLOB NOT NULL,
    nonce            TEXT NOT NULL,
    expires_at_ms    INTEGER NOT NULL,
    PRIMARY KEY (partner_id, nonce)
) STRICT;
CREATE INDEX partner_nonces_expiry ON partner_nonces (expires_at_ms);

-- A partner's payment order using a voucher (支付立减): locked, then
-- confirmed (with the redemption it made) or reversed. A lock past its
-- time is expired: the voucher is free again (nothing needs sweeping).
CREATE TABLE partner_orders (
    id               BLOB PRIMARY KEY,
    partner_id       BLOB NOT NULL,
    out_trade_no     TEXT NOT NULL,
    voucher_id       BLOB NOT NULL,
    merchant_id      BLOB NOT NULL,
    till_id          BLOB,
    order_fen        INTEGER NOT NULL,
    discount_fen     INTEGER NOT NULL,
    -- The order's lines as JSON, decided again at the confirm.
    items            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('locked', 'confirmed', 'reversed')),
    locked_until_ms  INTEGER NOT NULL,
    transaction_id   TEXT,
    redemption_id    BLOB,
    created_at_ms    INTEGER NOT NULL,
    done_at_ms       INTEGER,
    UNIQUE (partner_id, out_trade_no)
) STRICT;
CREATE INDEX partner_orders_voucher ON partner_orders (voucher_id);

-- A voucher locked by a partner's order until a time: no till takes it
-- before then, and the order's confirm takes it even after.
ALTER TABLE vouchers ADD COLUMN lock_id BLOB;
ALTER TABLE vouchers ADD COLUMN locked_until_ms INTEGER;
