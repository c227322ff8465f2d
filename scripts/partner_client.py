#!/usr/bin/env python3
"""A partner of quan's partner API, written apart from quan: it signs with
gmssl (SM2 with SM3, signer ID 1234567812345678) or Python's own hmac, and
checks every answer's SM2 signature with gmssl under the platform key.

usage:
  scripts/partner_client.py keygen
      prints a new SM2 key pair as JSON: {"private_key", "public_key"} (hex)
  scripts/partner_client.py checkout BASE PARTNER_ID SCHEME KEY SERIAL PLATFORM_KEY \\
      VOUCHER_CODE MERCHANT_ID AMOUNT_FEN OUT_TRADE_NO TRANSACTION_ID
      SCHEME is sm2 (KEY: the private key in hex) or hmac (KEY: the secret);
      runs quote -> lock -> confirm -> lookup -> confirm again, and a replayed
      nonce, and prints what each answered as JSON. Exits 1 on any
      surprise (an answer whose signature does not verify included).

(pip install gmssl)
"""
import base64
import hashlib
import hmac
import json
import secrets
import sys
import time
import urllib.error
import urllib.request

from gmssl import func, sm2


def keygen():
    private = func.random_hex(64)
    public = sm2.CryptSM2(private_key=private, public_key="")._kg(int(private, 16), sm2.default_ecc_table["g"])
    return {"private_key": private, "public_key": public}


class Partner:
    def __init__(self, base, partner_id, scheme, key, serial, platform_key):
        self.base = base.rstrip("/")
        self.partner_id = partner_id
        self.scheme = scheme
        self.key = key
        self.serial = serial
        # The platform key as the deployment gave it (SEC1 04||x||y): gmssl takes x||y.
        self.platform = platform_key[2:] if len(platform_key) == 130 else platform_key
        self.offset = 0
        if scheme == "sm2":
            public = sm2.CryptSM2(private_key=key, public_key="")._kg(int(key, 16), sm2.default_ecc_table["g"])
            self.signer = sm2.CryptSM2(private_key=key, public_key=public)

    def authorization(self, method, path, body, nonce=None, timestamp=None):
        timestamp = int(time.time()) + self.offset if timestamp is None else timestamp
        nonce = nonce or secrets.token_hex(16).upper()
        message = f"{method}\n{path}\n{timestamp}\n{nonce}\n".encode() + body + b"\n"
        if self.scheme == "sm2":
            sig = bytes.fromhex(self.signer.sign_with_sm3(message, func.random_hex(64)))
            scheme = "QUAN-SM2-SM3"
        else:
            sig = hmac.new(self.key.encode(), message, hashlib.sha256).digest()
            scheme = "QUAN-HMAC-SHA256"
        parts = [f'partner_id="{self.partner_id}"', f'serial_no="{self.serial}"', f'timestamp="{timestamp}"',
                 f'nonce_str="{nonce}"', f'signature="{base64.b64encode(sig).decode()}"']
        return f"{scheme} " + ",".join(parts), nonce

    def call(self, method, path, payload=None, nonce=None):
        body = b"" if payload is None else json.dumps(payload, ensure_ascii=False).encode()
        auth, nonce = self.authorization(method, path, body, nonce)
        req = urllib.request.Request(self.base + path, data=body if payload is not None else None, method=method)
        req.add_header("Authorization", auth)
        if payload is not None:
            req.add_header("Content-Type", "application/json")
            req.add_header("Idempotency-Key", nonce)
        try:
            with urllib.request.urlopen(req) as resp:
                status, headers, raw = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, headers, raw = e.code, e.headers, e.read()
        verified = self.verify(headers, raw)
        return {"status": status, "body": json.loads(raw) if raw else None, "signature_verified": verified,
                "nonce": nonce}

    def sync(self):
        """Reads the platform certificate (no signature needed), checks it is
        the key the deployment gave, and follows the server's clock."""
        with urllib.request.urlopen(self.base + "/partner/v1/platform-certificate") as resp:
            headers, raw = resp.headers, resp.read()
        cert = json.loads(raw)
        self.offset = int(headers["Quan-Timestamp"]) - int(time.time())
        return cert["public_key"][2:] == self.platform and self.verify(headers, raw)

    def verify(self, headers, raw):
        message = f"{headers['Quan-Timestamp']}\n{headers['Quan-Nonce']}\n".encode() + raw + b"\n"
        sig = base64.b64decode(headers["Quan-Signature"]).hex()
        return sm2.CryptSM2(private_key=None, public_key=self.platform).verify_with_sm3(sig, message)


def checkout(base, partner_id, scheme, key, serial, platform_key, code, merchant, amount, out_trade_no, txn):
    p = Partner(base, partner_id, scheme, key, serial, platform_key)
    order = {"voucher_code": code, "merchant_id": merchant, "amount_fen": int(amount)}
    out = {"certificate_matches": p.sync()}
    out["quote"] = p.call("POST", "/partner/v1/checkout/quotes", order)
    out["lock"] = p.call("POST", "/partner/v1/checkout/orders", dict(order, out_trade_no=out_trade_no))
    path = f"/partner/v1/checkout/orders/{out_trade_no}"
    out["confirm"] = p.call("POST", path + "/confirm", {"transaction_id": txn})
    out["lookup"] = p.call("GET", path)
    out["confirm_again"] = p.call("POST", path + "/confirm", {"transaction_id": txn})
    out["nonce_replayed"] = p.call("GET", path, nonce=out["lookup"]["nonce"])
    expected = {"quote": 200, "lock": 200, "confirm": 200, "lookup": 200, "confirm_again": 200, "nonce_replayed": 401}
    ok = out["certificate_matches"] and all(out[k]["status"] == v and out[k]["signature_verified"] for k, v in expected.items())
    ok = ok and out["lookup"]["body"]["status"] == "confirmed"
    ok = ok and out["nonce_replayed"]["body"]["error"]["code"] == "nonce_reused"
    print(json.dumps(out, ensure_ascii=False))
    return 0 if ok else 1


if __name__ == "__main__":
    if len(sys.argv) == 2 and sys.argv[1] == "keygen":
        print(json.dumps(keygen()))
        sys.exit(0)
    if len(sys.argv) == 13 and sys.argv[1] == "checkout":
        sys.exit(checkout(*sys.argv[2:]))
    print(__doc__)
    sys.exit(2)
