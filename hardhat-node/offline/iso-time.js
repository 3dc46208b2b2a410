/* `anchored_at`: the times the Python verifier reads with
 * `datetime.fromisoformat(text.replace("Z", "+00:00"))` and an offset required (ledger/verify
 * bundles.py `_same_time`), as an exact instant.
 *
 * Read as CPython 3.11 reads them (its _datetimemodule.c, step for step): calendar dates
 * (YYYY-MM-DD, YYYYMMDD) and ISO week dates (YYYY-Www[-D], YYYYWww[D]), any one character
 * between date and time, HH[:MM[:SS[.f…]]] (or without colons), and an offset
 * ±HH[:MM[:SS[.f…]]] (or without colons). No bundle writes more than one of these forms, but
 * the two verifiers must agree on all of them. */

const CORRECTION = [100000, 10000, 1000, 100, 10];
const DIGITS = /^[0-9]+$/;
const US_PER_SECOND = 1_000_000n;

/** The instant `text` names, in microseconds since 1970 (a BigInt), or null when Python would
 * refuse it or it names no offset. */
export function isoInstant(text) {
  if (typeof text !== "string") return null;
  try {
    return fromIsoFormat(text.replaceAll("Z", "+00:00"));
  } catch (error) {
    if (error instanceof IsoError) return null;
    throw error;
  }
}

/** UTC ISO 8601 of unix seconds, as Python's `datetime.fromtimestamp(t, UTC).isoformat()`
 * gives it ("2026-01-02T03:04:05+00:00"); null beyond year 9999. */
export function isoOfSeconds(seconds) {
  const value = BigInt(seconds);
  if (value < 0n || value > 253402300799n) return null;
  const days = value / 86400n;
  let rest = value % 86400n;
  const [year, month, day] = civilFromDays(Number(days));
  const hour = rest / 3600n;
  rest %= 3600n;
  const pad = (n, width = 2) => String(n).padStart(width, "0");
  return (
    `${pad(year, 4)}-${pad(month)}-${pad(day)}T${pad(hour)}:${pad(rest / 60n)}:${pad(rest % 60n)}` +
    "+00:00"
  );
}

class IsoError extends Error {}

function bad() {
  throw new IsoError("not an ISO 8601 time");
}

function twoDigits(text, at) {
  const part = text.slice(at, at + 2);
  if (part.length !== 2 || !DIGITS.test(part)) bad();
  return Number(part);
}

const NON_ASCII = /[^\x00-\x7f]/u;
const SURROGATE = /[\uD800-\uDFFF]/;

/** CPython's datetime_fromisoformat: the first character outside ASCII at code point 7, 8 or
 * 10 (where a separator can be) is read as "T"; then the text is read as its UTF-8 bytes, so
 * that another character outside ASCII is one to four bytes that match nothing (a lone
 * surrogate has none: refused). */
function fromIsoFormat(text) {
  const chars = Array.from(text); // code points, as Python counts them
  if (chars.length < 7) bad();
  const separator = [7, 8, 10].find((at) => at <= chars.length && NON_ASCII.test(chars[at] ?? ""));
  if (separator !== undefined) chars[separator] = "T";
  if (chars.some((c) => SURROGATE.test(c))) bad();
  return parseDateTime(String.fromCharCode(...new TextEncoder().encode(chars.join(""))));
}

function parseDateTime(text) {
  const separator = separatorAt(text);
  const [year, month, day] = parseDate(text.slice(0, separator));
  if (text.length <= separator) bad(); // a date alone has no offset
  const { hour, minute, second, micro, offsetMicros } = parseTime(text.slice(separator + 1));
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) bad();
  const seconds = BigInt(daysFromCivil(year, month, day)) * 86400n + BigInt(hour * 3600 + minute * 60 + second);
  return seconds * US_PER_SECOND + BigInt(micro) - offsetMicros;
}

const isDigit = (c) => c !== undefined && c >= "0" && c <= "9";

/** Where the date ends (CPython's _find_isoformat_datetime_separator). */
function separatorAt(text) {
  const n = text.length;
  if (n === 7) return 7;
  if (text[4] === "-") {
    if (text[5] !== "W") return 10; // YYYY-MM-DD
    if (n < 8) bad();
    if (n > 8 && text[8] === "-") {
      if (n === 9) bad();
      return n > 10 && isDigit(text[10]) ? 8 : 10; // YYYY-Www then a separator, or YYYY-Www-D
    }
    return 8; // YYYY-Www
  }
  if (text[4] !== "W") return 8; // YYYYMMDD
  let end = 7; // YYYYWww or YYYYWwwD
  while (end < n && isDigit(text[end])) end++;
  if (end < 9) return end;
  return end % 2 === 0 ? 7 : 8;
}

