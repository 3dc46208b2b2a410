/* Xietong auditor portal: a records file (CSV or JSON Lines) checked row by row in the browser,
 * with the salts sidecar its owner keeps (NAME.salts.json, format xietong-salts/1; or
 * xietong-salts/2 with the department's subject key store, subject-keys.json, whose keys
 * give the salts of the rows with a subject: docs/ERASURE.md).
 *
 * The rows are read exactly as ledger/hashing/_records.py reads them (Python's csv module,
 * strict; JSON Lines through a strict parser), each row's RFC 8785 canonical JSON is hashed
 * with SHA-256 (WebCrypto), each leaf is keccak256(keccak256(recordHash ‖ salt)) (js-sha3,
 * vendored) and the version's root is the OpenZeppelin standard tree over the sorted leaves
 * (ledger/merkle.py). Only leaf hashes go to the gateway (GET /v1/verify?hash=…): never a
 * row, never a salt. When the rows make a whole anchored version, that version's erasures are
 * looked up by its dataset's id (GET /v1/datasets/0x…), to find the erased records among them.
 *
 * A dataset anchored with SM3 (docs/SM3.md) has SM3 record leaves:
 * keccak256(keccak256(abi.encode("sm3", sm3(canonical JSON), salt))), sm3 from sm-crypto
 * (vendored). Which digest a file's dataset used is not written in the file or its sidecar:
 * row 1 is asked about with its SHA-256 leaf, then its SM3 leaf; the first found decides. When
 * neither is found, rows are asked about both ways until one is, within the same bound.
 *
 * A salt is null once its record was erased (docs/ERASURE.md): that row is shown as erased and
 * never asked about, the other rows are checked one by one (the file's root cannot be
 * recomputed without it), and such a sidecar belongs to a data file with its record format and
 * row count, whatever the file's SHA-256 (erased rows may be blanked), as Salts.check_matches.
 *
 * window.xietongRecords holds the pure parts (parsing, canonical JSON, leaves, root; the tests
 * call them) and checkRecords(), which renders into the page with the helpers portal.js
 * exports as window.xietongPortal. */
