import type { Backoff } from '../config/reconcile-options';

/**
 * Retry delays for provider polling. Failures (5xx, timeouts) back off exponentially with full jitter, as in
 * the AWS Architecture Blog's "Exponential Backoff And Jitter": sleep = random(0, min(cap, base · 2^attempt)).
 * Full jitter spreads the retries of many pollers that failed together, so they do not hit a recovering
 * provider in lock-step. A throttled response's Retry-After, when present, is the provider telling us exactly
 * when it will accept us again, and replaces the computed delay.
 */

/**
 * The delay before retry number `attempt` (0 for the first retry), in whole milliseconds within
 * [0, min(cap, base · 2^attempt)). `random` returns a value in [0, 1), like Math.random; it is injected so
 * that tests can replay the exact sequence.
 */
export function fullJitterDelayMs(attempt: number, backoff: Backoff, random: () => number): number {
  // 2^attempt overflows to Infinity for large attempts, which min() then caps: no special case needed.
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** Math.max(0, attempt));
  return Math.floor(random() * ceiling);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const DAY_NAME = '(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun)';
const MONTH = '(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 §5.6.7: senders use IMF-fixdate; recipients must also accept the obsolete RFC 850 and asctime forms.
const IMF_FIXDATE = new RegExp(`^${DAY_NAME}, (\\d{2}) ${MONTH} (\\d{4}) ${TIME} GMT$`);
const RFC_850 = new RegExp(
  `^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), (\\d{2})-${MONTH}-(\\d{2}) ${TIME} GMT$`,
);
const ASCTIME = new RegExp(`^${DAY_NAME} ${MONTH} ([ \\d]\\d) ${TIME} (\\d{4})$`);

function utc(year: number, month: string, day: number, h: string, m: string, s: string): Date | undefined {
  const monthIndex = MONTHS.indexOf(month);
  const hour = Number(h);
  const minute = Number(m);
  const second = Number(s);
  if (hour > 23 || minute > 59 || second > 60) return undefined;
  const at = new Date(Date.UTC(year, monthIndex, day, hour, minute, Math.min(second, 59)));
  // Date.UTC rolls 31 Feb over into March; a date that does not exist is not a date the provider meant.
  if (at.getUTCMonth() !== monthIndex || at.getUTCDate() !== day) return undefined;
  return at;
}

/**
 * Parses an HTTP-date in any of the three forms HTTP allows. Hand-rolled because Date.parse reads the
 * zone-less asctime form as local time and accepts many strings HTTP does not.
 */
export function parseHttpDate(text: string, now: Date): Date | undefined {
  let match = IMF_FIXDATE.exec(text);
  if (match) {
    const [, day = '', month = '', year = '', h = '', m = '', s = ''] = match;
    return utc(Number(year), month, Number(day), h, m, s);
  }
  match = ASCTIME.exec(text);
  if (match) {
    const [, month = '', day = '', h = '', m = '', s = '', year = ''] = match;
    return utc(Number(year), month, Number(day.trim()), h, m, s);
  }
  match = RFC_850.exec(text);
  if (match) {
    const [, day = '', month = '', yy = '', h = '', m = '', s = ''] = match;
    // RFC 9110: a two-digit year more than 50 years in the future means the most recent past such year.
    let year = Math.floor(now.getUTCFullYear() / 100) * 100 + Number(yy);
    if (year > now.getUTCFullYear() + 50) year -= 100;
    return utc(year, month, Number(day), h, m, s);
  }
  return undefined;
}

/**
 * The wait a Retry-After header asks for, in milliseconds: delay-seconds, or the time from `now` until an
 * HTTP-date (0 when that date has passed). Undefined when the header is absent or unreadable, so the caller
 * falls back to its own backoff rather than retrying at once.
 */
export function retryAfterMs(header: string | null | undefined, now: Date): number | undefined {
  if (header === null || header === undefined) return undefined;
  const text = header.trim();
  if (/^\d{1,10}$/.test(text)) return Number(text) * 1000;
  const at = parseHttpDate(text, now);
  if (at === undefined) return undefined;
  return Math.max(0, at.getTime() - now.getTime());
}
