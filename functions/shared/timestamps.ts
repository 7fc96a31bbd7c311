/**
 * The one rule for every time logrelay reads (log records, notifications, parked entries, CLI
 * options): ISO-8601 with or without a zone (without one it is UTC, never the host's zone), RFC
 * 2822 dates that name their zone, and epoch numbers. Anything else is no time; nothing is read by
 * the host's zone. docs/delivery-semantics.md lists the forms with an example each.
 */

/** The value of two ASCII digits at `i`, or -1. */
function twoDigits(s: string, i: number): number {
  const a = s.charCodeAt(i) - 48;
  const b = s.charCodeAt(i + 1) - 48;
  return a >= 0 && a <= 9 && b >= 0 && b <= 9 ? a * 10 + b : -1;
}

/**
 * The time of `YYYY-MM-DDTHH:MM:SS[.fraction]Z` (what Vector and most collectors write) in
 * `s[from, to)`, read without Date.parse, which cost 180-380 ns a call here (up to a tenth of the
 * parse path). Returns undefined for anything else (isoTimeMs reads the other ISO forms); where
 * this answers, it answers as Date.parse does (a fraction's digits after the third are dropped; a day
 * past the month's end rolls over; the unit tests compare the two). Where it answers, the text is
 * only digits and `-T:.Z`: no quote, backslash or control character.
 */
export function isoUtcMs(s: string, from = 0, to = s.length): number | undefined {
  const n = to - from;
  if (
    n < 20 ||
    s.charCodeAt(to - 1) !== 90 || // Z
    s.charCodeAt(from + 4) !== 45 || // -
    s.charCodeAt(from + 7) !== 45 ||
    s.charCodeAt(from + 10) !== 84 || // T
    s.charCodeAt(from + 13) !== 58 || // :
    s.charCodeAt(from + 16) !== 58
  ) {
    return undefined;
  }
  const century = twoDigits(s, from);
  const yy = twoDigits(s, from + 2);
  const month = twoDigits(s, from + 5);
  const day = twoDigits(s, from + 8);
  const hour = twoDigits(s, from + 11);
  const minute = twoDigits(s, from + 14);
  const second = twoDigits(s, from + 17);
  // Years below 1000 are left to isoTimeMs.
  if (century < 10 || yy < 0 || month < 1 || month > 12 || day < 1 || day > 31) return undefined;
  if (hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return undefined;
  let ms = 0;
  if (n > 20) {
    if (s.charCodeAt(from + 19) !== 46 || n === 21) return undefined; // "." and at least one digit
    for (let i = 20; i < n - 1; i++) {
      const d = s.charCodeAt(from + i) - 48;
      if (d < 0 || d > 9) return undefined;
      if (i < 23) ms += d * (i === 20 ? 100 : i === 21 ? 10 : 1);
    }
  }
  const days = daysFromCivil(century * 100 + yy, month, day);
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + ms;
}

/**
 * Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant's days_from_civil): plain
 * arithmetic, where a Date.UTC call costs as much as the rest of isoUtcMs. A day past the month's
 * end rolls over, as in Date.UTC.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146_097 + dayOfEra - 719_468;
}

/**
 * ISO-8601: `YYYY-MM-DD`, optionally `T` (or `t`, or a space) `HH:MM[:SS[.fraction]]` (a `,` may
 * stand for the `.`), optionally a zone `Z`, `±HH:MM`, `±HHMM` or `±HH`. Without a zone the time is
 * UTC; a date alone is its midnight UTC; 24:00:00 is the next midnight. A fraction's digits after the third are dropped; a day
 * past the month's end rolls over (as Date.UTC does).
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?$/;

/** The milliseconds of an ISO-8601 date or date-time (ISO_TIME), or undefined. */
export function isoTimeMs(text: string): number | undefined {
  const fast = isoUtcMs(text);
  if (fast !== undefined) return fast;
  const m = ISO_TIME.exec(text);
  if (!m) return undefined;
  const [year, month, day, hour = 0, minute = 0, second = 0] = m
    .slice(1, 7)
    .map((v) => (v === undefined ? undefined : Number(v))) as number[];
  const fraction = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  if (month! < 1 || month! > 12 || day! < 1 || day! > 31) return undefined;
  // 24:00:00 is the end of a day (ISO-8601), the next day's midnight.
  if (minute > 59 || second > 59 || (hour > 23 && !(hour === 24 && minute + second + fraction === 0)))
    return undefined;
  const offsetHours = m[10] === undefined ? 0 : Number(m[10]);
  const offsetMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offset = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  const days = daysFromCivil(year!, month!, day!);
  return ((days * 24 + hour) * 60 + minute) * 60_000 + second * 1000 + fraction - offset;
}

/** RFC 2822 / HTTP dates that name their zone, which Date.parse reads the same on every host. */
const RFC_2822_ZONED =
  /^(?:[A-Za-z]{3},\s*)?\d{1,2}\s+[A-Za-z]{3}\s+\d{4}\s+\d{2}:\d{2}(?::\d{2})?\s+(?:GMT|UTC|UT|Z|[+-]\d{4})$/;

/**
 * Interprets a timestamp: ISO-8601 text (isoTimeMs), an RFC 2822 date with its zone, or epoch
 * seconds / milliseconds / microseconds / nanoseconds as a number or digit string (told apart by
 * magnitude). Returns ms, or undefined for anything else.
 */
export function parseTimestamp(value: unknown): number | undefined {
  let n: number;
  if (typeof value === "number") n = value;
  else if (typeof value === "string") {
    if (/^\d+(?:\.\d+)?$/.test(value)) n = Number(value);
    else {
      const iso = isoTimeMs(value);
      if (iso !== undefined || !RFC_2822_ZONED.test(value)) return iso;
      const ms = Date.parse(value);
      return Number.isNaN(ms) ? undefined : ms;
    }
  } else return undefined;
  if (!Number.isFinite(n) || n <= 0) return undefined;
  if (n < 1e11) return Math.round(n * 1000); // seconds (until year 5138)
  if (n < 1e14) return Math.round(n); // milliseconds
  if (n < 1e17) return Math.round(n / 1e3); // microseconds
  return Math.round(n / 1e6); // nanoseconds
}
