// Proof of work for a claim, in a worker so the page stays responsive:
// find the first decimal nonce such that SHA-256(challenge + ":" + nonce)
// begins with `bits` zero bits (the server checks it with one hash).
self.onmessage = function (ev) {
  "use strict";
  var prefix = ev.data.challenge + ":";
  var bits = ev.data.bits;
  var enc = new TextEncoder();
  var AT_ONCE = 512;
  var next = 0;
  function solves(buf) {
    var b = new Uint8Array(buf), n = bits, i = 0;
    while (n >= 8) { if (b[i++] !== 0) return false; n -= 8; }
    return n === 0 || (b[i] >> (8 - n)) === 0;
  }
  function round() {
    var from = next;
    next += AT_ONCE;
    var jobs = [];
    for (var k = from; k < next; k++) jobs.push(crypto.subtle.digest("SHA-256", enc.encode(prefix + k)));
    Promise.all(jobs).then(function (hashes) {
      for (var j = 0; j < hashes.length; j++) {
        if (solves(hashes[j])) { self.postMessage({ nonce: String(from + j), hashes: from + j + 1 }); return; }
      }
      round();
    }, function (e) { self.postMessage({ error: String(e) }); });
  }
  round();
};
