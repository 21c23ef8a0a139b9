// The send loop of an outbox, following the client sync policy (docs/sync.md, sync-policy.ts):
// entries go one at a time, oldest first; a retried failure stops the round and holds the
// others until that entry's next attempt (no network, or a busy server, would meet them too);
// a refusal concerns its entry only, which is kept, marked failed, and never sent again by
// itself. Triggers: a new entry, the `online` event, the page becoming visible, and a timer
// set to the earliest next attempt. One sender at a time across tabs (Web Locks when the
// browser has them); a second send of the same entry is harmless anyway, since every entry
// carries the id the server deduplicates on.
//
// The citizen app (reports, "me too") and the back office's field view (actions on site) each
// make one with their own store and `send`.
import { RETRY_MAX, retryDelay } from '../sync-policy.js';
import type { QueuedEntry, QueueStore } from './entry.js';

export type SenderEvent<T, R> =
  | { type: 'changed' }
  | { type: 'sent'; entry: T; result: R }
  | { type: 'sending'; key: string | null }
  /** Sending stopped until `resume()`: e.g. the session ended and someone must log in again. */
  | { type: 'paused'; error: unknown };

export interface SenderOptions<T extends QueuedEntry, R> {
  /** The Web Lock's and the BroadcastChannel's name: one per outbox. */
  name: string;
  store: QueueStore<T>;
  /**
   * Sends one entry. On success it must also take the entry out of the store (with whatever it
   * records, in one transaction when it can), and return what the listeners get. It throws
   * when the entry was not stored by the server.
   */
  send(entry: T): Promise<R>;
  /** The text kept on an entry after a failure. */
  describe(error: unknown): string;
  /** Whether the server refused the entry for good. Default: an `ApiError` that is `permanent`. */
  refused?(error: unknown): boolean;
  /** Whether the error stops all sending until `resume()` (the entry's attempts do not grow). */
  pauses?(error: unknown): boolean;
  /** Whether this entry may be sent now; the others wait, untouched. Default: all. */
  ready?(entry: T): boolean;
  /** While the browser says it is offline, how often to look again anyway (ms). */
  offlinePollMs?: number;
}

export interface Sender<T extends QueuedEntry, R> {
  /** Stores the entry durably, then tries to send it. */
  enqueue(entry: T): Promise<void>;
  /** Sends what is due now (everything when `force`), then arms the timer for the rest. */
  syncNow(force?: boolean): Promise<void>;
  /** Listens to the triggers and sends what waits. */
  start(): void;
  /** Stops the triggers and the timer (logging out, tests). */
  stop(): void;
  /** Ends a pause (after logging in again) and sends everything now. */
  resume(): Promise<void>;
  paused(): boolean;
  onEvent(listener: (e: SenderEvent<T, R>) => void): () => void;
  /** The key of the entry being sent, if any. */
  sendingKey(): string | null;
}

interface WithCode {
  permanent?: unknown;
  retryAfterMs?: unknown;
  code?: unknown;
  message?: unknown;
  status?: unknown;
}

/** Duck-typed so that this module needs no `ApiError` (and no DOM) to be tested. */
function isPermanent(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as WithCode).permanent === true;
}

function retryAfterOf(e: unknown): number | null {
  const v = typeof e === 'object' && e !== null ? (e as WithCode).retryAfterMs : null;
  return typeof v === 'number' ? v : null;
}

function failureOf(e: unknown, describe: (e: unknown) => string): { code: string; message: string; status?: number } {
  const w = (typeof e === 'object' && e !== null ? e : {}) as WithCode;
  const code = typeof w.code === 'string' ? w.code : 'refused';
  const message = typeof w.message === 'string' && w.message ? w.message : describe(e);
  return typeof w.status === 'number' ? { code, message, status: w.status } : { code, message };
}

const online = () => globalThis.navigator?.onLine !== false;

