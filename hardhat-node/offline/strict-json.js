/* JSON text read as the Python verifier reads it (ledger/hashing loads_strict): no duplicate
 * member names, no NaN or Infinity, nesting bounded, and numbers kept apart by kind, which
 * JSON.parse cannot do: an integer token stays an exact integer (a Number when it is a safe
 * integer, else a BigInt), while a token with a fraction or an exponent becomes a JsonFloat,
 * so that `"chain_id": 1.0` is no integer here either (Python reads it as a float). */

/** A JSON number written with a fraction or an exponent (Python's float): never an integer. */
export class JsonFloat {
  constructor(text) {
    this.text = text;
  }
}

export class JsonTextError extends Error {}

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const ESCAPES = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" };
const NUMBER = /-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?/y;
const HEX4 = /^[0-9a-fA-F]{4}$/;

/** The value of the JSON text `text`; JsonTextError when it is not strict JSON or nests
 * deeper than `maxDepth` arrays and objects. */
export function parseStrictJson(text, maxDepth) {
  const reader = new Reader(text, maxDepth);
  reader.skipWhitespace();
  const value = reader.value(0);
  reader.skipWhitespace();
  if (reader.at < text.length) reader.fail("text after the JSON value");
  return value;
}

class Reader {
  constructor(text, maxDepth) {
    this.text = text;
    this.maxDepth = maxDepth;
    this.at = 0;
  }

  fail(what) {
    throw new JsonTextError(`${what} at character ${this.at + 1}`);
  }

  skipWhitespace() {
    while (WHITESPACE.has(this.text[this.at])) this.at++;
  }

  expect(literal) {
    if (!this.text.startsWith(literal, this.at)) this.fail(`expected ${literal}`);
    this.at += literal.length;
  }

  value(depth) {
    const c = this.text[this.at];
    if (c === "{") return this.object(depth + 1);
    if (c === "[") return this.array(depth + 1);
    if (c === '"') return this.string();
    if (c === "t") return this.literal("true", true);
    if (c === "f") return this.literal("false", false);
    if (c === "n") return this.literal("null", null);
    return this.number();
  }

  literal(word, value) {
    this.expect(word);
    return value;
  }

  enter(depth) {
    if (depth > this.maxDepth) this.fail(`nesting deeper than ${this.maxDepth} levels`);
    this.at++;
    this.skipWhitespace();
  }

  object(depth) {
    this.enter(depth);
    const result = {};
    if (this.text[this.at] === "}") {
      this.at++;
      return result;
    }
    for (;;) {
      if (this.text[this.at] !== '"') this.fail("expected a member name");
      const name = this.string();
      if (Object.hasOwn(result, name)) this.fail(`the member name ${JSON.stringify(name)} twice`);
      this.skipWhitespace();
      this.expect(":");
      this.skipWhitespace();
      // defineProperty: a member named "__proto__" is a member, not the object's prototype.
      Object.defineProperty(result, name, {
        value: this.value(depth),
        enumerable: true,
        writable: true,
        configurable: true,
      });
      this.skipWhitespace();
      if (this.text[this.at] === "}") {
        this.at++;
        return result;
      }
      this.expect(",");
      this.skipWhitespace();
    }
  }

  array(depth) {
    this.enter(depth);
    const result = [];
    if (this.text[this.at] === "]") {
      this.at++;
      return result;
    }
    for (;;) {
      result.push(this.value(depth));
      this.skipWhitespace();
      if (this.text[this.at] === "]") {
        this.at++;
        return result;
      }
      this.expect(",");
      this.skipWhitespace();
    }
  }

  string() {
    this.at++; // the opening quote
    let out = "";
    for (;;) {
      const c = this.text[this.at];
      if (c === undefined) this.fail("an unterminated string");
      if (c === '"') {
        this.at++;
        return out;
      }
      if (c < " ") this.fail("a control character in a string");
      if (c !== "\\") {
        out += c;
        this.at++;
        continue;
      }
      const e = this.text[this.at + 1];
      if (e === "u") {
        const digits = this.text.slice(this.at + 2, this.at + 6);
        if (!HEX4.test(digits)) this.fail("a malformed \\u escape");
        out += String.fromCharCode(parseInt(digits, 16));
        this.at += 6;
      } else if (Object.hasOwn(ESCAPES, e)) {
        out += ESCAPES[e];
        this.at += 2;
      } else {
        this.fail("a malformed escape");
      }
    }
  }

  number() {
    NUMBER.lastIndex = this.at;
    const match = NUMBER.exec(this.text);
    if (match === null) this.fail("expected a JSON value");
    this.at = NUMBER.lastIndex;
    const token = match[0];
    if (match[1] !== undefined || match[2] !== undefined) return new JsonFloat(token);
    const exact = BigInt(token);
    return exact >= -BigInt(Number.MAX_SAFE_INTEGER) && exact <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(exact)
      : exact;
  }
}
