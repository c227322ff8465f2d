// quan's own script for its pages (no inline scripts: the pages' CSP forbids them).
// The server's clock, countdowns, the claim with its bounded retries, the
// position, dynamic codes, the screen kept awake, hand scanners, the camera.
(function () {
  "use strict";
  var offset = 0; // server time minus this device's time, in ms
  function serverNow() { return Date.now() + offset; }
  function $(sel, root) { return (root || document).querySelector(sel); }
  function $all(sel, root) { return Array.prototype.slice.call((root || document).querySelectorAll(sel)); }
  function csrf() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || ""; } catch (e) { return ""; }
  }
  function two(n) { return (n < 10 ? "0" : "") + n; }

  // The device token: made once, kept in this browser (per-device limits).
  function deviceToken() {
    var t = null;
    try { t = localStorage.getItem("quan-device"); } catch (e) { t = null; }
    if (!t || !/^[A-Za-z0-9_-]{8,64}$/.test(t)) {
      var a = new Uint8Array(16);
      crypto.getRandomValues(a);
      t = "d-" + Array.prototype.map.call(a, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
      try { localStorage.setItem("quan-device", t); } catch (e) { /* private mode: a token per page */ }
    }
    return t;
  }

  // The proof of work a batch may ask for: fetched from its lead time
  // before the opening and solved in a worker beside this script.
  var POW_WORKER = ((document.currentScript && document.currentScript.src) || "").replace(/quan\.js(\?.*)?$/, "pow.js");
  var pow = {};
  function solve(btn) {
    var url = btn.getAttribute("data-pow");
    if (pow[url]) return pow[url];
    var status = $("#pow-status");
    if (status) status.textContent = "正在进行安全校验…";
    var started = performance.now();
    pow[url] = fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf(), "Quan-Device": deviceToken() }
    }).then(function (r) {
      if (r.ok) return r.json();
      return r.text().then(function (html) { throw { status: r.status, html: html }; });
    }).then(function (c) {
      return new Promise(function (resolve, reject) {
        var w = new Worker(POW_WORKER);
        w.onmessage = function (ev) {
          w.terminate();
          if (ev.data.error) { reject(ev.data.error); return; }
          resolve({ challenge: c.challenge, nonce: ev.data.nonce, bits: c.bits, hashes: ev.data.hashes });
        };
        w.onerror = function (e) { w.terminate(); reject(e.message || "worker"); };
        w.postMessage({ challenge: c.challenge, bits: c.bits });
      });
    }).then(function (s) {
      if (status) {
        status.textContent = "安全校验已完成，开抢后点击领取即可";
        status.setAttribute("data-pow-ms", String(Math.round(performance.now() - started)));
        status.setAttribute("data-pow-bits", String(s.bits));
        status.setAttribute("data-pow-hashes", String(s.hashes));
      }
      return s;
    });
    pow[url].catch(function (e) {
      delete pow[url];
      if (status) status.innerHTML = (e && e.html) || "安全校验失败，请刷新页面后重试";
    });
    return pow[url];
  }
  function codeOf(html) { var m = /data-code="([a-z_]+)"/.exec(html || ""); return m ? m[1] : ""; }

  // The server's clock: a first guess from the page, then measured.
  function syncClock() {
    var el = $("[data-server-now]");
    if (!el) return;
    offset = Number(el.getAttribute("data-server-now")) - Date.now();
    var sent = Date.now();
    fetch("/h5/time", { cache: "no-store", credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (t) {
      var back = Date.now();
      var server = Number(t);
      if (server > 0) offset = server + (back - sent) / 2 - back;
    }).catch(function () {});
  }

  function tick() {
    var now = serverNow();
    $all(".countdown[data-opening]").forEach(function (el) {
      var left = Math.ceil((Number(el.getAttribute("data-opening")) - now) / 1000);
      var b = el.querySelector("b");
      if (left <= 0) { el.classList.add("countdown_done"); if (b) b.textContent = "已开始"; return; }
      var h = Math.floor(left / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      if (b) b.textContent = two(h) + ":" + two(m) + ":" + two(s);
    });
    $all("button.claim[data-pow][data-pow-from]").forEach(function (btn) {
      if (Number(btn.getAttribute("data-pow-from")) <= now && !pow[btn.getAttribute("data-pow")]) solve(btn);
    });
    $all("button.claim[disabled][data-opening]").forEach(function (btn) {
      if (Number(btn.getAttribute("data-opening")) <= now && !btn.hasAttribute("data-done")) {
        btn.disabled = false;
        btn.textContent = "立即领取";
      }
    });
    $all(".code__box[data-expires]").forEach(function (box) {
      var left = Math.max(0, Math.ceil((Number(box.getAttribute("data-expires")) - now) / 1000));
      var s = box.querySelector(".code__left");
      if (s) s.textContent = String(left);
    });
  }

  // The claim: busy (429) waits for Retry-After and tries again, at most 5 times.
  var CLAIM_TRIES_MAX = 5;
  function claim(btn, attempt) {
    var out = $("#claim-result");
    btn.disabled = true;
    if (!btn.hasAttribute("data-pow")) { send(btn, attempt, null); return; }
    out.innerHTML = "<div class=\"msg msg_wait\" data-code=\"pow\">正在完成安全校验…</div>";
    solve(btn).then(function (s) { send(btn, attempt, s); }, function () {
      out.innerHTML = "<div class=\"msg msg_warn\" data-code=\"pow_failed\">安全校验失败，请重试</div>";
      btn.disabled = false;
    });
  }

  function send(btn, attempt, solved) {
    var out = $("#claim-result");
    var body = new URLSearchParams();
    body.set("kind", btn.getAttribute("data-kind") || "");
    ["lat", "lng", "accuracy_m"].forEach(function (k) { var f = $("#" + k); if (f && f.value) body.set(k, f.value); });
    if (solved) { body.set("pow_challenge", solved.challenge); body.set("pow_nonce", solved.nonce); }
    // Inside the fair admission window every request waits for the draw.
    if (Number(btn.getAttribute("data-window-ends")) > serverNow()) {
      out.innerHTML = "<div class=\"msg msg_wait\" data-code=\"queued\">排队中，请勿离开此页面…</div>";
    }
    fetch(btn.getAttribute("data-claim"), {
      method: "POST", credentials: "same-origin", body: body,
      headers: { "X-CSRF-Token": csrf(), "HX-Request": "true", "Quan-Device": deviceToken() }
    }).then(function (r) {
      return r.text().then(function (html) { answered(btn, attempt, r, html); });
    }, function (e) {
      out.innerHTML = "<div class=\"msg msg_warn\" data-error=\"" + String(e).replace(/[<>&"]/g, "") + "\">网络不通，请重试</div>";
      btn.disabled = false;
    });
  }

  function answered(btn, attempt, r, html) {
    var out = $("#claim-result");
    if (r.status === 429 && attempt < CLAIM_TRIES_MAX) {
      var wait = Math.min(10, Math.max(1, Number(r.headers.get("Retry-After")) || 1));
      out.innerHTML = "<div class=\"msg msg_wait\" data-code=\"busy\">人太多了，" + wait + " 秒后自动重试（第 " + attempt + " 次）</div>";
      setTimeout(function () { claim(btn, attempt + 1); }, wait * 1000);
      return;
    }
    // The challenge was used, expired, or signals now ask for more: a new one.
    if (r.status === 403 && /^challenge_/.test(codeOf(html)) && attempt < CLAIM_TRIES_MAX) {
      delete pow[btn.getAttribute("data-pow")];
      claim(btn, attempt + 1);
      return;
    }
    var redirect = r.headers.get("HX-Redirect");
    if (redirect) { location.href = redirect; return; }
    out.innerHTML = html;
    if (window.htmx) window.htmx.process(out);
    if (r.status === 201) { btn.setAttribute("data-done", ""); btn.textContent = "已领取"; }
    else if (r.status === 409) { btn.setAttribute("data-done", ""); }
    else { btn.disabled = false; }
  }

  // The browser's position (WGS-84), for eligibility and the shops near me.
  function locate(then) {
    var text = $("#where-text");
    if (!navigator.geolocation) { if (text) text.textContent = "此浏览器不能定位"; return; }
    if (text) text.textContent = "正在定位…";
    navigator.geolocation.getCurrentPosition(function (p) {
      var c = p.coords;
      [["lat", c.latitude], ["lng", c.longitude], ["accuracy_m", Math.round(c.accuracy)]].forEach(function (kv) {
        var f = $("#" + kv[0]); if (f) f.value = String(kv[1]);
      });
      if (text) text.textContent = "已获取位置（精度约 " + Math.round(c.accuracy) + " 米），位置不会保存。";
      then(c);
    }, function () {
      if (text) text.textContent = "未能获取位置：请在浏览器设置中允许定位后重试";
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  }

  // The screen stays on while a code is shown, where the browser allows.
  var lock = null;
  function keepAwake() {
    if (!$("[data-keep-awake]") || !navigator.wakeLock || document.visibilityState !== "visible") return;
    navigator.wakeLock.request("screen").then(function (l) { lock = l; }).catch(function () {});
  }

  // The camera: qr-scanner puts what it reads into the form's field.
  function startScanner(box) {
    if (!window.QrScanner) return;
    var video = box.querySelector("video");
    var field = document.getElementById(box.getAttribute("data-scan-into"));
    video.hidden = false;
    var scanner = new window.QrScanner(video, function (result) {
      field.value = result.data || result;
      scanner.stop(); scanner.destroy(); video.hidden = true;
      var next = $("#amount"); if (next && !next.value) next.focus();
    }, { returnDetailedScanResult: true });
    scanner.start().catch(function () { video.hidden = true; field.focus(); });
  }

  function beep() {
    try {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      var ctx = new Ctx(), o = ctx.createOscillator(), g = ctx.createGain();
      o.frequency.value = 880; o.connect(g); g.connect(ctx.destination);
      g.gain.value = 0.1; o.start(); o.stop(ctx.currentTime + 0.15);
    } catch (e) { /* sound not allowed */ }
  }

  document.addEventListener("click", function (ev) {
    var t = ev.target;
    if (!(t instanceof Element)) return;
    var btn = t.closest("button.claim");
    if (btn && !btn.disabled) {
      ev.preventDefault();
      // The position first, when the page asks for one and has none yet.
      var lat = $("#lat");
      if (lat && !lat.value && navigator.geolocation) { locate(function () { claim(btn, 1); }); } else { claim(btn, 1); }
      return;
    }
    if (t.closest("#locate")) { locate(function () { if (window.htmx) window.htmx.trigger("#where", "located"); }); return; }
    var near = t.closest("#near-me");
    if (near) {
      locate(function (c) {
        var url = near.getAttribute("data-shops") + "?lat=" + c.latitude + "&lng=" + c.longitude + "&accuracy_m=" + Math.round(c.accuracy);
        if (window.htmx) window.htmx.ajax("GET", url, "#shops");
      });
      return;
    }
    var scan = t.closest(".scanner__start");
    if (scan) startScanner(scan.closest(".scanner"));
  });

  // A hand scanner types the code and Enter into the focused field: go on
  // to the amount when it is still empty, else submit.
  document.addEventListener("keydown", function (ev) {
    var t = ev.target;
    if (ev.key !== "Enter" || !(t instanceof HTMLInputElement) || !t.hasAttribute("data-scanner-field")) return;
    var amount = $("#amount");
    if (amount && !amount.value) { ev.preventDefault(); amount.focus(); }
  });

  document.addEventListener("htmx:configRequest", function (ev) {
    var elt = ev.detail && ev.detail.elt;
    if (elt && elt.id === "code") {
      var box = $(".code__box[data-shown]", elt);
      if (box) ev.detail.parameters.shown = box.getAttribute("data-shown");
    }
  });

  document.addEventListener("htmx:afterRequest", function (ev) {
    var d = ev.detail || {};
    var path = d.requestConfig && d.requestConfig.path;
    if (/^\/till\/redemptions\/.*\/refund$/.test(path || "") && d.xhr && d.xhr.status === 201 && window.htmx && $("#totals")) {
      window.htmx.trigger("#totals", "refresh");
    }
    if (path === "/till/redeem" && d.xhr && d.xhr.status === 201) {
      var form = $("#redeem-form"); if (form) form.reset();
      var code = $("#code"); if (code) code.focus();
    }
  });

  // A new redemption at the till: a beep, and today's totals again.
  document.addEventListener("htmx:sseMessage", function () {
    beep();
    if (window.htmx && $("#totals")) window.htmx.trigger("#totals", "refresh");
  });
  // A photo too large is said at once, before it is sent (the server checks it again).
  document.addEventListener("change", function (ev) {
    var input = ev.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]") || !input.files || !input.files[0]) return;
    if (input.files[0].size > Number(input.getAttribute("data-max-bytes"))) {
      input.value = "";
      var box = input.form && $("[aria-live]", input.form);
      if (box) box.innerHTML = "<div class=\"msg msg_warn\">" + input.getAttribute("data-too-large") + "</div>";
    }
  });
  document.addEventListener("visibilitychange", keepAwake);

  function start() {
    syncClock();
    tick();
    setInterval(tick, 250);
    keepAwake();
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start); else start();
})();