export function createSender<T extends QueuedEntry, R>(opts: SenderOptions<T, R>): Sender<T, R> {
  const { store } = opts;
  const refused = opts.refused ?? isPermanent;
  const pauses = opts.pauses ?? (() => false);
  const ready = opts.ready ?? (() => true);
  const offlinePoll = opts.offlinePollMs ?? 30_000;
  const listeners = new Set<(e: SenderEvent<T, R>) => void>();
  const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel(opts.name) : null;
  channel?.addEventListener('message', () => emit({ type: 'changed' }, false));

  let sending: string | null = null;
  let running = false;
  let again = false;
  let againForce = false;
  let isPaused = false;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let started = false;

  function emit(e: SenderEvent<T, R>, broadcast = true): void {
    for (const l of listeners) {
      try {
        l(e);
      } catch (err) {
        console.error(err);
      }
    }
    if (broadcast && (e.type === 'changed' || e.type === 'sent')) channel?.postMessage('changed');
  }

  async function sendOne(entry: T): Promise<void> {
    sending = store.key(entry);
    emit({ type: 'sending', key: sending }, false);
    try {
      const result = await opts.send(entry);
      emit({ type: 'sent', entry, result });
    } finally {
      sending = null;
      emit({ type: 'sending', key: null }, false);
    }
  }

  async function runQueue(force: boolean): Promise<void> {
    // navigator.onLine is reliable when false: no point trying; the `online` event will come.
    if (!online() || isPaused) return;
    const entries = await store.all();
    for (const stored of entries) {
      if (stored.failed || !ready(stored)) continue;
      if (!force && stored.next_attempt_at > Date.now()) continue;
      // Read again: another tab may have sent it meanwhile.
      const key = store.key(stored);
      const entry = await store.get(key);
      if (!entry || entry.failed) continue;
      try {
        await sendOne(entry);
      } catch (e) {
        entry.last_error = opts.describe(e);
        if (pauses(e)) {
          // Not the entry's fault: its attempts stay as they are, and nothing more goes out.
          if (await store.get(key)) await store.put(entry);
          isPaused = true;
          emit({ type: 'paused', error: e });
          emit({ type: 'changed' });
          return;
        }
        entry.attempts += 1;
        const isRefusal = refused(e);
        if (isRefusal) entry.failed = failureOf(e, opts.describe);
        else entry.next_attempt_at = Date.now() + retryDelay(entry.attempts, key, retryAfterOf(e));
        // Only write back if it is still there (not discarded, not sent by another tab).
        if (await store.get(key)) await store.put(entry);
        emit({ type: 'changed' });
        if (isRefusal) continue;
        // Anything else than a refusal (no network, a busy or unwell server) would meet the
        // others too: hold them until this one's next attempt.
        for (const rest of entries) {
          const k = store.key(rest);
          if (k === key || rest.failed) continue;
          const r = await store.get(k);
          if (r && !r.failed && r.next_attempt_at < entry.next_attempt_at) {
            r.next_attempt_at = entry.next_attempt_at;
            await store.put(r);
          }
        }
        return;
      }
    }
  }

  async function withLock(fn: () => Promise<void>): Promise<void> {
    const locks = (globalThis.navigator as (Navigator & { locks?: LockManager }) | undefined)?.locks;
    if (locks?.request) await locks.request(opts.name, fn);
    else await fn();
  }

  async function syncNow(force = false): Promise<void> {
    if (running) {
      again = true;
      againForce ||= force;
      return;
    }
    running = true;
    try {
      for (;;) {
        await withLock(() => runQueue(force));
        if (!again) break;
        force = againForce;
        again = againForce = false;
      }
    } catch (e) {
      console.error(`outbox ${opts.name}`, e);
    } finally {
      running = false;
      await arm();
    }
  }

  async function arm(): Promise<void> {
    if (timer) clearTimeout(timer);
    timer = null;
    if (!started || isPaused) return;
    const pending = (await store.all()).filter((e) => !e.failed && ready(e));
    if (!pending.length) return;
    const next = Math.min(...pending.map((e) => e.next_attempt_at));
    let delay = Math.max(250, Math.min(next - Date.now(), RETRY_MAX));
    if (!online()) delay = Math.max(delay, offlinePoll);
    timer = setTimeout(() => void syncNow(false), delay);
  }

  const onOnline = () => void syncNow(true);
  const onVisible = () => {
    if (document.visibilityState === 'visible') void syncNow(false);
  };

  return {
    async enqueue(entry) {
      await store.put(entry);
      emit({ type: 'changed' });
      void syncNow(true);
    },
    syncNow,
    start() {
      if (started) return;
      started = true;
      globalThis.addEventListener?.('online', onOnline);
      globalThis.document?.addEventListener('visibilitychange', onVisible);
      void syncNow(true);
    },
    stop() {
      started = false;
      globalThis.removeEventListener?.('online', onOnline);
      globalThis.document?.removeEventListener('visibilitychange', onVisible);
      if (timer) clearTimeout(timer);
      timer = null;
    },
    async resume() {
      isPaused = false;
      await syncNow(true);
    },
    paused: () => isPaused,
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    sendingKey: () => sending,
  };
}
