/* What JSON values are, as the Python verifier sees them: objects, lists, integers (never a
 * boolean, never a JsonFloat), strings. */

/** A JSON object: a plain object (JSON.parse's, or strict-json's). */
export function isObject(value) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const prototype = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/** A JSON integer: a Number without fraction, or a BigInt (strict-json's large integers). */
export function isInteger(value) {
  return (typeof value === "number" && Number.isInteger(value)) || typeof value === "bigint";
}

/** The member `name` of `object` when it has its own (never one of Object.prototype's). */
export function member(object, name) {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

/** The same members, in any order. */
export function hasExactly(object, names) {
  const own = Object.keys(object);
  return own.length === names.length && names.every((name) => Object.hasOwn(object, name));
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** A string that UTF-8 can encode (no lone surrogate, which a JSON escape can make). */
export const isWellFormed = (text) => !LONE_SURROGATE.test(text);

/** A value for a message: short JSON, else only what kind of value it is. */
export function shown(value) {
  if (typeof value === "bigint") return value.toString();
  let text;
  try {
    text = JSON.stringify(value);
  } catch {
    text = undefined;
  }
  if (typeof text === "string" && text.length <= 80) return text;
  if (Array.isArray(value)) return "a list";
  return typeof value === "string" ? "a long string" : "an object";
}
