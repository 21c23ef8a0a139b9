// The client sync policy of docs/sync.md: what an answer means for an outbox entry and when to
// try again. The phone's core (mobile/core/src/sync.rs) has the same constants and the same
// table, and its tests check the same delays. Pure: no DOM and no storage, so it can be tested in
// Node.js.

/** The step after the first failed attempt, in ms; doubled after each further failure. */
export const RETRY_FIRST = 5_000;
/** The longest wait, in ms, whether from back-off or from `Retry-After`. */
export const RETRY_MAX = 15 * 60_000;
/** Each back-off wait is the step × a factor in [1 − RETRY_JITTER, 1 + RETRY_JITTER]. */
export const RETRY_JITTER = 0.25;

/**
 * `stored`: the server has the entry (201, or 200 for a repeat). `retry`: send it again later.
 * `refused`: the server read it and refuses it; sending it again would get the same answer.
 */
export type Verdict = 'stored' | 'retry' | 'refused';

/** What an HTTP status means for an outbox entry (a 2xx also needs a receipt, see `isReceipt`). */
export function classify(status: number): Verdict {
  if (status >= 200 && status < 300) return 'stored';
  if (status === 408 || status === 425 || status === 429) return 'retry';
  if (status >= 400 && status < 500) return 'refused';
  return 'retry';
}

/** A 2xx body is ours only if it is a receipt: a captive portal's page is not. */
export function isReceipt(body: unknown): boolean {
  if (typeof body !== 'object' || body === null) return false;
  const r = body as Record<string, unknown>;
  return typeof r.request_number === 'string' && typeof r.tracking_code === 'string';
}

/**
 * The jitter factor of an entry, from the last 16 bits of its client id: random across phones
 * (client ids are random UUIDs), fixed for one entry. An id that does not end in four hex
 * digits gets no jitter.
 */
export function jitterFactor(clientId: string): number {
  const tail = clientId.slice(-4);
  const x = /^[0-9a-fA-F]{4}$/.test(tail) ? parseInt(tail, 16) : 65535 / 2;
  return 1 - RETRY_JITTER + 2 * RETRY_JITTER * (x / 65535);
}

/** The back-off wait in ms after `attempts` failed attempts (1 = the first failure). */
export function backoff(attempts: number, clientId: string): number {
  const step = Math.min(RETRY_FIRST * 2 ** Math.max(0, attempts - 1), RETRY_MAX);
  return Math.min(Math.round(step * jitterFactor(clientId)), RETRY_MAX);
}

/**
 * A `Retry-After` header as a wait in ms from `now`: delay-seconds or an HTTP date (a past date
 * is 0). Null when absent or unreadable.
 */
export function parseRetryAfter(value: string | null | undefined, now: number): number | null {
  const v = value?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  // Only a date with a weekday and a zone ("Sun, 06 Nov 1994 08:49:37 GMT"), not whatever
  // `Date.parse` might accept.
  if (!/^[A-Za-z]{3},/.test(v)) return null;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

/**
 * The wait in ms before the next attempt after a retried failure: the server's `Retry-After`
 * when it gave one, bounded to [RETRY_FIRST, RETRY_MAX]; else the back-off.
 */
export function retryDelay(attempts: number, clientId: string, retryAfterMs: number | null): number {
  if (retryAfterMs !== null) return Math.min(Math.max(retryAfterMs, RETRY_FIRST), RETRY_MAX);
  return backoff(attempts, clientId);
}
