// The PWA's side of the client sync policy (docs/sync.md). The phone's core checks the same
// table and the same delays in mobile/core/src/sync.rs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  RETRY_FIRST,
  RETRY_JITTER,
  RETRY_MAX,
  backoff,
  classify,
  isReceipt,
  jitterFactor,
  parseRetryAfter,
  retryDelay,
  type Verdict,
} from '../src/sync-policy.js';

const id = (tail: string) => `3f2b8c1e-9d4a-4e6f-8a7b-1c2d3e4f${tail}`;

test('the constants are the documented ones', () => {
  assert.equal(RETRY_FIRST, 5_000);
  assert.equal(RETRY_MAX, 900_000);
  assert.equal(RETRY_JITTER, 0.25);
});

test('answers are classified as the table says', () => {
  const table: [number, Verdict][] = [
    [200, 'stored'],
    [201, 'stored'],
    [100, 'retry'],
    [304, 'retry'],
    [408, 'retry'],
    [425, 'retry'],
    [429, 'retry'],
    [500, 'retry'],
    [501, 'retry'],
    [502, 'retry'],
    [503, 'retry'],
    [504, 'retry'],
    [400, 'refused'],
    [401, 'refused'],
    [403, 'refused'],
    [404, 'refused'],
    [409, 'refused'],
    [413, 'refused'],
    [415, 'refused'],
    [422, 'refused'],
  ];
  for (const [status, verdict] of table) assert.equal(classify(status), verdict, `HTTP ${status}`);
});

test('a 2xx is stored only with a receipt', () => {
  assert.ok(isReceipt({ request_number: '2026-SIG-000123', tracking_code: 'K7PX-2QMA', status: 'received' }));
  assert.ok(!isReceipt('<html>Welcome to the station Wi-Fi</html>'));
  assert.ok(!isReceipt({ request_number: '2026-SIG-000123' }));
  assert.ok(!isReceipt(null));
});

test('back-off doubles from 5 s up to the 15 min cap, jittered by the client id', () => {
  const attempts = [1, 2, 6, 8, 9, 10];
  // The test vectors of docs/sync.md, also asserted by the core.
  const vectors: [string, number[]][] = [
    ['0000', [3_750, 7_500, 120_000, 480_000, 675_000, 675_000]],
    ['1a2b', [4_006, 8_011, 128_178, 512_710, 720_999, 720_999]],
    ['8000', [5_000, 10_000, 160_001, 640_002, 900_000, 900_000]],
    ['ffff', [6_250, 12_500, 200_000, 800_000, 900_000, 900_000]],
  ];
  for (const [tail, delays] of vectors) {
    assert.deepEqual(attempts.map((n) => backoff(n, id(tail))), delays, `…${tail}`);
  }
  // Upper-case hex reads the same; an id without a hex tail gets no jitter.
  assert.equal(backoff(3, id('1A2B')), backoff(3, id('1a2b')));
  assert.equal(jitterFactor('not-a-uuid'), 1);
  assert.equal(backoff(1, 'not-a-uuid'), RETRY_FIRST);
  // Never a zero or negative attempt count, never past the cap.
  assert.equal(backoff(0, id('8000')), 5_000);
  assert.equal(backoff(10_000, id('ffff')), RETRY_MAX);
});

test('the jitter stays within ±25 % of the step, and under the cap', () => {
  for (let x = 0; x <= 0xffff; x += 0x0101) {
    const clientId = id(x.toString(16).padStart(4, '0'));
    for (let n = 1; n <= 12; n++) {
      const step = Math.min(RETRY_FIRST * 2 ** (n - 1), RETRY_MAX);
      const d = backoff(n, clientId);
      assert.ok(d >= Math.floor(step * 0.75) && d <= Math.ceil(step * 1.25), `${clientId} n=${n}: ${d}`);
      assert.ok(d <= RETRY_MAX, `${clientId} n=${n}: ${d}`);
    }
  }
});

test('Retry-After is read as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-03-02T10:00:00Z');
  assert.equal(parseRetryAfter('7', now), 7_000);
  assert.equal(parseRetryAfter(' 120 ', now), 120_000);
  assert.equal(parseRetryAfter('Mon, 02 Mar 2026 10:00:30 GMT', now), 30_000);
  assert.equal(parseRetryAfter('Sun, 06 Nov 1994 08:49:37 GMT', now), 0);
  assert.equal(parseRetryAfter('soon', now), null);
  assert.equal(parseRetryAfter('-1', now), null);
  assert.equal(parseRetryAfter('1.5', now), null);
  assert.equal(parseRetryAfter('', now), null);
  assert.equal(parseRetryAfter(null, now), null);
});

test('Retry-After replaces the back-off, bounded to [5 s, 15 min], without jitter', () => {
  const clientId = id('ffff');
  assert.equal(retryDelay(1, clientId, 0), RETRY_FIRST);
  assert.equal(retryDelay(1, clientId, 1_000), RETRY_FIRST);
  assert.equal(retryDelay(1, clientId, 30_000), 30_000);
  assert.equal(retryDelay(8, clientId, 30_000), 30_000);
  assert.equal(retryDelay(1, clientId, 3_600_000), RETRY_MAX);
  assert.equal(retryDelay(3, clientId, null), backoff(3, clientId));
  assert.equal(retryDelay(3, clientId, null), 25_000);
});