/** [year, month, day] of a calendar or ISO week date. */
function parseDate(text) {
  const yearText = text.slice(0, 4);
  if (yearText.length !== 4 || !DIGITS.test(yearText)) bad();
  const year = Number(yearText);
  const dashes = text[4] === "-";
  let at = dashes ? 5 : 4;
  if (text[at] === "W") {
    const week = twoDigits(text, at + 1);
    at += 3;
    let weekday = 1;
    if (at < text.length) {
      if (dashes && text[at++] !== "-") bad();
      if (!isDigit(text[at])) bad();
      weekday = Number(text[at]);
    }
    return dateOfIsoWeek(year, week, weekday);
  }
  const month = twoDigits(text, at);
  at += 2;
  if (dashes && text[at++] !== "-") bad();
  return [year, month, twoDigits(text, at)];
}

/** The calendar date of an ISO week date (datetime.date.fromisocalendar). */
function dateOfIsoWeek(year, week, weekday) {
  if (year < 1 || year > 9999 || week < 1 || week > 53 || weekday < 1 || weekday > 7) bad();
  const newYear = daysFromCivil(year, 1, 1);
  const newYearDay = weekdayOf(newYear); // Monday 0
  // A year has a week 53 when it starts on a Thursday, or on a Wednesday in a leap year.
  if (week === 53 && !(newYearDay === 3 || (newYearDay === 2 && isLeap(year)))) bad();
  const firstMonday = newYear - newYearDay + (newYearDay > 3 ? 7 : 0);
  return civilFromDays(firstMonday + (week - 1) * 7 + (weekday - 1));
}

/** Monday 0 … Sunday 6 (1970-01-01 was a Thursday). */
function weekdayOf(days) {
  return (((days % 7) + 7) % 7 + 3) % 7;
}

/** CPython's parse_isoformat_time: the clock up to the first of "Z", "+" or "-", then the
 * offset; an offset is required here. */
function parseTime(text) {
  let zone = 0;
  do {
    if ("Z+-".includes(text[zone] ?? "\0")) break;
  } while (++zone < text.length);
  const clock = parseClock(text, 0, zone);
  if (clock.status < 0 || zone >= text.length) bad(); // malformed, or naive
  // What follows the clock before the offset is not looked at (CPython ignores it too).
  let offsetMicros = 0n;
  if (text[zone] === "Z") {
    if (zone + 1 < text.length) bad();
  } else {
    const offset = parseClock(text, zone + 1, text.length);
    if (offset.status !== 0) bad();
    const sign = text[zone] === "-" ? -1n : 1n;
    const seconds = BigInt(offset.hour * 3600 + offset.minute * 60 + offset.second);
    // An offset of 0 whole seconds is UTC, whatever its fraction.
    offsetMicros = seconds === 0n ? 0n : sign * (seconds * US_PER_SECOND + BigInt(offset.micro));
    if (offsetMicros <= -DAY_MICROS || offsetMicros >= DAY_MICROS) bad(); // less than a day
  }
  return { hour: clock.hour, minute: clock.minute, second: clock.second, micro: clock.micro, offsetMicros };
}

const DAY_MICROS = 86_400n * US_PER_SECOND;

/** `count` ASCII digits at `at` (a number), or null. */
function digitsAt(text, at, count) {
  const part = text.slice(at, at + count);
  return part.length === count && (count === 0 || DIGITS.test(part)) ? Number(part || "0") : null;
}

/** CPython's parse_hh_mm_ss_ff over text[start, end): HH[:?MM[:?SS]] then a fraction after
 * "." or ","; status 0 when it ends there, 1 when something follows, negative when malformed.
 * As in C, reading may look past `end` (at the offset's sign, or the end of the text). */
function parseClock(text, start, end) {
  const at = (i) => text[i] ?? "\0";
  const values = [0, 0, 0];
  let p = start;
  let colons = true;
  let i = 0;
  for (; i < 3; i++) {
    const value = digitsAt(text, p, 2);
    if (value === null) return { status: -3 };
    values[i] = value;
    p += 2;
    const c = at(p++);
    if (i === 0) colons = c === ":";
    if (p >= end) return clockOf(values, 0, c !== "\0" ? 1 : 0);
    if (colons && c === ":") continue;
    if (c === "." || c === ",") break;
    if (colons) return { status: -4 };
    p--; // no colons: the character was the next component's first digit
  }
  const count = Math.min(end - p, 6);
  const fraction = digitsAt(text, p, count);
  if (fraction === null) return { status: -3 };
  p += count;
  while (isDigit(text[p])) p++; // digits past the sixth are dropped
  const micro = count === 0 ? 0 : fraction * (count < 6 ? CORRECTION[count - 1] : 1);
  return clockOf(values, micro, at(p) !== "\0" ? 1 : 0);
}

function clockOf([hour, minute, second], micro, status) {
  return { status, hour, minute, second, micro };
}

function isLeap(year) {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function validDate(year, month, day) {
  const lengths = [31, isLeap(year) ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
  return year >= 1 && year <= 9999 && month >= 1 && month <= 12 && day >= 1 && day <= lengths[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date, and back (H. Hinnant's algorithms).
function daysFromCivil(year, month, day) {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function civilFromDays(days) {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [yoe + era * 400 + (month <= 2 ? 1 : 0), month, day];
}
