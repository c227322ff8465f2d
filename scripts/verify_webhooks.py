#!/usr/bin/env python3
"""Checks webhooks quan delivered, with libraries written apart from quan:
Python's `standardwebhooks` (the `webhook-signature` under the endpoint's
whsec_ secret) and `gmssl` (the `quan-signature`: SM2 with SM3, signer ID
1234567812345678, over `id.timestamp.body`, under the platform key).

usage: scripts/verify_webhooks.py DELIVERIES.json WHSEC_SECRET PLATFORM_KEY_HEX
DELIVERIES.json: [{"id", "timestamp", "signature", "quan_signature", "body"}, ...]
Prints "ok N" and exits 0, or names each failure and exits 1.
(pip install standardwebhooks gmssl)
"""
import base64
import json
import sys
from datetime import datetime, timezone

from gmssl import sm2
from standardwebhooks.webhooks import Webhook


def main(path, secret, platform):
    platform = platform[2:] if len(platform) == 130 else platform
    deliveries = json.load(open(path))
    wh = Webhook(secret)
    problems = []
    for d in deliveries:
        ts = datetime.fromtimestamp(int(d["timestamp"]), tz=timezone.utc)
        expected = wh.sign(d["id"], ts, d["body"].encode())
        if expected not in d["signature"].split(" "):
            problems.append(f"{d['id']}: webhook-signature does not verify")
        message = f"{d['id']}.{d['timestamp']}.".encode() + d["body"].encode()
        sig = base64.b64decode(d["quan_signature"]).hex()
        if not sm2.CryptSM2(private_key=None, public_key=platform).verify_with_sm3(sig, message):
            problems.append(f"{d['id']}: quan-signature does not verify")
    for p in problems:
        print(f"FAILED: {p}")
    if not problems:
        print(f"ok {len(deliveries)}")
    return 1 if problems or not deliveries else 0


if __name__ == "__main__":
    if len(sys.argv) != 4:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(*sys.argv[1:]))
