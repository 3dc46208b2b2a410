/* `anchored_at`: the times the Python verifier reads with
 * `datetime.fromisoformat(text.replace("Z", "+00:00"))` and an offset required (ledger/verify
 * bundles.py `_same_time`), as an exact instant.
 *
 * Read: calendar dates (YYYY-MM-DD or YYYYMMDD), any one character between date and time,
 * HH[:MM[:SS[.f…]]] (or without colons), and an offset ±HH[:MM[:SS[.f…]]] (or without colons)
 * or Z, following CPython 3.11's parser. Not read, although Python reads them: ISO week dates
 * (2025-W01-3), which no bundle holds. */

const CORRECTION = [100000, 10000, 1000, 100, 10];
const DIGITS = /^[0-9]+$/;
const US_PER_SECOND = 1_000_000n;

/** The instant `text` names, in microseconds since 1970 (a BigInt), or null when Python would
 * refuse it or it names no offset. */
export function isoInstant(text) {
  if (typeof text !== "string") return null;
  const value = text.replaceAll("Z", "+00:00");
  try {
    return parseDateTime(value);
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

function parseDateTime(text) {
  if (text.length < 7) bad();
  const extended = text[4] === "-";
  if (text[extended ? 5 : 4] === "W") bad(); // ISO week dates: see the module's comment
  const dateLength = extended ? 10 : 8;
  const [year, month, day] = parseDate(text.slice(0, dateLength), extended);
  const timeText = text.slice(dateLength + 1); // after the separator, whatever it is
  if (!timeText) bad(); // a date alone has no offset
  const { hour, minute, second, micro, offsetMicros } = parseTime(timeText);
  if (!validDate(year, month, day) || hour > 23 || minute > 59 || second > 59) bad();
  const seconds = BigInt(daysFromCivil(year, month, day)) * 86400n + BigInt(hour * 3600 + minute * 60 + second);
  return seconds * US_PER_SECOND + BigInt(micro) - offsetMicros;
}

function parseDate(text, extended) {
  const yearText = text.slice(0, 4);
  if (yearText.length !== 4 || !DIGITS.test(yearText)) bad();
  const year = Number(yearText);
  const at = extended ? 5 : 4;
  const month = twoDigits(text, at);
  if ((text[at + 2] === "-") !== extended) bad(); // dashes everywhere or nowhere
  const day = twoDigits(text, at + 2 + (extended ? 1 : 0));
  return [year, month, day];
}

function parseTime(text) {
  if (text.length < 2) bad();
  const minus = text.indexOf("-");
  const plus = text.indexOf("+");
  const zoneAt = minus >= 0 ? minus : plus; // Python looks for "-" first
  if (zoneAt < 0) bad(); // no offset: a naive time
  const [hour, minute, second, micro] = parseClock(text.slice(0, zoneAt));
  const zone = text.slice(zoneAt + 1);
  if ([0, 1, 3].includes(zone.length)) bad();
  const [zh, zm, zs, zmicro] = parseClock(zone);
  const whole = (zh * 60 + zm) * 60 + zs;
  // CPython takes an offset of whole seconds 0 for UTC, whatever its fraction.
  const size = whole === 0 ? 0n : BigInt(whole * 1_000_000 + zmicro);
  if (size >= 86_400n * US_PER_SECOND) bad(); // an offset is less than a day
  return { hour, minute, second, micro, offsetMicros: text[zoneAt] === "-" ? -size : size };
}

/** HH[:MM[:SS[.f…]]] or HH[MM[SS[.f…]]]: [hours, minutes, seconds, microseconds]. */
function parseClock(text) {
  const parts = [0, 0, 0, 0];
  let at = 0;
  let colons = false;
  for (let i = 0; i < 3; i++) {
    if (text.length - at < 2) bad();
    parts[i] = twoDigits(text, at);
    at += 2;
    const next = text[at];
    if (i === 0) colons = next === ":";
    if (next === undefined || i === 2) break;
    if (colons && next !== ":") bad();
    if (colons) at++;
  }
  if (at < text.length) {
    if (text[at] !== "." && text[at] !== ",") bad();
    const fraction = text.slice(at + 1); // CPython takes an empty one for 0
    if (fraction && !DIGITS.test(fraction)) bad();
    const kept = fraction.slice(0, 6); // further digits are dropped, as Python drops them
    parts[3] = kept ? Number(kept) * (kept.length < 6 ? CORRECTION[kept.length - 1] : 1) : 0;
  }
  return parts;
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