(function () {
  "use strict";

  var SALTS_FORMAT = "xietong-salts/1";
  var SUBJECT_SALTS_FORMAT = "xietong-salts/2"; // salts from subject keys (docs/ERASURE.md)
  var SALTS_SUFFIX = ".salts.json";
  var SALTS_KEYS = ["format", "source", "source_sha256", "record_format", "rows", "salts"];
  var SUBJECT_KEYS_FORMAT = "xietong-subject-keys/1";
  var SUBJECT_KEYS_SUFFIX = "subject-keys.json";
  var SUBJECT_KEYS_KEYS = ["format", "id", "tag_key", "subjects"];
  var SUBJECT_SALT_LABEL = "xietong-subject-salt/1\u0000";
  var FORMATS = { ".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl" };
  var FIELD_LIMIT = 131072; // Python's csv.field_size_limit(): longest field, in characters
  var MAX_DEPTH = 200; // deepest nesting loads_strict and canonical_json accept
  var MAX_EXACT_INT = BigInt("9007199254740992"); // 2^53
  var MAX_REQUESTS = 500; // leaves asked about, at most, per check
  var PARALLEL = 4; // of them at a time
  var HASH_BATCH = 512; // rows hashed by WebCrypto at once

  /** A refusal: `code` names the sentence (S["rec_" + code] etc.), `values` fill it. */
  function RecordsError(code, values) {
    this.code = code;
    this.values = values || {};
  }

  function fail(code, values) { throw new RecordsError(code, values); }

  /* ------------------------------------------------------------ names */

  /** "csv" or "jsonl" from the name's suffix (case-insensitive), as record_format_of(). */
  function formatOf(name) {
    var dot = name.lastIndexOf(".");
    return dot < 0 ? null : FORMATS[name.slice(dot).toLowerCase()] || null;
  }

  function isSidecarName(name) {
    return name.toLowerCase().slice(-SALTS_SUFFIX.length) === SALTS_SUFFIX;
  }

  // The department's subject key store (subject-keys.json, or any name ending so).
  function isSubjectKeysName(name) {
    return name.toLowerCase().slice(-SUBJECT_KEYS_SUFFIX.length) === SUBJECT_KEYS_SUFFIX;
  }

  /* ------------------------------------------------------------ bytes and text */

  function toHex(bytes) {
    var out = "";
    for (var i = 0; i < bytes.length; i++) out += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    return out;
  }

  function fromHex(text) {
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(text.substr(2 * i, 2), 16);
    return out;
  }

  var utf8 = new TextEncoder();

  /** The lines of a records file as Python iterates a binary file (split after each "\n",
   * the "\n" kept), decoded as UTF-8; a byte-order mark at the start of line 1 is dropped. */
  function decodeLines(bytes) {
    var start = bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
    var decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
    var text;
    try {
      text = decoder.decode(bytes.subarray(start));
    } catch (error) {
      // Name the first line that is not UTF-8 ("\n" never ends inside a character).
      for (var from = start, line = 1; from < bytes.length; line++) {
        var end = bytes.indexOf(0x0a, from);
        end = end < 0 ? bytes.length : end + 1;
        try { decoder.decode(bytes.subarray(from, end)); } catch (bad) { fail("not_utf8", { line: line }); }
        from = end;
      }
      fail("not_utf8", { line: 1 });
    }
    var lines = [];
    for (var at = 0; at < text.length;) {
      var next = text.indexOf("\n", at);
      next = next < 0 ? text.length : next + 1;
      lines.push(text.slice(at, next));
      at = next;
    }
    return lines;
  }

  /* ------------------------------------------------------------ CSV (Python's csv.reader, strict)
   * The state machine of CPython's Modules/_csv.c for the default dialect (comma, '"', doubled
   * quotes, no escape character), fed one line at a time and then an end-of-line mark, as
   * csv.reader(lines, strict=True) is. `line` is how many lines it has taken so far. */
  var START_RECORD = 0, START_FIELD = 1, IN_FIELD = 2, IN_QUOTED = 3, QUOTE_IN_QUOTED = 4, EAT_CRNL = 5;
  var EOL = -1, COMMA = 44, QUOTE = 34, CR = 13, LF = 10;

  function CsvReader(lines) {
    this.lines = lines;
    this.line = 0;
  }

  CsvReader.prototype.next = function () {
    var fields = [], field = "", length = 0, state = START_RECORD, self = this;

    function bad(reason) { fail("csv", { line: self.line, reason: reason }); }
    function add(c, text) {
      if (c < 0xdc00 || c > 0xdfff) { // a low surrogate ends the character its high one began
        if (length >= FIELD_LIMIT) bad("field_limit");
        length += 1;
      }
      field += text;
    }
    function save() { fields.push(field); field = ""; length = 0; }

    do {
      if (this.line >= this.lines.length) {
        if (length !== 0 || state === IN_QUOTED) bad("eof");
        return null;
      }
      var text = this.lines[this.line++];
      for (var k = 0; k <= text.length; k++) {
        var c = k < text.length ? text.charCodeAt(k) : EOL;
        var newline = c === CR || c === LF;
        switch (state) {
          case START_RECORD:
            if (c === EOL) break; // an empty line: []
            if (newline) { state = EAT_CRNL; break; }
            state = START_FIELD;
            /* falls through */
          case START_FIELD:
            if (newline || c === EOL) { save(); state = c === EOL ? START_RECORD : EAT_CRNL; }
            else if (c === QUOTE) state = IN_QUOTED;
            else if (c === COMMA) save();
            else { add(c, text[k]); state = IN_FIELD; }
            break;
          case IN_FIELD:
            if (newline || c === EOL) { save(); state = c === EOL ? START_RECORD : EAT_CRNL; }
            else if (c === COMMA) { save(); state = START_FIELD; }
            else add(c, text[k]); // a quote inside an unquoted field is kept as it is
            break;
          case IN_QUOTED:
            if (c === EOL) break; // the field goes on on the next line (its "\n" kept)
            if (c === QUOTE) state = QUOTE_IN_QUOTED;
            else add(c, text[k]);
            break;
          case QUOTE_IN_QUOTED:
            if (c === QUOTE) { add(c, '"'); state = IN_QUOTED; }
            else if (c === COMMA) { save(); state = START_FIELD; }
            else if (newline || c === EOL) { save(); state = c === EOL ? START_RECORD : EAT_CRNL; }
            else bad("quote");
            break;
          case EAT_CRNL:
            if (c === EOL) state = START_RECORD;
            else if (!newline) bad("newline");
            break;
        }
      }
    } while (state !== START_RECORD);
    return fields;
  };

  /** The rows of a CSV as _csv_hashes reads them: [{line, text}], `text` the row's canonical
   * JSON (header name → value string), `line` the line the row starts on. */
  function csvRows(lines) {
    var reader = new CsvReader(lines);
    var header = reader.next();
    while (header !== null && !header.length) header = reader.next(); // blank lines first
    if (header === null) fail("empty_csv");
    var seen = new Set();
    header.forEach(function (title) {
      if (seen.has(title)) fail("duplicate_header", { line: reader.line, field: JSON.stringify(title) });
      seen.add(title);
    });
    var width = header.length;
    // Member names in UTF-16 code-unit order (what JavaScript's < compares), as RFC 8785 wants.
    var order = header.map(function (_, i) { return i; })
      .sort(function (a, b) { return header[a] < header[b] ? -1 : header[a] > header[b] ? 1 : 0; });
    var prefixes = order.map(function (i, n) { return (n ? "," : "{") + JSON.stringify(header[i]) + ":"; });
    var rows = [];
    for (;;) {
      var start = reader.line + 1;
      var values = reader.next();
      if (values === null) break;
      if (values.length !== width) {
        if (!values.length) continue; // a blank line
        fail("width", { line: start, found: values.length, expected: width });
      }
      var text = "";
      for (var n = 0; n < width; n++) text += prefixes[n] + JSON.stringify(values[order[n]]);
      rows.push({ line: start, text: text + "}" });
    }
    return rows;
  }

  /* ------------------------------------------------------------ JSON (loads_strict)
   * One JSON text, refused as ledger/hashing/_canonical.py refuses it: a member name twice in
   * one object, NaN/Infinity or a number overflowing a double, an integer beyond ±2^53 (no
   * canonical form), nesting deeper than 200. Objects come back as Maps (a member named
   * "__proto__" stays a member). */
  var NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;
  var ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };

  function parseJson(text) {
    var i = 0, n = text.length, depth = 0;

    function syntax() { fail("json_syntax", { column: i + 1 }); }
    function space() {
      for (var c = text.charCodeAt(i); c === 32 || c === 9 || c === 10 || c === 13; c = text.charCodeAt(++i));
    }
    function word(literal, value) {
      if (text.startsWith(literal, i)) { i += literal.length; return value; }
      return undefined;
    }
    function string() {
      var out = "", from = ++i;
      for (;;) {
        if (i >= n) syntax();
        var c = text.charCodeAt(i);
        if (c === 34) { out += text.slice(from, i++); return out; }
        if (c < 0x20) syntax(); // a raw control character
        if (c === 92) {
          out += text.slice(from, i);
          var e = text[i + 1];
          if (e === "u") {
            var digits = text.substr(i + 2, 4);
            if (!/^[0-9a-fA-F]{4}$/.test(digits)) syntax();
            out += String.fromCharCode(parseInt(digits, 16));
            i += 6;
          } else if (Object.prototype.hasOwnProperty.call(ESCAPES, e)) {
            out += ESCAPES[e];
            i += 2;
          } else syntax();
          from = i;
        } else i++;
      }
    }
    function number() {
      NUMBER.lastIndex = i;
      var match = NUMBER.exec(text);
      if (!match) {
        if (/^-?(NaN|Infinity)/.test(text.slice(i, i + 9))) fail("json_not_finite"); // Python's constants
        syntax();
      }
      i += match[0].length;
      var value = Number(match[0]);
      if (!isFinite(value)) fail("json_not_finite");
      // A fraction or an exponent makes a float, as in Python: never an integer (a salts
      // sidecar's "rows": 1.0 is refused as read_salts refuses it), canonical as a number.
      if (match[1] || match[2]) return new JsonFloat(value);
      var big = BigInt(match[0]); // an integer: exact within ±2^53, refused beyond
      if (big > MAX_EXACT_INT || big < -MAX_EXACT_INT) fail("json_big_int");
      return value;
    }
    function value() {
      space();
      var c = text[i];
      if (c === "{" || c === "[") {
        if (++depth > MAX_DEPTH) fail("json_deep");
        var made = c === "{" ? object() : array();
        depth -= 1;
        return made;
      }
      if (c === '"') return string();
      var literal = word("true", true);
      if (literal === undefined) literal = word("false", false);
      if (literal === undefined) literal = word("null", null);
      return literal === undefined ? number() : literal;
    }
    function object() {
      var map = new Map();
      i++;
      space();
      if (text[i] === "}") { i++; return map; }
      for (;;) {
        space();
        if (text[i] !== '"') syntax();
        var name = string();
        space();
        if (text[i++] !== ":") { i--; syntax(); }
        var item = value();
        if (map.has(name)) fail("json_duplicate", { name: JSON.stringify(name) });
        map.set(name, item);
        space();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "}") { i++; return map; }
        syntax();
      }
    }
    function array() {
      var list = [];
      i++;
      space();
      if (text[i] === "]") { i++; return list; }
      for (;;) {
        list.push(value());
        space();
        if (text[i] === ",") { i++; continue; }
        if (text[i] === "]") { i++; return list; }
        syntax();
      }
    }

    var result = value();
    space();
    if (i < n) syntax(); // extra data after the value
    return result;
  }

  var LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(^|[^\ud800-\udbff])[\udc00-\udfff]/;

  function jsonString(text) {
    if (LONE_SURROGATE.test(text)) fail("json_surrogate");
    return JSON.stringify(text); // escapes " \ and U+0000–U+001F only, as encode_basestring
  }

  /** RFC 8785 canonical JSON of a parsed value: members sorted by UTF-16 code units, numbers as
   * ECMAScript prints them (JSON.stringify: shortest round-trip digits, -0 as 0). */
  /** A JSON number written with a fraction or an exponent (Python's float). */
  function JsonFloat(value) { this.value = value; }

  function canonical(value) {
    if (value instanceof JsonFloat) return JSON.stringify(value.value); // RFC 8785: 1.0 is 1
    if (value === null) return "null";
    if (value === true) return "true";
    if (value === false) return "false";
    if (typeof value === "number") return JSON.stringify(value);
    if (typeof value === "string") return jsonString(value);
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    var names = Array.from(value.keys()).sort();
    return "{" + names.map(function (name) { return jsonString(name) + ":" + canonical(value.get(name)); }).join(",") + "}";
  }

  function jsonKind(value) {
    return Array.isArray(value) ? "array" : typeof value === "string" ? "string"
      : value === null || typeof value === "boolean" ? "literal" : "number";
  }

  /** The rows of a JSON Lines file as _jsonl_hashes reads them: each non-blank line one object. */
  function jsonlRows(lines) {
    var rows = [];
    lines.forEach(function (text, index) {
      if (!text.replace(/^[ \t\r\n]+/, "")) return; // a blank line (strip(" \t\r\n"))
      try {
        var row = parseJson(text);
        if (!(row instanceof Map)) fail("json_not_object", { kind: jsonKind(row) });
        rows.push({ line: index + 1, text: canonical(row) });
      } catch (error) {
        if (!(error instanceof RecordsError)) throw error;
        fail("jsonl", { line: index + 1, reason: error.code, detail: error.values });
      }
    });
    return rows;
  }

  /** Every row of a records file (bytes) in file order: [{line, text}]; RecordsError if the
   * file is malformed (naming the line) or holds no record. */
  function parseRows(bytes, format) {
    var lines = decodeLines(bytes);
    var rows = format === "csv" ? csvRows(lines) : jsonlRows(lines);
    if (!rows.length) fail("no_records");
    return rows;
  }

  /* ------------------------------------------------------------ the salts sidecar (read_salts) */

  function hex32(value, what) {
    if (typeof value !== "string" || !/^[0-9a-f]{64}$/.test(value)) fail("salts_hex", { what: what });
    return value;
  }

  /** A salts sidecar (bytes) checked as read_salts() checks it:
   * {source, sourceSha256, recordFormat, rows, salts: [hex or null], erased: [row]}, a null
   * salt being an erased record's; RecordsError otherwise. */
  function readSidecar(bytes) {
    var text, document;
    try {
      text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    } catch (error) {
      fail("salts_not_utf8");
    }
    try {
      document = parseJson(text);
    } catch (error) {
      if (!(error instanceof RecordsError)) throw error;
      fail("salts_not_json", { reason: error.code, detail: error.values });
    }
    if (!(document instanceof Map)) fail("salts_not_json", { reason: "json_not_object", detail: { kind: jsonKind(document) } });
    var format = document.get("format");
    if (format !== SALTS_FORMAT && format !== SUBJECT_SALTS_FORMAT) {
      fail("salts_format", { found: JSON.stringify(format === undefined ? null : format) });
    }
    var wanted = format === SALTS_FORMAT ? SALTS_KEYS : SALTS_KEYS.concat(["subject_keys"]);
    var keys = Array.from(document.keys());
    var odd = wanted.filter(function (key) { return !document.has(key); })
      .concat(keys.filter(function (key) { return wanted.indexOf(key) < 0; }));
    if (odd.length) fail("salts_keys", { keys: odd.join(", ") });
    var subjectKeys = null;
    if (format === SUBJECT_SALTS_FORMAT) {
      subjectKeys = document.get("subject_keys");
      if (typeof subjectKeys !== "string" || !/^[0-9a-f]{32}$/.test(subjectKeys)) fail("salts_field", { field: "subject_keys" });
    }
    var source = document.get("source"), recordFormat = document.get("record_format");
    var rows = document.get("rows"), salts = document.get("salts");
    if (typeof source !== "string") fail("salts_field", { field: "source" });
    if (recordFormat !== "csv" && recordFormat !== "jsonl") fail("salts_field", { field: "record_format" });
    if (typeof rows !== "number" || !Number.isInteger(rows) || rows < 1) fail("salts_field", { field: "rows" });
    if (!Array.isArray(salts)) fail("salts_field", { field: "salts" });
    if (salts.length !== rows) fail("salts_count", { rows: rows, count: salts.length });
    var sourceSha256 = hex32(document.get("source_sha256"), "source_sha256");
    var erased = [];
    salts = salts.map(function (salt, index) {
      if (salt === null) erased.push(index); // its record erased: the salt destroyed
      else if (subjectKeys && salt instanceof Map) return subjectEntry(salt, index);
      else hex32(salt, "salts[" + index + "]");
      return salt;
    });
    var kept = salts.filter(function (salt) { return typeof salt === "string"; });
    if (new Set(kept).size !== kept.length) fail("salts_repeat");
    return { source: source, sourceSha256: sourceSha256, recordFormat: recordFormat, rows: rows, salts: salts,
      erased: erased, subjectKeys: subjectKeys };
  }

  // A row of a xietong-salts/2 sidecar whose salt comes from its subject's key.
  function subjectEntry(entry, index) {
    var names = Array.from(entry.keys()).sort().join(",");
    if (names !== "nonce,subject") fail("salts_entry", { row: index });
    return { subject: hex32(entry.get("subject"), "salts[" + index + "].subject"),
      nonce: hex32(entry.get("nonce"), "salts[" + index + "].nonce") };
  }

  /** A subject key store (bytes) checked as SubjectKeys.open() checks it: {id, subjects: Map
   * tag → key (hex) or null (destroyed)}; RecordsError otherwise. */
  function readSubjectKeys(bytes) {
    var document;
    try {
      document = parseJson(new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes));
    } catch (error) {
      fail("keys_bad", { what: "JSON" });
    }
    if (!(document instanceof Map) || document.get("format") !== SUBJECT_KEYS_FORMAT) fail("keys_bad", { what: "format" });
    var names = Array.from(document.keys()).sort().join(",");
    if (names !== SUBJECT_KEYS_KEYS.slice().sort().join(",")) fail("keys_bad", { what: "fields" });
    var id = document.get("id"), subjects = document.get("subjects");
    if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) fail("keys_bad", { what: "id" });
    if (!(subjects instanceof Map)) fail("keys_bad", { what: "subjects" });
    subjects.forEach(function (key, tag) {
      if (!/^[0-9a-f]{64}$/.test(tag) || (key !== null && (typeof key !== "string" || !/^[0-9a-f]{64}$/.test(key)))) {
        fail("keys_bad", { what: "subjects" });
      }
    });
    return { id: id, subjects: subjects };
  }

  /** The salts of a xietong-salts/2 sidecar's subject rows, from its store (one of `stores`,
   * by id): HMAC-SHA256(key, "xietong-subject-salt/1" 0x00 nonce) in WebCrypto; a row whose
   * subject's key was destroyed reads as erased. */
  async function deriveSubjectSalts(salts, stores) {
    if (!salts.subjectKeys) return salts;
    var store = stores.filter(function (s) { return s.id === salts.subjectKeys; })[0];
    if (!store) fail(stores.length ? "salts_other_keys" : "salts_needs_keys");
    var label = new TextEncoder().encode(SUBJECT_SALT_LABEL);
    var keys = new Map();
    var derived = [];
    for (var i = 0; i < salts.salts.length; i++) {
      var entry = salts.salts[i];
      if (entry === null || typeof entry === "string") { derived.push(entry); continue; }
      if (!store.subjects.has(entry.subject)) fail("salts_unknown_subject", { row: i });
      var key = store.subjects.get(entry.subject);
      if (key === null) { derived.push(null); salts.erased.push(i); continue; }
      if (!keys.has(key)) {
        keys.set(key, await crypto.subtle.importKey("raw", fromHex(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]));
      }
      var message = new Uint8Array(label.length + 32);
      message.set(label);
      message.set(fromHex(entry.nonce), label.length);
      derived.push(toHex(new Uint8Array(await crypto.subtle.sign("HMAC", keys.get(key), message))));
    }
    salts.erased.sort(function (a, b) { return a - b; });
    var kept = derived.filter(function (salt) { return salt !== null; });
    if (new Set(kept).size !== kept.length) fail("salts_repeat");
    salts.salts = derived;
    return salts;
  }

  /* ------------------------------------------------------------ hashes, leaves and the root */

  function keccak(bytes) {
    return new Uint8Array(window.keccak256.arrayBuffer(bytes));
  }

  /** Whether the page has SM3 (sm-crypto's vendor/sm-crypto/sm3.js sets window.sm3). */
  function hasSm3() { return typeof window.sm3 === "function"; }

  /** SHA-256 (hex) of each row's canonical JSON (UTF-8), WebCrypto where the page has it; or
   * with `digest` "sm3", its SM3 (sm-crypto's window.sm3). */
  async function recordHashes(rows, onProgress, digest) {
    var subtle = window.crypto && window.crypto.subtle;
    var sm3 = digest === "sm3";
    var out = new Array(rows.length);
    for (var from = 0; from < rows.length; from += HASH_BATCH) {
      var batch = rows.slice(from, from + HASH_BATCH);
      var digests = await Promise.all(batch.map(function (row) {
        var data = utf8.encode(row.text);
        if (sm3) return Promise.resolve(window.sm3(data));
        return subtle ? subtle.digest("SHA-256", data) : Promise.resolve(window.xietongSha256Hex(data));
      }));
      digests.forEach(function (value, k) {
        out[from + k] = typeof value === "string" ? value : toHex(new Uint8Array(value));
      });
      if (onProgress) onProgress(Math.min(rows.length, from + HASH_BATCH));
      if (sm3) await new Promise(function (done) { setTimeout(done, 0); }); // let the page update
    }
    return out;
  }

  function word(value) {
    var out = new Uint8Array(32);
    for (var i = 31; value > 0; i--, value = Math.floor(value / 256)) out[i] = value % 256;
    return out;
  }

  /** The tail of abi.encode("sm3", bytes32, bytes32): the tag's length, then "sm3" padded. */
  var SM3_TAIL = new Uint8Array(64);
  SM3_TAIL.set(word(3), 0);
  SM3_TAIL.set(utf8.encode("sm3"), 32);

  /** A record leaf (hex in, bytes out): keccak256(keccak256(recordHash ‖ salt)), both 32 bytes
   * (abi.encode(bytes32, bytes32)); with `digest` "sm3", the SM3 leaf
   * keccak256(keccak256(abi.encode("sm3", recordHash, salt))): the tag's offset (0x60), the
   * hash, the salt, then the tag (ledger/merkle.py `sm3_record_leaf_blob`). */
  function leaf(recordHash, salt, digest) {
    if (digest === "sm3") {
      var encoded = new Uint8Array(160);
      encoded.set(word(0x60), 0);
      encoded.set(fromHex(recordHash), 32);
      encoded.set(fromHex(salt), 64);
      encoded.set(SM3_TAIL, 96);
      return keccak(keccak(encoded));
    }
    var pair = new Uint8Array(64);
    pair.set(fromHex(recordHash), 0);
    pair.set(fromHex(salt), 32);
    return keccak(keccak(pair));
  }

  function compareBytes(a, b) {
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return a[i] - b[i];
    return 0;
  }

  /** OpenZeppelin's node hash: keccak256 of the two nodes in ascending order. */
  function hashPair(a, b) {
    var pair = new Uint8Array(64);
    var first = compareBytes(a, b) <= 0;
    pair.set(first ? a : b, 0);
    pair.set(first ? b : a, 32);
    return keccak(pair);
  }

  /** The standard tree's root over the leaves (any order; sorted here), as ledger/merkle.py:
   * sorted leaf i at tree[2n − 2 − i], tree[t] = hashPair(tree[2t + 1], tree[2t + 2]). */
  function merkleRoot(leaves) {
    var sorted = leaves.slice().sort(compareBytes);
    var n = sorted.length;
    if (n === 1) return sorted[0];
    var tree = new Array(2 * n - 1);
    for (var i = 0; i < n; i++) tree[2 * n - 2 - i] = sorted[i];
    for (var t = n - 2; t >= 0; t--) tree[t] = hashPair(tree[2 * t + 1], tree[2 * t + 2]);
    return tree[0];
  }

  /* ------------------------------------------------------------ asking the gateway, row by row */

  function sleep(ms) { return new Promise(function (done) { setTimeout(done, ms); }); }

  /** What the gateway says of one leaf: {found, matches} or {auth} (sign in) or {error}. One
   * retry after a 429, waiting as Retry-After asks (at most 10 s). */
  async function askLeaf(P, leafHex) {
    for (var attempt = 0; attempt < 2; attempt++) {
      var answer = await P.getJson("/v1/verify?hash=0x" + leafHex);
      if (answer.status === 429 && attempt === 0) {
        await sleep(Math.min(10, Number(answer.retryAfter) || 1) * 1000);
        continue;
      }
      if (answer.ok && answer.body && answer.body.matches && answer.body.matches.length) {
        return { found: true, matches: answer.body.matches };
      }
      if (answer.status === 404 && P.notAnchored(answer.body)) return { found: false };
      if (answer.status === 401 || answer.status === 403) return { auth: true };
      return { error: answer.status || "network" };
    }
    return { error: 429 };
  }

  /* ------------------------------------------------------------ the page */

  function problem(P, error) {
    if (!(error instanceof RecordsError)) return String(error && error.message || error);
    var S = P.S, v = error.values;
    if (error.code === "csv") return P.fmt(S.rec_csv, { line: v.line, reason: S["csv_" + v.reason] });
    if (error.code === "jsonl") return P.fmt(S.rec_jsonl, { line: v.line, reason: P.fmt(S[v.reason], v.detail) });
    if (error.code === "salts_not_json") return P.fmt(S.salts_not_json, { name: v.name, reason: P.fmt(S[v.reason], v.detail) });
    return P.fmt(S["rec_" + error.code] || S[error.code] || error.code, v);
  }

  /** A salts sidecar as {file, salts} or {file, error} (the sentence saying what is wrong);
   * `stores` are the subject key stores given with it (readSubjectKeysFile). */
  async function readSidecarFile(file, stores) {
    var P = window.xietongPortal;
    try {
      var salts = readSidecar(new Uint8Array(await file.arrayBuffer()));
      return { file: file, salts: await deriveSubjectSalts(salts, stores || []) };
    } catch (error) {
      if (error instanceof RecordsError) error.values.name = file.name;
      return { file: file, error: problem(P, error) };
    }
  }

  /** A subject key store as {file, store} or {file, error}. */
  async function readSubjectKeysFile(file) {
    var P = window.xietongPortal;
    try {
      return { file: file, store: readSubjectKeys(new Uint8Array(await file.arrayBuffer())) };
    } catch (error) {
      if (!(error instanceof RecordsError)) throw error;
      error.values.name = file.name;
      return { file: file, error: problem(P, error) };
    }
  }

  /** Which sidecar belongs to which data file ({data index → sidecar}): the one made for its
   * bytes (source_sha256), else the one named after it (NAME.salts.json), else, when one records
   * file and one sidecar were given together, that one. */
  function pair(data, sidecars) {
    var paired = new Map(), used = new Set();
    function take(index, sidecar) {
      if (!paired.has(index) && !used.has(sidecar)) { paired.set(index, sidecar); used.add(sidecar); }
    }
    data.forEach(function (item, index) {
      sidecars.forEach(function (s) { if (s.salts && s.salts.sourceSha256 === item.hash) take(index, s); });
    });
    data.forEach(function (item, index) {
      sidecars.forEach(function (s) {
        if (s.file.name.toLowerCase() === (item.file.name + SALTS_SUFFIX).toLowerCase()) take(index, s);
      });
    });
    var records = data.filter(function (item) { return formatOf(item.file.name); });
    if (records.length === 1 && sidecars.length === 1) take(data.indexOf(records[0]), sidecars[0]);
    return paired;
  }

  /** A sidecar dropped without its data file (or one that cannot be read). */
  function showSidecarAlone(box, sidecar) {
    var P = window.xietongPortal, S = P.S;
    if (sidecar.error) {
      box.appendChild(P.verdict("bad", "bad-salts", S.bad_salts, sidecar.error));
      return;
    }
    var text = P.fmt(S.salts_only_text, { source: sidecar.salts.source, rows: sidecar.salts.rows });
    if (sidecar.salts.erased.length) text += " " + P.fmt(S.salts_only_erased, { count: sidecar.salts.erased.length });
    box.appendChild(P.verdict("warn", "salts-only", S.salts_only, text,
      P.el("p", { className: "subject" }, [S.salts_file + ": ", P.el("strong", { text: sidecar.file.name })])));
  }

  /** The row count of a records file given without its salts (null if it cannot be read),
   * and the sentence saying why not. */
  async function rowCount(file, format) {
    try {
      return { rows: parseRows(new Uint8Array(await file.arrayBuffer()), format).length };
    } catch (error) {
      return { rows: null, reason: problem(window.xietongPortal, error) };
    }
  }

  function subjectLine(P, data, sidecar, root, digest) {
    var S = P.S;
    return P.el("p", { className: "subject" }, [
      S.file + ": ", P.el("strong", { text: data.file.name }), " (" + P.size(data.file.size) + ") · ",
      S.salts_file + ": ", P.el("strong", { text: sidecar.file.name }),
      root ? " · " + (digest === "sm3" ? S.computed_root_sm3 : S.computed_root) + ": " : null,
      root ? P.el("span", { "data-digest": digest || "sha256" }, [P.hex("0x" + root, 10)]) : null
    ]);
  }

  /** How many records of `version` (a verify answer's) its owner erased: the sum of its
   * erasures' counts (GET /v1/datasets/{dataset}); null when that cannot be had. */
  async function versionErasures(P, version) {
    var answer = await P.getJson("/v1/datasets/" + version.dataset_id);
    if (!answer.ok || !answer.body || !Array.isArray(answer.body.versions)) return null;
    var found = answer.body.versions.filter(function (v) { return v.id === version.id; })[0];
    if (!found) return null;
    return (found.erasures || []).reduce(function (sum, e) { return sum + e.count; }, 0);
  }

  /** Whether the gateway answers that a row's record was erased (every version holding its
   * leaf says so). A row whose salt the sidecar destroyed is {shredded: true}, never asked. */
  function erasedAnswer(a) {
    return Boolean(a && a.found && a.matches.every(function (m) { return m.status === "erased"; }));
  }

  /** Records as the page numbers them (from 1): the first ten, then "…". */
  function rowList(indices) {
    var shown = indices.slice(0, 10).map(function (k) { return String(k + 1); }).join(", ");
    return indices.length > 10 ? shown + ", …" : shown;
  }

  /** Check a records file with its sidecar and show the result in `box`. `data` is
   * {file, hash (its SHA-256, hex)}; `sidecar` what readSidecarFile() gave. (portal.js then
   * asks about the file as a whole: it may be anchored, or named, as a file too.) */
  async function checkRecords(box, data, sidecar) {
    var P = window.xietongPortal, S = P.S;
    var name = data.file.name;
    if (sidecar.error) {
      box.appendChild(P.verdict("bad", "bad-salts", S.bad_salts, sidecar.error, subjectLine(P, data, sidecar)));
      return;
    }
    var salts = sidecar.salts;
    var format = formatOf(name) || salts.recordFormat;
    if (format !== salts.recordFormat) {
      box.appendChild(P.verdict("bad", "bad-salts", S.bad_salts, P.fmt(S.salts_format_mismatch,
        { expected: salts.recordFormat, name: name, found: format }), subjectLine(P, data, sidecar)));
      return;
    }
    var rows;
    try {
      rows = parseRows(new Uint8Array(await data.file.arrayBuffer()), format);
    } catch (error) {
      box.appendChild(P.verdict("bad", "bad-records", S.rec_unreadable, problem(P, error), subjectLine(P, data, sidecar)));
      return;
    }
    var erased = salts.erased;
    var sameBytes = salts.sourceSha256 === data.hash;
    // A sidecar with erased records belongs to the file of its format with as many rows,
    // whatever the file's bytes: its erased rows may have been blanked (Salts.check_matches).
    var belongs = sameBytes || erased.length > 0;
    var facts = { salts: sidecar.file.name, source: salts.source, sha: P.short("0x" + salts.sourceSha256),
      own: P.short("0x" + data.hash), name: name, rows: salts.rows, count: rows.length };
    if (rows.length !== salts.rows) {
      // Salts are paired with rows by position: with another row count they cannot be.
      var sentence = erased.length ? S.salts_erased_rows_differ : sameBytes ? S.salts_rows_differ : S.salts_other_file;
      box.appendChild(P.verdict("bad", "salts-other-file", S.bad_salts, P.fmt(sentence, facts),
        subjectLine(P, data, sidecar)));
      return;
    }
    var notices = [];
    // The sidecar was made for other bytes with as many rows (an edited copy, other line ends):
    // say so, then check the rows by position anyway.
    if (!belongs) {
      notices.push(P.el("p", { className: "notice", "data-notice": "salts-other-bytes",
        text: P.fmt(S.salts_other_bytes, facts) }));
    }
    // Erased records: their salts are gone, so they are neither checked nor asked about, and
    // the whole file's root cannot be recomputed (said as it is: nothing was compared).
    if (erased.length) {
      notices.push(P.el("p", { className: "notice", "data-notice": "erased-rows",
        text: P.fmt(S.rec_erased_notice, { count: erased.length, rows: rowList(erased) }) }));
    }

    // The leaves of each digest, computed when first needed: SHA-256 first, SM3 when row 1's
    // SHA-256 leaf is in no version. {leaves: [hex, or null for an erased row], root (hex, or
    // null when records were erased: it cannot be recomputed)}.
    var digests = hasSm3() ? ["sha256", "sm3"] : ["sha256"];
    var sets = {};
    async function leavesOf(digest) {
      if (sets[digest]) return sets[digest];
      var label = P.fmt(digest === "sm3" ? S.rec_hashing_sm3 : S.rec_hashing, { name: name, rows: rows.length });
      P.progress(label);
      var hashes = await recordHashes(rows, function (done) { P.progress(label + " " + done + "/" + rows.length); }, digest);
      var leaves = hashes.map(function (h, i) { return salts.salts[i] === null ? null : toHex(leaf(h, salts.salts[i], digest)); });
      sets[digest] = { leaves: leaves, root: erased.length ? null : toHex(merkleRoot(leaves.map(fromHex))) };
      return sets[digest];
    }
    var answers = new Array(rows.length), order = [];
    erased.forEach(function (k) { answers[k] = { shredded: true }; });
    for (var r = 0; r < rows.length; r++) if (!answers[r]) order.push(r);
    var digest = null; // the digest of the first leaf found: the one the rows' dataset uses
    var spent = 0; // leaves asked about (at most MAX_REQUESTS)
    await leavesOf("sha256");

    // Row 1's leaf names the versions holding it; one with the recomputed root holds every row.
    // Asked with SHA-256, then, not found, with SM3. Unless its owner erased records of the
    // version: then every row is asked about, to find them.
    var whole = null, inVersion = null;
    if (!erased.length) {
      for (var d = 0; d < digests.length && !digest; d++) {
        var set = await leavesOf(digests[d]);
        P.progress(S.querying);
        answers[0] = await askLeaf(P, set.leaves[0]);
        answers[0].digest = digests[d];
        spent += 1;
        if (answers[0].auth) { P.progress(""); box.appendChild(P.signInVerdict()); return; }
        if (answers[0].found) digest = digests[d];
        else if (answers[0].error) break; // not asked again: the row is counted as failed
      }
      if (answers[0].found === false) answers[0].digest = null; // neither digest's leaf is known
      var holding = digest && answers[0].matches.filter(function (m) { return m.version.root === "0x" + sets[digest].root; });
      if (holding && holding.length) {
        await P.learnNames(P.namedHashes(holding));
        whole = holding.filter(function (m) { return m.status === "anchored"; })[0] || holding[0];
        inVersion = await versionErasures(P, whole.version);
        if (!inVersion && !erasedAnswer(answers[0])) {
          P.progress("");
          showWhole(P, box, data, sidecar, sets[digest].root, rows.length, whole, notices, digest);
          return;
        }
      }
    }
    // Rows are asked about both ways until a leaf is found: the SM3 leaves are needed then.
    if (!digest && digests.length > 1) await leavesOf("sm3");

    // Else row by row, PARALLEL at a time, at most MAX_REQUESTS leaves in all: a row costs two
    // while no leaf was found (its SHA-256 leaf, then its SM3 leaf), one after that.
    var waiting = order.filter(function (k) { return !answers[k]; });
    var next = 0, stop = false, asking = 0;
    var done = order.length - waiting.length;
    // How many rows this check will have asked about (for the progress line).
    function total() {
      var each = !digest && digests.length > 1 ? 2 : 1;
      return Math.min(order.length, done + asking + Math.floor(Math.max(0, MAX_REQUESTS - spent) / each));
    }
    async function askRow(k, both) {
      var first = digest || "sha256";
      var a = await askLeaf(P, sets[first].leaves[k]);
      a.digest = first;
      if (a.found && !digest) digest = first;
      if (!both) return a;
      if (a.found !== false || digest === "sha256" || first === "sm3") {
        spent -= 1; // its second leaf is not needed
        return a;
      }
      var b = await askLeaf(P, sets.sm3.leaves[k]);
      b.digest = "sm3";
      if (b.found && !digest) digest = "sm3";
      if (b.found === false && !digest) b.digest = null; // neither leaf is known
      return b;
    }
    async function worker() {
      while (next < waiting.length && !stop) {
        var both = !digest && digests.length > 1;
        var cost = both ? 2 : 1;
        if (spent + cost > MAX_REQUESTS) break;
        spent += cost;
        var k = waiting[next++];
        asking += 1;
        answers[k] = await askRow(k, both);
        asking -= 1;
        if (answers[k].auth) stop = true;
        done += 1;
        P.progress(P.fmt(S.rec_checking, { done: done, total: total() }));
      }
    }
    var workers = [];
    for (var w = 0; w < PARALLEL; w++) workers.push(worker());
    await Promise.all(workers);
    P.progress("");
    if (stop) { box.appendChild(P.signInVerdict()); return; }
    var unchecked = order.filter(function (k) { return !answers[k]; }).length;
    if (whole && inVersion) {
      var found = order.some(function (k) { return erasedAnswer(answers[k]); });
      var every = !unchecked && order.every(function (k) { return answers[k].found; });
      if (!found && every) {
        // Which records the erasures hold only the gateway that erased them knows.
        notices.push(P.el("p", { className: "notice", "data-notice": "version-erasures",
          text: P.fmt(S.version_erasures_unknown, { count: inVersion }) }));
        showWhole(P, box, data, sidecar, sets[digest].root, rows.length, whole, notices, digest);
        return;
      }
      notices.push(P.el("p", { className: "notice", "data-notice": "version-erasures",
        text: P.fmt(S.version_erasures, { count: inVersion }) }));
    }
    // Each row's leaf as it was asked about: of the digest that found it, else of the dataset's
    // digest once one leaf was found, else its SHA-256 leaf.
    var leafHex = rows.map(function (_, k) {
      var a = answers[k];
      var which = a && a.digest ? a.digest : digest || "sha256";
      return sets[which] ? sets[which].leaves[k] : null;
    });
    showRows(P, box, data, sidecar, sets[digest || "sha256"].root, rows, leafHex, answers, unchecked, notices, belongs, digest);
  }

  function versionOf(match) {
    return { dataset: match.version.dataset_id, id: match.version.id, root: match.version.root };
  }

  /** Every row is in one anchored version (`best`, a match of row 1's leaf): the verdict, then
   * that version's card. */
  function showWhole(P, box, data, sidecar, root, count, best, notices, digest) {
    var S = P.S;
    var v = best.version;
    var kind = best.status === "anchored" ? "ok" : best.status === "revoked" ? "bad" : "warn";
    var title = best.status === "anchored" ? S.rec_all : best.status === "revoked" ? S.revoked : S.rec_all_unconfirmed;
    var text = P.fill(S.rec_all_text, { rows: String(count), department: P.dept(v.owner), time: P.time(v.anchored_at) });
    if (best.status === "revoked") text.push(" " + S.revoked_text);
    if (best.status === "unconfirmed") text.push(" " + S.unconfirmed_text);
    var shown = P.verdict(kind, "records-" + best.status, title, text, subjectLine(P, data, sidecar, root, digest));
    shown.setAttribute("data-digest", digest);
    shown.setAttribute("data-rows", String(count));
    box.appendChild(shown);
    notices.forEach(function (notice) { box.appendChild(notice); });
    box.appendChild(P.matchCard(best, 0, { version: true }));
  }

  /** The rows checked one by one: a verdict, then the rows that were not found, those that
   * were erased and, folded, those that match. `unchecked` rows were left unasked (the limit);
   * `digest` is the one their leaves were found with (null: none was found). */
  function showRows(P, box, data, sidecar, root, rows, leafHex, answers, unchecked, notices, belongs, digest) {
    var S = P.S;
    var matched = 0, missing = 0, failed = 0, erasedHere = 0, shredded = 0;
    answers.forEach(function (a) {
      if (!a) return;
      if (a.shredded) shredded += 1;
      else if (erasedAnswer(a)) erasedHere += 1;
      else if (a.found) matched += 1;
      else if (a.error) failed += 1;
      else missing += 1;
    });
    var erased = shredded + erasedHere, known = matched + erasedHere;
    var kind, status, title, text;
    if (!known && !missing && (failed || !erased)) { // every lookup failed: nothing was checked at all
      kind = "bad"; status = "error"; title = S.error;
      text = P.fmt(S.rec_errors, { count: failed });
    } else if (!known && !missing) { // every record erased: nothing left to check
      kind = "bad"; status = "erased"; title = S.erased;
      text = P.fmt(S.rec_erased_all_text, { erased: erased });
    } else if (!known) { // nothing matched (a failed lookup is said below): no alarm
      kind = "bad"; status = "not-anchored"; title = S.not_anchored;
      text = P.fmt(belongs ? S.rec_none : S.rec_none_other_salts, { checked: missing });
    } else if (missing) {
      kind = "bad"; status = "records-differ"; title = S.rec_differ;
      text = P.fmt(S.rec_differ_text, { missing: missing, matched: matched });
    } else if (unchecked > 0 || failed) {
      kind = "warn"; status = "records-partial"; title = S.rec_partial;
      text = P.fmt(S.rec_partial_text, { matched: matched });
    } else if (erased && matched) {
      kind = "warn"; status = "records-erased"; title = S.rec_erased;
      text = P.fmt(S.rec_erased_text, { matched: matched, erased: erased });
    } else if (erased) {
      kind = "bad"; status = "erased"; title = S.erased;
      text = P.fmt(S.rec_erased_all_text, { erased: erased });
    } else {
      kind = "ok"; status = "records-found"; title = S.rec_found;
      text = P.fmt(S.rec_found_text, { checked: matched });
    }
    var shown = P.verdict(kind, status, title, text, subjectLine(P, data, sidecar, root, digest));
    shown.setAttribute("data-rows", String(rows.length));
    if (digest) shown.setAttribute("data-digest", digest); // null: no leaf of either was found
    shown.setAttribute("data-matched", String(matched));
    shown.setAttribute("data-missing", String(missing));
    shown.setAttribute("data-erased", String(erased));
    box.appendChild(shown);
    notices.forEach(function (notice) { box.appendChild(notice); });
    if (failed && (known || missing)) {
      box.appendChild(P.el("p", { className: "notice", text: P.fmt(S.rec_errors, { count: failed }) }));
    }
    if (unchecked > 0) {
      box.appendChild(P.el("p", { className: "notice", "data-notice": "unchecked",
        text: P.fmt(S.rec_unchecked, { count: unchecked, limit: MAX_REQUESTS }) }));
    }
    var bad = [], good = [], gone = [];
    answers.forEach(function (a, k) {
      if (!a) return;
      if (a.shredded || erasedAnswer(a)) gone.push(k);
      else (a.found ? good : bad).push(k);
    });
    // A table of rows that are all "not found" says nothing more.
    if (known && bad.length) {
      box.appendChild(P.el("h3", { text: S.rec_table_missing }));
      box.appendChild(rowTable(P, "records-missing", bad, rows, leafHex, answers));
    }
    if (gone.length) {
      box.appendChild(P.el("h3", { text: S.rec_table_erased }));
      box.appendChild(rowTable(P, "records-erased", gone, rows, leafHex, answers));
    }
    if (!good.length) return;
    box.appendChild(P.el("details", { className: "records-matched" }, [
      P.el("summary", { text: P.fmt(S.rec_table_matched, { count: good.length }) }),
      rowTable(P, "records-matched", good, rows, leafHex, answers)
    ]));
  }

  function rowTable(P, id, indices, rows, leafHex, answers) {
    var S = P.S;
    var head = P.el("tr", {}, [S.rec_row, S.rec_line, S.rec_result, S.rec_version, S.leaf]
      .map(function (label) { return P.el("th", { scope: "col", text: label }); }));
    var body = indices.map(function (k) {
      var a = answers[k];
      var gone = a.shredded || erasedAnswer(a);
      var state = gone ? "erased" : a.found ? "match" : a.error ? "error" : "missing";
      var badge = state === "match" ? "anchored" : state === "error" ? "withdrawn" : "revoked";
      var result = [P.el("span", { className: "badge badge-" + badge,
        text: a.shredded ? S.rec_state_shredded : S["rec_state_" + state] })];
      if (gone && !a.shredded && a.matches[0].erasure) { // when and by whom, as the chain says
        var erasure = a.matches[0].erasure;
        result.push(" ");
        result = result.concat(P.fill(S.rec_erased_on, { time: P.time(erasure.erased_at), department: P.dept(erasure.erased_by) }));
      }
      var where = a.found ? a.matches.map(versionOf).map(function (v) {
        return P.el("a", { href: "/datasets/" + v.dataset + "#v-" + v.id }, [P.hex(v.root)]);
      }) : [P.el("span", { className: "muted", text: "—" })];
      return P.el("tr", { "data-row": String(k + 1), "data-state": state, "data-salt": a.shredded ? "destroyed" : null }, [
        P.el("th", { scope: "row", className: "num", text: String(k + 1) }),
        P.el("td", { className: "num", text: String(rows[k].line) }),
        P.el("td", {}, result),
        P.el("td", {}, where),
        P.el("td", {}, [leafHex[k] ? P.hex("0x" + leafHex[k]) : P.el("span", { className: "muted", text: "—" })])
      ]);
    });
    return P.el("div", { className: "table-scroll" }, [
      P.el("table", { className: "data records", id: id }, [P.el("thead", {}, [head]), P.el("tbody", {}, body)])
    ]);
  }

  window.xietongRecords = {
    RecordsError: RecordsError,
    formatOf: formatOf,
    isSidecarName: isSidecarName,
    isSubjectKeysName: isSubjectKeysName,
    readSubjectKeys: readSubjectKeys,
    readSubjectKeysFile: readSubjectKeysFile,
    deriveSubjectSalts: deriveSubjectSalts,
    parseRows: parseRows,
    parseJson: parseJson,
    canonical: canonical,
    readSidecar: readSidecar,
    recordHashes: recordHashes,
    leaf: function (recordHash, salt, digest) { return toHex(leaf(recordHash, salt, digest)); },
    merkleRoot: function (leavesHex) { return toHex(merkleRoot(leavesHex.map(fromHex))); },
    keccakHex: function (bytes) { return toHex(keccak(bytes)); },
    readSidecarFile: readSidecarFile,
    pair: pair,
    showSidecarAlone: showSidecarAlone,
    rowCount: rowCount,
    checkRecords: checkRecords,
    problem: function (error) { return problem(window.xietongPortal, error); }
  };
})();
