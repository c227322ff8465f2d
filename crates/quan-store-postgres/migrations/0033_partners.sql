-- Partners of the partner API (issue 27). Same version and name as SQLite's.
--
-- A bank, payment institution, city app or mini program registered by an
-- official: its scopes, its mode (test partners see test data only) and
-- whether it is cut off (熔断). Its keys: SM2 public keys by serial number
-- (several at once, for rotation) or an HMAC-SHA256 secret, sealed under
-- the deployment's key (it was shown once, at creation).
CREATE TABLE partners (
    id               UUID PRIMARY KEY,
    name             TEXT NOT NULL,
    kind             TEXT NOT NULL CHECK (kind IN ('bank', 'payment', 'city_app', 'mini_program')),
    mode             TEXT NOT NULL CHECK (mode IN ('test', 'live')),
    -- Comma-separated scope names (checkout, claim, bill).
    scopes           TEXT NOT NULL,
    -- The official's region it was registered in: who may manage it.
    region           TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'suspended')),
    status_reason    TEXT NOT NULL DEFAULT '',
    status_by        UUID,
    status_at_ms     BIGINT,
    created_by       UUID NOT NULL,
    created_at_ms    BIGINT NOT NULL
);
CREATE UNIQUE INDEX partners_name ON partners (name);

CREATE TABLE partner_keys (
    partner_id       UUID NOT NULL,
    serial_no        TEXT NOT NULL,
    scheme           TEXT NOT NULL CHECK (scheme IN ('sm2', 'hmac')),
    -- SM2: the SEC1 public key in hex; HMAC: the secret, sealed.
    public_key       TEXT,
    sealed_secret    BYTEA,
    created_at_ms    BIGINT NOT NULL,
    revoked_at_ms    BIGINT,
    PRIMARY KEY (partner_id, serial_no)
);

-- Nonces seen, each single-use per partner until it expires (10 minutes).
CREATE TABLE partner_nonces (
    partner_id       UUID NOT NULL,
    nonce            TEXT NOT NULL,
    expires_at_ms    BIGINT NOT NULL,
    PRIMARY KEY (partner_id, nonce)
);
CREATE INDEX partner_nonces_expiry ON partner_nonces (expires_at_ms);

-- A partner's payment order using a voucher (支付立减): locked, then
-- confirmed (with the redemption it made) or reversed. A lock past its
-- time is expired: the voucher is free again (nothing needs sweeping).
CREATE TABLE partner_orders (
    id               UUID PRIMARY KEY,
    partner_id       UUID NOT NULL,
    out_trade_no     TEXT NOT NULL,
    voucher_id       UUID NOT NULL,
    merchant_id      UUID NOT NULL,
    till_id          UUID,
    order_fen        BIGINT NOT NULL,
    discount_fen     BIGINT NOT NULL,
    -- The order's lines as JSON, decided again at the confirm.
    items            TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('locked', 'confirmed', 'reversed')),
    locked_until_ms  BIGINT NOT NULL,
    transaction_id   TEXT,
    redemption_id    UUID,
    created_at_ms    BIGINT NOT NULL,
    done_at_ms       BIGINT,
    UNIQUE (partner_id, out_trade_no)
);
CREATE INDEX partner_orders_voucher ON partner_orders (voucher_id);

-- A voucher locked by a partner's order until a time: no till takes it
-- before then, and the order's confirm takes it even after.
ALTER TABLE vouchers ADD COLUMN lock_id UUID;
ALTER TABLE vouchers ADD COLUMN locked_until_ms BIGINT;
