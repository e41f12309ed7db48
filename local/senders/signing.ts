import { createHmac } from 'node:crypto';
import type { Sender } from './types';

const DAY_MS = 86_400_000;

/** The UTC calendar date `days` after `now`: sample stay dates a little ahead of the send time. */
export function isoDateAfter(now: Date, days: number): string {
  return new Date(now.getTime() + days * DAY_MS).toISOString().slice(0, 10);
}

/** Whole seconds since the epoch, as signed-timestamp headers carry them. */
export function unixSeconds(at: Date): number {
  return Math.floor(at.getTime() / 1000);
}

/**
 * Signs as the OTA, the PMS and the property platform do: lower-case hex HMAC-SHA256 of the raw body in the
 * header `header`, and no timestamp header.
 */
export function hexBodyHmacSign(header: string): Sender['sign'] {
  return (body, { secret }) => ({
    'Content-Type': 'application/json',
    [header]: createHmac('sha256', secret).update(body).digest('hex'),
  });
}
