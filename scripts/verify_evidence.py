#!/usr/bin/env python3
"""Checks a quan evidence package (quan risk export) with gmssl, an SM2/SM3
implementation independent of the RustCrypto one quan signs with: every
file's SHA-256 against manifest.json, and manifest.sig (SM2 with SM3, signer
ID 1234567812345678, r||s in hex) against the deployment's public key.

usage: scripts/verify_evidence.py DIR PUBLIC_KEY_HEX   (pip install gmssl)
Prints "ok" and exits 0, or names every difference and exits 1.
"""
import hashlib
import json
import os
import sys

from gmssl import sm2


def main(folder: str, public_hex: str) -> int:
    public_hex = public_hex.strip()
    # SEC1 uncompressed (04 || x || y); gmssl takes x || y.
    if len(public_hex) == 130 and public_hex.startswith("04"):
        public_hex = public_hex[2:]
    with open(os.path.join(folder, "manifest.json"), "rb") as f:
        manifest = f.read()
    with open(os.path.join(folder, "manifest.sig")) as f:
        signature = f.read().strip()
    problems = []
    if not sm2.CryptSM2(private_key=None, public_key=public_hex).verify_with_sm3(signature, manifest):
        problems.append("manifest.sig does not verify under the public key")
    for entry in json.loads(manifest)["files"]:
        path = os.path.join(folder, entry["name"])
        if not os.path.exists(path):
            problems.append(f"{entry['name']} is missing")
            continue
        with open(path, "rb") as f:
            if hashlib.sha256(f.read()).hexdigest() != entry["sha256"]:
                problems.append(f"{entry['name']} differs from its SHA-256 in the manifest")
    for p in problems:
        print(f"DIFFERENCE: {p}")
    if not problems:
        print("ok")
    return 1 if problems else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sys.exit(main(sys.argv[1], sys.argv[2]))
