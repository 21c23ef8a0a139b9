// The shared send loop against an outbox kept in memory: queue order, exactly one successful
// send per entry, the policy of docs/sync.md on failures, refusals and `Retry-After`, and the
// pause for a session to renew.
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import { queueOrder, type QueuedEntry, type QueueStore } from '../src/outbox/entry.js';
import { createSender, type Sender, type SenderEvent } from '../src/outbox/sender.js';
import { RETRY_FIRST, backoff } from '../src/sync-policy.js';

// No other tab in a test; a channel would also keep Node.js running.
(globalThis as { BroadcastChannel?: unknown }).BroadcastChannel = undefined;

interface Item extends QueuedEntry {
  id: string;
  owner?: string;
}

function memoryStore(): QueueStore<Item> & { map: Map<string, Item> } {
  const map = new Map<string, Item>();
  const copy = (x: Item): Item => structuredClone(x);
  return {
    map,
    key: (e) => e.id,
    all: async () => [...map.values()].map(copy).sort(queueOrder),
    get: async (k) => (map.has(k) ? copy(map.get(k)!) : undefined),
    put: async (e) => void map.set(e.id, copy(e)),
    remove: async (k) => void map.delete(k),
  };
}

let n = 0;
function item(id: string, extra: Partial<Item> = {}): Item {
  n += 1;
  return { id, created_at: '2026-05-01T10:00:00.000Z', seq: n, attempts: 0, next_attempt_at: 0, ...extra };
}

class Problem extends Error {
  constructor(public status: number, public code: string, public retryAfterMs: number | null = null) {
    super(`${status} ${code}`);
  }
  get permanent(): boolean {
    return this.status >= 400 && this.status < 500 && ![401, 408, 425, 429].includes(this.status);
  }
}

const senders: Sender<Item, string>[] = [];
afterEach(() => senders.splice(0).forEach((s) => s.stop()));

function setup(answer: (e: Item) => Promise<void> | void, opts: { ready?: (e: Item) => boolean } = {}) {
  const store = memoryStore();
  const sent: string[] = [];
  const events: SenderEvent<Item, string>[] = [];
  const sender = createSender<Item, string>({
    name: 'test-outbox',
    store,
    describe: (e) => String(e),
    pauses: (e) => e instanceof Problem && e.status === 401,
    ready: opts.ready,
    async send(e) {
      await answer(e);
      sent.push(e.id);
      await store.remove(e.id);
      return `ok ${e.id}`;
    },
  });
  senders.push(sender);
  sender.onEvent((e) => events.push(e));
  return { store, sent, events, sender };
}

test('entries go oldest first, each once, and leave the outbox when stored', async () => {
  const { store, sent, events, sender } = setup(() => {});
  await store.put(item('b', { created_at: '2026-05-01T10:00:01.000Z' }));
  await store.put(item('a'));
  await store.put(item('c', { created_at: '2026-05-01T10:00:01.000Z' }));
  await sender.syncNow(true);
  await sender.syncNow(true);
  assert.deepEqual(sent, ['a', 'b', 'c']);
  assert.equal(store.map.size, 0);
  assert.deepEqual(events.filter((e) => e.type === 'sent').map((e) => (e as { result: string }).result), ['ok a', 'ok b', 'ok c']);
});

test('a network failure counts an attempt, backs off, and holds the entries behind it', async () => {
  let down = true;
  const { store, sent, sender } = setup(() => {
    if (down) throw new Error('offline');
  });
  await store.put(item('a-0000'));
  await store.put(item('b-ffff'));
  const before = Date.now();
  await sender.syncNow(true);
  const a = store.map.get('a-0000')!;
  const b = store.map.get('b-ffff')!;
  assert.equal(a.attempts, 1);
  assert.equal(a.last_error, 'Error: offline');
  assert.ok(a.next_attempt_at >= before + backoff(1, 'a-0000') && a.next_attempt_at <= Date.now() + backoff(1, 'a-0000'));
  assert.equal(b.attempts, 0, 'the round stopped at the first failure');
  assert.equal(b.next_attempt_at, a.next_attempt_at, 'the next entry waits for the failed one');
  // Not due yet: a plain round sends nothing; a forced one (the `online` event) sends all.
  down = false;
  await sender.syncNow(false);
  assert.deepEqual(sent, []);
  await sender.syncNow(true);
  assert.deepEqual(sent, ['a-0000', 'b-ffff']);
});

test('a refusal is kept, marked failed, never sent again, and the others go on', async () => {
  const tries: string[] = [];
  const { store, sent, sender } = setup((e) => {
    tries.push(e.id);
    if (e.id === 'a') throw new Problem(409, 'request-closed');
  });
  await store.put(item('a'));
  await store.put(item('b'));
  await sender.syncNow(true);
  await sender.syncNow(true);
  assert.deepEqual(sent, ['b']);
  assert.deepEqual(tries, ['a', 'b']);
  const a = store.map.get('a')!;
  assert.deepEqual(a.failed, { code: 'request-closed', message: '409 request-closed', status: 409 });
  assert.equal(a.attempts, 1);
});

test('Retry-After replaces the back-off, bounded below by the first step', async () => {
  const { store, sender } = setup(() => {
    throw new Problem(503, 'server-busy', 0);
  });
  await store.put(item('a'));
  const before = Date.now();
  await sender.syncNow(true);
  const a = store.map.get('a')!;
  assert.ok(a.next_attempt_at >= before + RETRY_FIRST && a.next_attempt_at <= Date.now() + RETRY_FIRST);
  assert.equal(a.failed, undefined);
});

test('an ended session pauses everything until resume, without counting an attempt', async () => {
  let loggedIn = false;
  const { store, sent, events, sender } = setup(() => {
    if (!loggedIn) throw new Problem(401, 'unauthenticated');
  });
  await store.put(item('a'));
  await store.put(item('b'));
  await sender.syncNow(true);
  assert.equal(sender.paused(), true);
  assert.ok(events.some((e) => e.type === 'paused'));
  assert.equal(store.map.get('a')!.attempts, 0);
  assert.equal(store.map.get('a')!.failed, undefined);
  await sender.syncNow(true);
  assert.deepEqual(sent, []);
  loggedIn = true;
  await sender.resume();
  assert.deepEqual(sent, ['a', 'b']);
  assert.equal(sender.paused(), false);
});

test('entries that are not ready wait untouched, the others go', async () => {
  const { store, sent, sender } = setup(() => {}, { ready: (e) => e.owner !== 'someone else' });
  await store.put(item('a', { owner: 'someone else' }));
  await store.put(item('b', { owner: 'me' }));
  await sender.syncNow(true);
  assert.deepEqual(sent, ['b']);
  assert.equal(store.map.get('a')!.attempts, 0);
});

test('an entry queued while a round runs is sent by a second round', async () => {
  let release: () => void = () => {};
  const gate = new Promise<void>((r) => (release = r));
  const { store, sent, sender } = setup(async (e) => {
    if (e.id === 'a') await gate;
  });
  await store.put(item('a'));
  const first = sender.syncNow(true);
  await new Promise((r) => setTimeout(r, 5));
  await sender.enqueue(item('b'));
  release();
  await first;
  assert.deepEqual(sent, ['a', 'b']);
});
