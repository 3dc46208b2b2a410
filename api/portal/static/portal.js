/* Xietong auditor portal: verify a file by its SHA-256, computed here in the browser.
 * Only the hash goes to the gateway (GET /v1/verify?hash=0x…, same origin, the portal's
 * cookie). The answer is built with DOM nodes and textContent only (never innerHTML). */
(function () {
  "use strict";

  var app = document.getElementById("verify-app");
  if (!app) return;
  var S = JSON.parse(document.getElementById("portal-strings").textContent);
  var result = document.getElementById("result");
  var progress = document.getElementById("progress");
  var dropzone = document.getElementById("dropzone");
  var fileInput = document.getElementById("file");
  var hashForm = document.getElementById("hash-form");
  var hashInput = document.getElementById("hash");
  var SUBTLE_LIMIT = 256 * 1024 * 1024; // larger files are hashed in chunks (below)
  var CHUNK = 4 * 1024 * 1024;
  var ZONE = app.getAttribute("data-zone") || "UTC"; // XIETONG_TIMEZONE, as the pages use it

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (all, key) {
      return Object.prototype.hasOwnProperty.call(values, key) ? String(values[key]) : all;
    });
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") node.textContent = attrs[key];
      else if (key === "className") node.className = attrs[key];
      else if (attrs[key] !== null && attrs[key] !== undefined) node.setAttribute(key, attrs[key]);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  }

  function short(value, keep) {
    keep = keep || 6;
    if (!value || value.length <= 2 * keep + 4) return value || "—";
    var head = value.indexOf("0x") === 0 ? keep + 2 : keep;
    return value.slice(0, head) + "…" + value.slice(-keep);
  }

  function hex(value, keep) {
    if (!value) return el("span", { className: "muted", text: "—" });
    return el("code", { className: "hex", title: value, text: short(value, keep) });
  }

  // "2026-11-23 17:00:05": an ISO instant as the wall clock of a zone (the pages' format).
  function wallClock(value, zone) {
    var instant = new Date(value);
    if (isNaN(instant.getTime())) return value;
    var parts = {};
    new Intl.DateTimeFormat("en-CA", {
      timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
      hour: "2-digit", minute: "2-digit", second: "2-digit"
    }).formatToParts(instant).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " +
      parts.hour + ":" + parts.minute + ":" + parts.second;
  }

  function time(value) {
    if (!value) return el("span", { className: "muted", text: "—" });
    return el("time", { datetime: value, title: wallClock(value, "UTC") + " UTC", text: wallClock(value, ZONE) });
  }

  function dept(ref) {
    if (!ref) return el("span", { className: "muted", text: "—" });
    return el("span", { className: "dept", title: ref.id, text: ref.name || short(ref.id) });
  }

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    var units = ["KiB", "MiB", "GiB", "TiB"], value = bytes, unit = -1;
    do { value /= 1024; unit += 1; } while (value >= 1024 && unit < units.length - 1);
    return value.toFixed(value < 10 ? 1 : 0) + " " + units[unit];
  }

  function toHex(buffer) {
    return Array.prototype.map.call(new Uint8Array(buffer), function (b) {
      return ("0" + b.toString(16)).slice(-2);
    }).join("");
  }

  /* ------------------------------------------------------------ SHA-256 fallback
   * For browsers without WebCrypto here (plain HTTP on a non-local address) and for files
   * too large to hold in memory at once: FIPS 180-4, fed chunk by chunk. */
  var K = new Uint32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);

  function Sha256() {
    this.h = new Uint32Array([0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]);
    this.w = new Uint32Array(64);
    this.buf = new Uint8Array(64);
    this.bufLen = 0;
    this.bytes = 0;
  }

  Sha256.prototype.block = function (d, o) {
    var w = this.w, h = this.h, i;
    for (i = 0; i < 16; i++) {
      w[i] = (d[o + 4 * i] << 24) | (d[o + 4 * i + 1] << 16) | (d[o + 4 * i + 2] << 8) | d[o + 4 * i + 3];
    }
    for (i = 16; i < 64; i++) {
      var x = w[i - 15], y = w[i - 2];
      var s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      var s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    var a = h[0], b = h[1], c = h[2], dd = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (i = 0; i < 64; i++) {
      var S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      var t1 = (hh + S1 + ((e & f) ^ (~e & g)) + K[i] + w[i]) | 0;
      var S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      var t2 = (S0 + ((a & b) ^ (a & c) ^ (b & c))) | 0;
      hh = g; g = f; f = e; e = (dd + t1) | 0; dd = c; c = b; b = a; a = (t1 + t2) | 0;
    }
    h[0] += a; h[1] += b; h[2] += c; h[3] += dd; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
  };

  Sha256.prototype.update = function (data) {
    var i = 0, n = data.length;
    this.bytes += n;
    if (this.bufLen) {
      var take = Math.min(64 - this.bufLen, n);
      this.buf.set(data.subarray(0, take), this.bufLen);
      this.bufLen += take;
      i = take;
      if (this.bufLen < 64) return;
      this.block(this.buf, 0);
      this.bufLen = 0;
    }
    for (; i + 64 <= n; i += 64) this.block(data, i);
    if (i < n) { this.buf.set(data.subarray(i), 0); this.bufLen = n - i; }
  };

  Sha256.prototype.digest = function () {
    var bits = this.bytes * 8;
    var pad = new Uint8Array((this.bufLen < 56 ? 56 : 120) - this.bufLen + 8);
    pad[0] = 0x80;
    var hi = Math.floor(bits / 0x100000000), lo = bits >>> 0, n = pad.length;
    pad[n - 8] = hi >>> 24; pad[n - 7] = hi >>> 16; pad[n - 6] = hi >>> 8; pad[n - 5] = hi;
    pad[n - 4] = lo >>> 24; pad[n - 3] = lo >>> 16; pad[n - 2] = lo >>> 8; pad[n - 1] = lo;
    this.update(pad);
    var out = new Uint8Array(32);
    for (var i = 0; i < 8; i++) {
      out[4 * i] = this.h[i] >>> 24; out[4 * i + 1] = this.h[i] >>> 16;
      out[4 * i + 2] = this.h[i] >>> 8; out[4 * i + 3] = this.h[i];
    }
    return out.buffer;
  };

  async function sha256File(file, onProgress) {
    var subtle = window.crypto && window.crypto.subtle;
    if (subtle && file.size <= SUBTLE_LIMIT) {
      return toHex(await subtle.digest("SHA-256", await file.arrayBuffer()));
    }
    var hash = new Sha256();
    for (var offset = 0; offset < file.size; offset += CHUNK) {
      hash.update(new Uint8Array(await file.slice(offset, offset + CHUNK).arrayBuffer()));
      onProgress(Math.min(100, Math.round(((offset + CHUNK) / file.size) * 100)));
    }
    return toHex(hash.digest());
  }
  window.xietongSha256Hex = function (bytes) { // for tests of the fallback
    var hash = new Sha256();
    hash.update(bytes);
    return toHex(hash.digest());
  };

  /* ------------------------------------------------------------ answers */

  function verdict(kind, status, title, text, extra) {
    var icon = kind === "ok" ? "✓" : kind === "bad" ? "✗" : "!";
    return el("div", { className: "verdict verdict-" + kind, "data-status": status, role: "status" }, [
      el("h2", {}, [el("span", { className: "icon", "aria-hidden": "true", text: icon }), title]),
      el("p", { text: text }),
      extra || null
    ]);
  }

  function subject(hash, file) {
    var parts = [];
    if (file) parts.push(S.file + ": ", el("strong", { text: file.name }), " (" + size(file.size) + ") · ");
    parts.push((file ? S.sha256 : S.hash) + ": ", hex("0x" + hash, 10));
    return el("p", { className: "subject" }, parts);
  }

  function fact(label, value) {
    return el("div", {}, [el("dt", { text: label }), el("dd", {}, Array.isArray(value) ? value : [value])]);
  }

  function lineage(match) {
    if (!match.lineage || !match.lineage.length) return el("p", { className: "muted", text: S.lineage_none });
    return el("ol", { className: "lineage-list" }, match.lineage.map(function (v) {
      return el("li", {}, [hex(v.root), " · ", time(v.anchored_at), " · ", dept(v.owner),
        " · ", el("a", { href: "/datasets/" + v.dataset_id, text: short(v.dataset_id) })]);
    }));
  }

  function authorizations(match) {
    var rows = match.authorizations || [];
    if (!rows.length) return el("p", { className: "muted", text: S.authorizations_none });
    var head = el("tr", {}, [S.provider, S.consumer, S.purpose, S.legal_basis, S.validity, S.receipts, S.agreement]
      .map(function (label) { return el("th", { scope: "col", text: label }); }));
    var body = rows.map(function (a) {
      return el("tr", { "data-agreement": a.agreement_id }, [
        el("td", {}, [dept(a.provider)]), el("td", {}, [dept(a.consumer)]),
        el("td", {}, [hex(a.purpose)]), el("td", {}, [hex(a.legal_basis)]),
        el("td", { className: "nowrap" }, [time(a.valid_from), el("br"), "→ ", time(a.valid_until)]),
        el("td", { className: "num", text: String((a.receipts || []).length) }),
        el("td", {}, [el("a", { href: "/agreements/" + a.agreement_id, text: short(a.agreement_id) })])
      ]);
    });
    return el("div", { className: "table-scroll" }, [
      el("table", { className: "data" }, [el("thead", {}, [head]), el("tbody", {}, body)])
    ]);
  }

  function matchCard(match, index) {
    var v = match.version;
    var label = match.status === "anchored" ? S.anchored : match.status === "revoked" ? S.revoked : S.unconfirmed;
    var badge = el("span", { className: "badge badge-" + match.status, "data-status": match.status, text: label });
    var facts = el("dl", { className: "facts" }, [
      fact(S.department, dept(v.owner)),
      fact(S.anchored_at, time(v.anchored_at)),
      fact(S.transaction, hex(v.transaction, 8)),
      fact(S.block, "#" + v.block_number),
      fact(S.confirmations, v.confirmations + " (" + (v.final ? S.final : S.not_final) + ")"),
      fact(S.dataset, el("a", { href: "/datasets/" + v.dataset_id + "#v-" + v.id }, [hex(v.dataset_id)])),
      fact(S.root, hex(v.root)),
      fact(S.leaves, String(v.leaf_count)),
      match.kind === "file" ? fact(S.path, match.path || "—") : fact(S.record, String(match.record_index)),
      fact(S.leaf, hex(match.leaf_hash))
    ]);
    var button = el("button", { type: "button", className: "btn", "data-proof-url": match.proof_url,
      "data-leaf": match.leaf_hash, text: "⤓ " + S.proof });
    button.addEventListener("click", function () { downloadProof(button); });
    return el("article", { className: "match card", "data-root": v.root }, [
      el("h3", {}, [fmt(S.match, { n: index + 1 }), badge]),
      facts,
      el("h4", { text: S.lineage }), lineage(match),
      el("h4", { text: S.authorizations }), authorizations(match),
      el("div", { className: "proof-row" }, [button, el("span", { className: "hint", text: S.proof_hint })])
    ]);
  }

  function showAnswer(hash, file, body) {
    var first = body.matches[0];
    var status = body.anchored ? "anchored" : first.status;
    var kind = status === "anchored" ? "ok" : status === "revoked" ? "bad" : "warn";
    var title = status === "anchored" ? S.anchored : status === "revoked" ? S.revoked : S.unconfirmed;
    var text = status === "anchored" ? S.anchored_text : status === "revoked" ? S.revoked_text : S.unconfirmed_text;
    result.replaceChildren(verdict(kind, status, title, text, subject(hash, file)));
    if (body.index && body.index.node_reachable === false) {
      result.appendChild(el("p", { className: "notice stale", "data-stale": "node-unreachable",
        text: fmt(S.stale, { block: String(body.index.block_number) }) }));
    }
    body.matches.forEach(function (match, index) { result.appendChild(matchCard(match, index)); });
  }

  function showProblem(hash, file, status, problem) {
    var type = (problem && problem.type) || "";
    var detail = (problem && problem.detail) || "";
    if (status === 404 && /:not-anchored$/.test(type)) {
      result.replaceChildren(verdict("bad", "not-anchored", S.not_anchored, S.not_anchored_text, subject(hash, file)));
    } else if (status === 401 || status === 403) {
      var link = el("a", { href: "/login?next=%2F", text: S.signin_link });
      result.replaceChildren(verdict("bad", "sign-in", S.error, S.signin, el("p", {}, [link])));
    } else {
      result.replaceChildren(verdict("bad", "error", S.error, detail || String(status)));
    }
  }

  async function verifyHash(hash, file) {
    progress.textContent = S.querying;
    try {
      var response = await fetch("/v1/verify?hash=0x" + hash, {
        credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store"
      });
      var body = null;
      try { body = await response.json(); } catch (ignored) { body = null; }
      if (response.ok && body && body.matches && body.matches.length) showAnswer(hash, file, body);
      else showProblem(hash, file, response.status, body);
    } catch (error) {
      result.replaceChildren(verdict("bad", "error", S.error, String(error)));
    } finally {
      progress.textContent = "";
    }
  }

  async function verifyFile(file) {
    if (!file) return;
    result.replaceChildren();
    var label = fmt(S.hashing, { name: file.name, size: size(file.size) });
    progress.textContent = label;
    var hash;
    try {
      hash = await sha256File(file, function (percent) { progress.textContent = label + " " + percent + "%"; });
    } catch (error) {
      progress.textContent = "";
      result.replaceChildren(verdict("bad", "error", S.error, String(error && error.message || error)));
      return;
    }
    hashInput.value = "0x" + hash;
    await verifyHash(hash, file);
  }

  async function downloadProof(button) {
    button.disabled = true;
    try {
      var response = await fetch(button.getAttribute("data-proof-url"), {
        credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store"
      });
      if (!response.ok) throw new Error(response.status + " " + response.statusText);
      var bundle = await response.json();
      var blob = new Blob([JSON.stringify(bundle, null, 2) + "\n"], { type: "application/json" });
      var url = URL.createObjectURL(blob);
      var link = el("a", { href: url, download: "xietong-proof-" + button.getAttribute("data-leaf").slice(2, 14) + ".json" });
      document.body.appendChild(link);
      link.click();
      setTimeout(function () { URL.revokeObjectURL(url); link.remove(); }, 10000);
    } catch (error) {
      button.parentNode.appendChild(el("p", { className: "alert alert-error", role: "alert", text: S.proof_failed + ": " + error.message }));
    } finally {
      button.disabled = false;
    }
  }

  /* ------------------------------------------------------------ wiring */

  fileInput.addEventListener("change", function () {
    if (fileInput.files && fileInput.files[0]) verifyFile(fileInput.files[0]);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    dropzone.addEventListener(name, function (event) {
      event.preventDefault();
      dropzone.classList.add("dragging");
    });
  });
  ["dragleave", "drop"].forEach(function (name) {
    dropzone.addEventListener(name, function () { dropzone.classList.remove("dragging"); });
  });
  dropzone.addEventListener("drop", function (event) {
    event.preventDefault();
    var files = event.dataTransfer && event.dataTransfer.files;
    if (files && files[0]) verifyFile(files[0]);
  });
  // A file dropped beside the zone must not make the browser navigate away to it.
  ["dragover", "drop"].forEach(function (name) {
    window.addEventListener(name, function (event) { event.preventDefault(); });
  });
  // A malformed hash marks the field invalid (aria-invalid) and names the message that says
  // why (aria-describedby), until the field is edited or a well-formed hash is sent.
  var hashHint = hashInput.getAttribute("aria-describedby");
  function markHash(invalid) {
    if (invalid) {
      hashInput.setAttribute("aria-invalid", "true");
      hashInput.setAttribute("aria-describedby", "hash-error");
    } else {
      hashInput.removeAttribute("aria-invalid");
      if (hashHint) hashInput.setAttribute("aria-describedby", hashHint);
      else hashInput.removeAttribute("aria-describedby");
    }
  }
  hashInput.addEventListener("input", function () { markHash(false); });
  hashForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var value = hashInput.value.trim().replace(/^0x/i, "");
    if (!/^[0-9a-fA-F]{64}$/.test(value)) {
      var refusal = verdict("bad", "bad-hash", S.error, S.bad_hash);
      refusal.id = "hash-error";
      result.replaceChildren(refusal);
      markHash(true);
      return;
    }
    markHash(false);
    verifyHash(value.toLowerCase(), null);
  });
  if (hashInput.value.trim()) hashForm.requestSubmit();
})();
