/* Xietong auditor portal: verify files by their hashes, computed here in the browser.
 * Only hashes go to the gateway (same origin, the portal's cookie): a file's SHA-256 to
 * GET /v1/verify (is it anchored?) and GET /v1/documents (is it a terms document?), then, when
 * no version holds that SHA-256, its SM3 digest to GET /v1/verify (a dataset anchored with SM3,
 * docs/SM3.md: sm-crypto's sm3, vendored), a short text's keccak256 to GET /v1/documents (is it
 * a purpose, a legal basis, evidence?). A records file dropped with its salts sidecar is checked
 * row by row by records.js. Answers are built with DOM nodes and textContent only (never
 * innerHTML). */
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
  var ROW_COUNT_LIMIT = 64 * 1024 * 1024; // a records file dropped alone is parsed up to this
  // sm-crypto's sm3 (vendor/sm-crypto/sm3.js) takes the whole file at once and copies it into
  // arrays of numbers (tens of bytes of memory for each byte hashed): larger files are hashed
  // in chunks by the page's own SM3 (below), which the tests check against it.
  var SM3_LIMIT = 32 * 1024 * 1024;
  var DIGEST_NAMES = { sha256: "SHA-256", sm3: "SM3" };
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
    var parts = {}, format;
    try {
      format = new Intl.DateTimeFormat("en-CA", {
        timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
        hour: "2-digit", minute: "2-digit", second: "2-digit"
      });
    } catch (error) { // a zone the browser does not know (posix/…, right/…): shown as UTC
      return zone === "UTC" ? value : wallClock(value, "UTC") + " UTC";
    }
    format.formatToParts(instant).forEach(function (part) { parts[part.type] = part.value; });
    return parts.year + "-" + parts.month + "-" + parts.day + " " +
      parts.hour + ":" + parts.minute + ":" + parts.second;
  }

  function time(value) {
    if (!value) return el("span", { className: "muted", text: "—" });
    return el("time", { datetime: value, title: wallClock(value, "UTC") + " UTC", text: wallClock(value, ZONE) });
  }

  // Text from the chain or the catalogue as the pages' `visible` filter shows it
  // (ledger/display.py): every character a reader cannot see or that reorders the text
  // (controls, format and bidi characters, blank letters, separators, unassigned) written as
  // \uXXXX, and each backslash doubled so that an escape cannot be faked.
  var HIDDEN = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\u115f\u1160\u17b4\u17b5\u180e\u2800\u3164\uffa0\\]/gu;
  function visible(text) {
    return String(text).replace(HIDDEN, function (ch) {
      if (ch === "\\") return "\\\\";
      var code = ch.codePointAt(0).toString(16);
      return code.length <= 4 ? "\\u" + code.padStart(4, "0") : "\\U" + code.padStart(8, "0");
    });
  }

  // A department by name (chain data: made visible, isolated from the text around it), its
  // id on hover; a name the index flags, or one holding what `visible` had to escape, is
  // marked, the id beside it being what counts.
  function dept(ref) {
    if (!ref) return el("span", { className: "muted", text: "—" });
    var shown = ref.name ? visible(ref.name) : short(ref.id);
    var name = el("span", { className: "dept", title: ref.id }, [el("bdi", { text: shown })]);
    var flags = (ref.name_flags || []).slice();
    if (ref.name && shown !== ref.name && !flags.length) flags.push("hidden-characters");
    if (!flags.length) return name;
    return el("span", {}, [name, " ", el("span", { className: "name-warning",
      text: "⚠ " + fmt(S.name_flagged, { flags: flags.join(", ") }) + " " + ref.id })]);
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

  /* ------------------------------------------------------------ hashing in chunks
   * SHA-256 (FIPS 180-4) and SM3 (GM/T 0004-2012) fed chunk by chunk, for files too large to
   * hold in memory at once and, for SHA-256, browsers without WebCrypto here (plain HTTP on a
   * non-local address). Both are Merkle-Damgard hashes of 64-byte blocks padded alike (0x80,
   * zeros, the bit length big-endian): one buffer and padding (Blocks), one block function each. */

  function Blocks(iv, block) {
    this.h = new Uint32Array(iv);
    this.block = block;
    this.buf = new Uint8Array(64);
    this.bufLen = 0;
    this.bytes = 0;
  }

  Blocks.prototype.update = function (data) {
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

  Blocks.prototype.digest = function () {
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

  // The 16 big-endian words of the block of `d` at `o`, into w[0..15].
  function words(w, d, o) {
    for (var i = 0; i < 16; i++) {
      w[i] = (d[o + 4 * i] << 24) | (d[o + 4 * i + 1] << 16) | (d[o + 4 * i + 2] << 8) | d[o + 4 * i + 3];
    }
  }

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
    var w = new Uint32Array(64);
    Blocks.call(this, [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
      0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19], function (d, o) {
      var h = this.h, i;
      words(w, d, o);
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
    });
  }
  Sha256.prototype = Object.create(Blocks.prototype);

  function rotl(x, n) { return (x << n) | (x >>> (32 - n)); }

  // SM3's compression function (GM/T 0004-2012, 5.3): message expansion into W and W', then
  // 64 rounds; the new state is the rounds' result XOR the old one.
  function Sm3() {
    var w = new Uint32Array(68);
    Blocks.call(this, [0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600,
      0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e], function (d, o) {
      var h = this.h, j;
      words(w, d, o);
      for (j = 16; j < 68; j++) {
        var x = w[j - 16] ^ w[j - 9] ^ rotl(w[j - 3], 15);
        w[j] = x ^ rotl(x, 15) ^ rotl(x, 23) ^ rotl(w[j - 13], 7) ^ w[j - 6];
      }
      var a = h[0], b = h[1], c = h[2], dd = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
      for (j = 0; j < 64; j++) {
        var a12 = rotl(a, 12);
        var ss1 = rotl((a12 + e + rotl(j < 16 ? 0x79cc4519 : 0x7a879d8a, j % 32)) | 0, 7);
        var ss2 = ss1 ^ a12;
        var ff = j < 16 ? a ^ b ^ c : (a & b) | (a & c) | (b & c);
        var gg = j < 16 ? e ^ f ^ g : (e & f) | (~e & g);
        var tt1 = (ff + dd + ss2 + (w[j] ^ w[j + 4])) | 0;
        var tt2 = (gg + hh + ss1 + w[j]) | 0;
        dd = c; c = rotl(b, 9); b = a; a = tt1;
        hh = g; g = rotl(f, 19); f = e; e = tt2 ^ rotl(tt2, 9) ^ rotl(tt2, 17);
      }
      h[0] ^= a; h[1] ^= b; h[2] ^= c; h[3] ^= dd; h[4] ^= e; h[5] ^= f; h[6] ^= g; h[7] ^= hh;
    });
  }
  Sm3.prototype = Object.create(Blocks.prototype);

  // A file's digest by `Hash` (Sha256 or Sm3), CHUNK bytes at a time, telling `onProgress`
  // the percent done.
  async function hashInChunks(Hash, file, onProgress) {
    var hash = new Hash();
    for (var offset = 0; offset < file.size; offset += CHUNK) {
      hash.update(new Uint8Array(await file.slice(offset, offset + CHUNK).arrayBuffer()));
      onProgress(Math.min(100, Math.round(((offset + CHUNK) / file.size) * 100)));
    }
    return toHex(hash.digest());
  }

  async function sha256File(file, onProgress) {
    var subtle = window.crypto && window.crypto.subtle;
    if (subtle && file.size <= SUBTLE_LIMIT) {
      return toHex(await subtle.digest("SHA-256", await file.arrayBuffer()));
    }
    return hashInChunks(Sha256, file, onProgress);
  }
  // For tests of the chunked hashes: the digest of bytes (a Uint8Array), or of an array of
  // them fed one by one.
  function hexInChunks(Hash) {
    return function (data) {
      var hash = new Hash();
      (Array.isArray(data) ? data : [data]).forEach(function (chunk) { hash.update(chunk); });
      return toHex(hash.digest());
    };
  }
  window.xietongSha256Hex = hexInChunks(Sha256);
  window.xietongSm3Hex = hexInChunks(Sm3);

  /* ------------------------------------------------------------ SM3 (GM/T 0004-2012)
   * WebCrypto has no SM3: sm-crypto's (vendor/sm-crypto/sm3.js, pinned in
   * hardhat-node/package.json) sets window.sm3, which takes bytes and gives lower-case hex. */

  function sm3Available() { return typeof window.sm3 === "function"; }

  // A pause that lets the page show the progress line before a long computation blocks it.
  function breathe() { return new Promise(function (done) { setTimeout(done, 0); }); }

  // The SM3 digest of a dropped file (`item` as verifyFiles makes it), computed once: {hash}
  // (hex), or {problem: "unavailable"} when the vendored implementation did not load. Files
  // above SM3_LIMIT are hashed in chunks (Sm3 above, checked against sm-crypto by the tests).
  async function sm3Of(item) {
    if (item.sm3) return item.sm3;
    var label = fmt(S.hashing_sm3, { name: item.file.name, size: size(item.file.size) });
    if (!sm3Available()) {
      item.sm3 = { problem: "unavailable" };
    } else if (item.file.size > SM3_LIMIT) {
      item.sm3 = { hash: await hashInChunks(Sm3, item.file, function (percent) {
        progress.textContent = label + " " + percent + "%";
      }) };
    } else {
      progress.textContent = label;
      var bytes = new Uint8Array(await item.file.arrayBuffer());
      await breathe();
      item.sm3 = { hash: window.sm3(bytes) };
    }
    return item.sm3;
  }

  // When the SHA-256 of a file is in no version (a clean "not anchored", not an error), its SM3
  // digest is asked about: an answer that is not "not anchored" (matches, an error, sign in)
  // takes the place of the first. `asked` is what ask() gave; it gets {digest, sm3}.
  async function askSm3(item, asked) {
    var first = asked.verify;
    if (!(first.status === 404 && notAnchored(first.body)) || needsSignIn(asked.all)) return asked;
    var sm3 = await sm3Of(item);
    asked.sm3 = sm3;
    if (!sm3.hash) return asked;
    progress.textContent = S.querying;
    var answer = await getJson("/v1/verify?hash=0x" + sm3.hash);
    asked.all.push(answer);
    if (answer.status === 404 && notAnchored(answer.body)) return asked;
    if (answer.ok && answer.body) await learnNames(namedHashes(answer.body.matches));
    asked.verify = answer;
    asked.digest = "sm3";
    return asked;
  }

  // Why a file's SM3 digest was not asked about, as a notice (null when it was).
  function sm3Notice(asked) {
    var problem = asked.sm3 && asked.sm3.problem;
    if (!problem) return null;
    return el("p", { className: "notice", "data-notice": "sm3-" + problem, text: S.sm3_unavailable });
  }

  /* ------------------------------------------------------------ answers */

  // A verdict: its title, a sentence (text, or text and nodes), and what follows it.
  function verdict(kind, status, title, text, extra) {
    var icon = kind === "ok" ? "✓" : kind === "bad" ? "✗" : "!";
    return el("div", { className: "verdict verdict-" + kind, "data-status": status, role: "status" }, [
      el("h2", {}, [el("span", { className: "icon", "aria-hidden": "true", text: icon }), title]),
      el("p", {}, Array.isArray(text) ? text : [text])
    ].concat(Array.isArray(extra) ? extra : [extra]));
  }

  // A template whose {names} are nodes (links, departments, times): the pieces to append.
  function fill(template, values) {
    return template.split(/(\{\w+\})/).map(function (piece) {
      var key = /^\{(\w+)\}$/.exec(piece);
      return key && Object.prototype.hasOwnProperty.call(values, key[1]) ? values[key[1]] : piece;
    }).filter(function (piece) { return piece !== ""; });
  }

  // What was asked about: a file (its name and size) and its digest, SHA-256, or SM3 when that
  // matched (`digests.matched`), or both when neither did; or a pasted hash.
  function subject(hash, file, digests) {
    var parts = [];
    var sm3 = digests && digests.sm3;
    if (file) parts.push(S.file + ": ", el("strong", { text: file.name }), " (" + size(file.size) + ") · ");
    if (file && digests && digests.matched === "sm3") {
      parts.push(S.sm3 + ": ", el("span", { "data-digest": "sm3" }, [hex("0x" + sm3, 10)]));
    } else {
      parts.push((file ? S.sha256 : S.hash) + ": ", hex("0x" + hash, 10));
      if (file && sm3 && !digests.matched) parts.push(" · " + S.sm3 + ": ", el("span", { "data-digest": "sm3" }, [hex("0x" + sm3, 10)]));
    }
    return el("p", { className: "subject" }, parts);
  }

  // A match's digest, as its leaf holds it (SHA-256 unless the answer says SM3).
  function digestFact(match) {
    var digest = match.digest === "sm3" ? "sm3" : "sha256";
    return fact(S.digest, el("span", { "data-digest": digest, title: S["digest_" + digest + "_title"],
      text: DIGEST_NAMES[digest] }));
  }

  function fact(label, value) {
    return el("div", {}, [el("dt", { text: label }), el("dd", {}, Array.isArray(value) ? value : [value])]);
  }

  /* ------------------------------------------------------------ names (the catalogue)
   * GET /v1/catalogue/names gives the text people typed for a hash (a dataset id is named by
   * its code, with its owner), hashed again by the gateway before it is given. Shown as the
   * pages' `named` macro shows it: the text when it gives the hash, else the hash, marked
   * "not catalogued" or "differs". Names are a help: when they cannot be had, hashes stay. */
  var NAMES = new Map(); // lowercase hash → what the catalogue says, or null: it knows nothing
  var NAMES_PER_REQUEST = 500; // api/routes/catalogue.py MAX_NAMES

  async function learnNames(hashes) {
    var wanted = Array.from(new Set(hashes.filter(Boolean).map(function (h) { return h.toLowerCase(); })))
      .filter(function (h) { return !NAMES.has(h); });
    for (var i = 0; i < wanted.length; i += NAMES_PER_REQUEST) {
      var chunk = wanted.slice(i, i + NAMES_PER_REQUEST);
      var answer = await getJson("/v1/catalogue/names?" + chunk.map(function (h) {
        return "hash=" + encodeURIComponent(h);
      }).join("&"));
      if (!answer.ok || !answer.body || !answer.body.names) return;
      chunk.forEach(function (h) { NAMES.set(h, answer.body.names[h] || null); });
    }
  }

  // The hashes a match card names: its datasets, and its agreements' purposes and legal bases.
  function namedHashes(matches) {
    var hashes = [];
    (matches || []).forEach(function (m) {
      hashes.push(m.version.dataset_id);
      (m.lineage || []).forEach(function (v) { hashes.push(v.dataset_id); });
      (m.authorizations || []).forEach(function (a) { hashes.push(a.purpose, a.legal_basis); });
    });
    return hashes;
  }

  function named(value, href, keep) {
    if (!value) return hex(value);
    var name = NAMES.get(value.toLowerCase());
    if (name && name.verified) {
      var text = el("span", { className: "named", "data-named": "verified",
        title: fmt(S["catalogue.verified"], { hash: value }) }, [el("bdi", { text: visible(name.text) })]);
      var shown = href ? el("a", { href: href }, [text]) : text;
      if (!name.owner) return shown;
      return el("span", {}, [shown, " ", el("span", { className: "owner", "data-owner": "" },
        ["· ", el("bdi", { text: visible(name.owner) })])]);
    }
    var code = hex(value, keep);
    var mark = name ? "differs" : "unknown";
    return el("span", {}, [href ? el("a", { href: href }, [code]) : code, " ",
      el("span", { className: "catalogue-mark", "data-named": mark, title: S["catalogue." + mark + "_title"],
        text: S["catalogue." + mark] })]);
  }

  function lineage(match) {
    if (!match.lineage || !match.lineage.length) return el("p", { className: "muted", text: S.lineage_none });
    return el("ol", { className: "lineage-list" }, match.lineage.map(function (v) {
      return el("li", {}, [hex(v.root), " · ", time(v.anchored_at), " · ", dept(v.owner),
        " · ", named(v.dataset_id, "/datasets/" + v.dataset_id)]);
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
        el("td", {}, [named(a.purpose)]), el("td", {}, [named(a.legal_basis)]),
        el("td", { className: "nowrap" }, [time(a.valid_from), el("br"), "→ ", time(a.valid_until)]),
        el("td", { className: "num", text: String((a.receipts || []).length) }),
        el("td", {}, [el("a", { href: "/agreements/" + a.agreement_id, text: short(a.agreement_id) })])
      ]);
    });
    return el("div", { className: "table-scroll" }, [
      el("table", { className: "data" }, [el("thead", {}, [head]), el("tbody", {}, body)])
    ]);
  }

  // What a match's status is called, and the badge it wears (an erased record is shown as
  // the red kind a revoked version is).
  var STATUS_LABELS = { anchored: "anchored", revoked: "revoked", erased: "erased", unconfirmed: "unconfirmed" };
  function statusLabel(status) { return S[STATUS_LABELS[status] || "unconfirmed"]; }
  function statusBadge(status) {
    return el("span", { className: "badge badge-" + (status === "erased" ? "revoked" : status),
      "data-status": status, text: statusLabel(status) });
  }

  // "This record was erased on {time} by {department} …": the erasure of a match (the
  // department's name is chain data, shown by dept() as text).
  function erasedSentence(erasure) {
    if (!erasure) return [S.erased];
    return fill(S.erased_text, { time: time(erasure.erased_at), department: dept(erasure.erased_by) });
  }

  // The facts of an erasure: when, by whom, in which transaction, with how many records, and
  // the root of the erased leaves (DatasetRegistry.erasure(dataset, root, erased_root)).
  function erasureFacts(erasure) {
    if (!erasure) return [];
    return [
      fact(S.erased_at, time(erasure.erased_at)),
      fact(S.erased_by, dept(erasure.erased_by)),
      fact(S.erasure_transaction, [hex(erasure.transaction, 8), " #" + erasure.block_number]),
      fact(S.erasure_count, String(erasure.count)),
      fact(S.erased_root, hex(erasure.erased_root))
    ];
  }

  // One matching version. With options.version (a records file checked whole) the card is the
  // version's alone: no single leaf, no proof of one row.
  function matchCard(match, index, options) {
    var whole = options && options.version;
    var v = match.version;
    var badge = statusBadge(match.status);
    var facts = el("dl", { className: "facts" }, [
      fact(S.department, dept(v.owner)),
      fact(S.anchored_at, time(v.anchored_at)),
      fact(S.transaction, hex(v.transaction, 8)),
      fact(S.block, "#" + v.block_number),
      fact(S.confirmations, v.confirmations + " (" + (v.final ? S.final : S.not_final) + ")"),
      fact(S.dataset, named(v.dataset_id, "/datasets/" + v.dataset_id + "#v-" + v.id)),
      fact(S.root, hex(v.root)),
      fact(S.leaves, String(v.leaf_count)),
      digestFact(match),
      whole ? null : match.kind === "file" ? fact(S.path, match.path || "—") : fact(S.record, String(match.record_index)),
      whole ? null : fact(S.leaf, hex(match.leaf_hash))
    ].concat(whole ? [] : erasureFacts(match.erasure)));
    var proof = null;
    if (!whole) {
      var button = el("button", { type: "button", className: "btn", "data-proof-url": match.proof_url,
        "data-leaf": match.leaf_hash, text: "⤓ " + S.proof });
      button.addEventListener("click", function () { downloadProof(button); });
      proof = el("div", { className: "proof-row" }, [button, el("span", { className: "hint", text: S.proof_hint })]);
    }
    // Erasures of the version whose leaves this gateway cannot name: this record may be one.
    var unnamed = !whole && match.unattributed_erasures > 0 ? el("p", { className: "notice",
      "data-notice": "unattributed-erasures",
      text: fmt(S.unattributed_erasures, { count: String(match.unattributed_erasures) }) }) : null;
    return el("article", { className: "match card", "data-root": v.root,
      "data-erasure": !whole && match.erasure ? match.erasure.id : null }, [
      el("h3", {}, [whole ? S.version_card : fmt(S.match, { n: index + 1 }), badge]),
      facts,
      unnamed,
      el("h4", { text: S.lineage }), lineage(match),
      el("h4", { text: S.authorizations }), authorizations(match),
      proof
    ]);
  }

  function showAnswer(box, hash, file, body, digests) {
    var first = body.matches[0];
    var status = body.anchored ? "anchored" : first.status;
    var kind = status === "anchored" ? "ok" : status === "revoked" || status === "erased" ? "bad" : "warn";
    var title = status === "erased" ? S.erased : statusLabel(status);
    var text = status === "anchored" ? S.anchored_text : status === "revoked" ? S.revoked_text
      : status === "erased" ? erasedSentence(first.erasure) : S.unconfirmed_text;
    box.appendChild(verdict(kind, status, title, text, subject(hash, file, digests)));
    if (body.index && body.index.node_reachable === false) {
      box.appendChild(el("p", { className: "notice stale", "data-stale": "node-unreachable",
        text: fmt(S.stale, { block: String(body.index.block_number) }) }));
    }
    body.matches.forEach(function (match, index) { box.appendChild(matchCard(match, index)); });
  }

  function signInVerdict() {
    var link = el("a", { href: "/login?next=%2F", text: S.signin_link });
    return verdict("bad", "sign-in", S.error, S.signin, el("p", {}, [link]));
  }

  /* ------------------------------------------------------------ documents
   * GET /v1/documents?hash= says where the chain holds a hash other than as a leaf: an
   * agreement's terms document (a file's SHA-256), a purpose, a legal basis, a reason, a
   * commitment's matter, duty or evidence, a dataset's code (keccak256 of a trimmed text). */

  var SUBJECT_PAGES = { agreement: "/agreements/", commitment: "/commitments/", dataset: "/datasets/" };

  function documentItem(doc) {
    var page = SUBJECT_PAGES[doc.subject_type];
    var link = page ? el("a", { href: page + doc.subject, title: doc.subject, text: short(doc.subject) })
      : hex(doc.subject);
    var template = S["doc_" + String(doc.kind).replace(/-/g, "_")] || S.doc_other;
    var parts = fill(template, { subject: link, department: dept(doc.department), kind: String(doc.kind) });
    var status = doc.status && S[doc.subject_type + ".status." + doc.status];
    if (doc.status) parts.push(fmt(S.doc_status, { status: status || doc.status }));
    if (doc.time) parts.push(" · ", time(doc.time));
    return el("li", { "data-kind": doc.kind, "data-subject": doc.subject, "data-status": doc.status || "" }, parts);
  }

  // The documents one lookup found: which hash it was, the catalogue's text, the places.
  function documentGroup(lookup) {
    var body = lookup.answer.body;
    var how = lookup.how === "text" ? S.documents_by_text : lookup.how === "sha256" ? S.documents_by_sha : S.documents_by_hash;
    var named = body.named && body.named.verified && body.named.text;
    return el("div", { className: "document-group", "data-hash": body.hash, "data-how": lookup.how }, [
      el("p", { className: "hint" }, [how + " ", hex(body.hash, 10)]),
      named ? el("p", {}, [S.documents_named + " ",
        el("q", { className: "named-text" }, [el("bdi", { text: visible(named) })])]) : null,
      el("ul", { className: "documents" }, body.documents.map(documentItem))
    ]);
  }

  function found(lookups) {
    return lookups.filter(function (l) {
      return l.answer.ok && l.answer.body && l.answer.body.documents && l.answer.body.documents.length;
    });
  }

  function failedLookups(lookups) {
    return lookups.filter(function (l) { return !l.answer.ok; });
  }

  /* ------------------------------------------------------------ asking the gateway */

  // A JSON GET on this origin with the portal's cookie: {ok, status, body, retryAfter}.
  async function getJson(url) {
    try {
      var response = await fetch(url, {
        credentials: "same-origin", headers: { Accept: "application/json" }, cache: "no-store"
      });
      var body = null;
      try { body = await response.json(); } catch (ignored) { body = null; }
      return { ok: response.ok, status: response.status, body: body, retryAfter: response.headers.get("Retry-After") };
    } catch (error) {
      return { ok: false, status: 0, body: null, error: String(error) };
    }
  }

  function notAnchored(body) {
    return Boolean(body && /:not-anchored$/.test(body.type || ""));
  }

  // Whether any answer asks to sign in.
  function needsSignIn(answers) {
    return answers.some(function (a) { return a.status === 401 || a.status === 403; });
  }

  // Python's str.isspace() characters, which str.strip() removes at both ends (code_hash).
  var PY_SPACE = /^[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r\x1c-\x20\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g;
  var TEXT_LIMIT = 4096; // characters, after trimming

  // The text a small file holds, trimmed as code_hash trims it; null if it is not short UTF-8 text.
  async function shortText(file) {
    if (!file || file.size > 4 * (TEXT_LIMIT + 4096)) return null; // more bytes than such a text can be
    var text;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(await file.arrayBuffer());
    } catch (error) {
      return null;
    }
    text = text.replace(PY_SPACE, "");
    var characters = text.length - (text.match(/[\ud800-\udbff][\udc00-\udfff]/g) || []).length;
    return text && characters <= TEXT_LIMIT ? text : null;
  }

  // Everything asked about one hash (and the text's keccak256): the verify answer, and the
  // documents lookups {how, answer}.
  async function ask(hash, textHash) {
    var asks = [getJson("/v1/verify?hash=0x" + hash), getJson("/v1/documents?hash=0x" + hash)];
    if (textHash) asks.push(getJson("/v1/documents?hash=0x" + textHash));
    var answers = await Promise.all(asks);
    if (answers[0].ok && answers[0].body) await learnNames(namedHashes(answers[0].body.matches));
    var lookups = [{ how: textHash === undefined ? "hash" : "sha256", answer: answers[1] }];
    if (textHash) lookups.push({ how: "text", answer: answers[2] });
    return { verify: answers[0], lookups: lookups, all: answers };
  }

  // What one file or hash is: anchored (a version holds it), a known document, records data
  // that needs its salts, or nothing this gateway knows (never said to be tampered with:
  // nothing could be compared with it).
  function showFound(box, hash, file, asked, records) {
    var answer = asked.verify, docs = found(asked.lookups), failed = failedLookups(asked.lookups);
    var digests = { sm3: asked.sm3 && asked.sm3.hash, matched: asked.digest || null };
    if (needsSignIn(asked.all)) {
      box.appendChild(signInVerdict());
      return;
    }
    if (answer.ok && answer.body && answer.body.matches && answer.body.matches.length) {
      digests.matched = asked.digest || "sha256";
      showAnswer(box, hash, file, answer.body, digests);
      if (docs.length) {
        box.appendChild(el("section", { className: "documents card", "data-documents": String(docs.length) },
          [el("h3", { text: S.documents_also })].concat(docs.map(documentGroup))));
      }
      return;
    }
    if (!(answer.status === 404 && notAnchored(answer.body))) {
      var detail = (answer.body && answer.body.detail) || answer.error || String(answer.status);
      box.appendChild(verdict("bad", "error", S.error, detail));
      return;
    }
    if (docs.length) {
      box.appendChild(verdict("ok", "document", S.document, file ? S.document_text : S.document_text_hash,
        [subject(hash, file, digests)].concat(docs.map(documentGroup))));
    } else if (records) {
      var text = records.rows === null
        ? fmt(S.needs_salts_unreadable, { format: records.format.toUpperCase(), reason: records.reason })
        : fmt(S.needs_salts_text, { format: records.format.toUpperCase(), rows: records.rows, name: file.name });
      box.appendChild(verdict("warn", "needs-salts", S.needs_salts, text, subject(hash, file, digests)));
    } else {
      box.appendChild(verdict("bad", "not-anchored", S.not_anchored, S.not_anchored_text, subject(hash, file, digests)));
    }
    failed.forEach(function (lookup) {
      box.appendChild(el("p", { className: "notice", "data-notice": "documents-failed",
        text: fmt(S.documents_failed, { status: lookup.answer.status || lookup.answer.error }) }));
    });
  }

  // A pasted hash: verified, and looked up as a document.
  async function verifyHash(hash) {
    result.replaceChildren();
    var box = el("div", { className: "item" });
    result.appendChild(box);
    progress.textContent = S.querying;
    try {
      showFound(box, hash, null, await ask(hash));
    } finally {
      progress.textContent = "";
    }
  }

  // One file (no salts with it): its SHA-256 verified and looked up as a document, and a short
  // text's keccak256 looked up too.
  async function checkFile(box, item) {
    // Rows are counted (to say a records file needs its salts) only when the file is small
    // enough to read at once: a large one is hashed in chunks and answered as a file.
    var records = null, format = R() && R().formatOf(item.file.name);
    if (format && item.file.size <= ROW_COUNT_LIMIT) {
      records = Object.assign({ format: format }, await R().rowCount(item.file, format));
    }
    var text = await shortText(item.file);
    var textHash = text && window.keccak256 ? R().keccakHex(new TextEncoder().encode(text)) : null;
    progress.textContent = S.querying;
    try {
      var asked = await askSm3(item, await ask(item.hash, textHash));
      progress.textContent = "";
      // The field holds the file's hash: the one that matched (its SM3 digest, for SM3).
      if (asked.digest === "sm3" && hashInput.value === "0x" + item.hash) hashInput.value = "0x" + asked.sm3.hash;
      showFound(box, item.hash, item.file, asked, records);
      var notice = sm3Notice(asked);
      if (notice && !needsSignIn(asked.all)) box.appendChild(notice);
    } finally {
      progress.textContent = "";
    }
  }

  function R() { return window.xietongRecords; }

  // The page's other deferred scripts (js-sha3, sm-crypto's sm3, records.js) have run once
  // DOMContentLoaded fired: a file given before then waits for them.
  var scriptsReady = document.readyState === "complete" ? Promise.resolve() : new Promise(function (done) {
    document.addEventListener("DOMContentLoaded", done, { once: true });
    window.addEventListener("load", done, { once: true });
  });

  // While files are checked the result is marked busy (aria-busy), until every answer is in.
  var busy = 0;
  async function verifyFiles(list) {
    var files = Array.prototype.slice.call(list || []);
    if (!files.length) return;
    busy += 1;
    result.setAttribute("aria-busy", "true");
    try {
      await checkFiles(files);
    } finally {
      busy -= 1;
      if (!busy) result.removeAttribute("aria-busy");
    }
  }

  // Files dropped or chosen together: each hashed; a records file (CSV, JSON Lines) with its
  // salts sidecar is checked row by row (records.js), every other file as a whole.
  async function checkFiles(files) {
    result.replaceChildren();
    markHash(false); // the field gets the file's hash: a mark of a malformed one goes
    await scriptsReady;
    var records = R();
    var sidecars = files.filter(function (f) { return records && records.isSidecarName(f.name); });
    var keyFiles = files.filter(function (f) { return records && records.isSubjectKeysName(f.name); });
    var others = files.filter(function (f) { return sidecars.indexOf(f) < 0 && keyFiles.indexOf(f) < 0; });
    var hashed = [];
    for (var i = 0; i < others.length; i++) {
      var file = others[i], label = fmt(S.hashing, { name: file.name, size: size(file.size) });
      progress.textContent = label;
      try {
        hashed.push({ file: file, hash: await sha256File(file, function (percent) { progress.textContent = label + " " + percent + "%"; }) });
      } catch (error) {
        result.appendChild(el("div", { className: "item" }, [
          verdict("bad", "error", S.error, file.name + ": " + String(error && error.message || error))]));
      }
    }
    progress.textContent = "";
    if (hashed.length === 1) hashInput.value = "0x" + hashed[0].hash;
    // Salts are read here and stay here: only leaf hashes computed with them are sent.
    // A subject key store stays here too: it gives the salts of its subjects' rows.
    var stores = [];
    for (var q = 0; q < keyFiles.length; q++) {
      var store = await records.readSubjectKeysFile(keyFiles[q]);
      if (store.error) {
        result.appendChild(el("div", { className: "item" }, [
          verdict("bad", "bad-salts", S.bad_subject_keys, store.error)]));
      } else {
        stores.push(store.store);
      }
    }
    var salts = [];
    for (var s = 0; s < sidecars.length; s++) salts.push(await records.readSidecarFile(sidecars[s], stores));
    var paired = records ? records.pair(hashed, salts) : new Map();
    for (var k = 0; k < hashed.length; k++) {
      var box = el("div", { className: "item" });
      result.appendChild(box);
      try {
        if (paired.has(k)) {
          await records.checkRecords(box, hashed[k], paired.get(k));
          await alsoAsWhole(box, hashed[k]);
        } else {
          await checkFile(box, hashed[k]);
        }
      } catch (error) {
        progress.textContent = "";
        box.appendChild(verdict("bad", "error", S.error, String(error && error.message || error)));
      }
    }
    var used = new Set(paired.values());
    salts.filter(function (s) { return !used.has(s); }).forEach(function (sidecar) {
      var box = el("div", { className: "item" });
      result.appendChild(box);
      records.showSidecarAlone(box, sidecar);
    });
  }

  // A records file checked row by row may also be anchored, or named, as a whole file.
  async function alsoAsWhole(box, item) {
    var asked = await askSm3(item, await ask(item.hash, null));
    progress.textContent = "";
    var answer = asked.verify, docs = found(asked.lookups);
    if (answer.ok && answer.body && answer.body.matches && answer.body.matches.length) {
      box.appendChild(el("h3", { text: S.file_also_anchored }));
      answer.body.matches.forEach(function (match, index) { box.appendChild(matchCard(match, index)); });
    }
    if (docs.length) {
      box.appendChild(el("section", { className: "documents card", "data-documents": String(docs.length) },
        [el("h3", { text: S.documents_also })].concat(docs.map(documentGroup))));
    }
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

  // What records.js (loaded after this file) renders with.
  window.xietongPortal = {
    S: S, fmt: fmt, fill: fill, el: el, short: short, hex: hex, time: time, dept: dept, size: size,
    verdict: verdict, matchCard: matchCard, signInVerdict: signInVerdict, getJson: getJson,
    learnNames: learnNames, namedHashes: namedHashes,
    notAnchored: notAnchored, progress: function (text) { progress.textContent = text; }
  };

  /* ------------------------------------------------------------ wiring */

  fileInput.addEventListener("change", function () {
    if (fileInput.files && fileInput.files.length) verifyFiles(fileInput.files);
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
    if (files && files.length) verifyFiles(files);
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
    verifyHash(value.toLowerCase());
  });
  if (hashInput.value.trim()) hashForm.requestSubmit();
})();
