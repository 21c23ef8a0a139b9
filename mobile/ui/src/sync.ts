// Sends the outbox, following the client sync policy (docs/sync.md, sync-policy.ts). Triggers: a
// new item, the `online` event, the page becoming visible, and a timer set to the earliest next
// attempt. One sender at a time across tabs (Web Locks when available); a second send of the same
// item would anyway be answered 200 with the first receipt (client_id).
import { ApiError, NetworkError, postReport, postSupport } from './api';
import { outbox, type MyRequest, type OutboxItem } from './db';
import { t } from './i18n';
import { RETRY_MAX, isReceipt, retryDelay } from './sync-policy';

type Listener = (e: SyncEvent) => void;
export type SyncEvent =
  | { type: 'changed' }
  | { type: 'sent'; item: OutboxItem; mine: MyRequest }
  | { type: 'sending'; id: string | null };

const listeners = new Set<Listener>();
const channel = typeof BroadcastChannel !== 'undefined' ? new BroadcastChannel('guichet-outbox') : null;
channel?.addEventListener('message', () => emit({ type: 'changed' }, false));

export function onSync(l: Listener): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function emit(e: SyncEvent, broadcast = true): void {
  for (const l of listeners) {
    try {
      l(e);
    } catch (err) {
      console.error(err);
    }
  }
  if (broadcast && e.type !== 'sending') channel?.postMessage('changed');
}

export let sendingId: string | null = null;
let running = false;
let again = false;
let againForce = false;
let timer: ReturnType<typeof setTimeout> | null = null;

/** While the browser says it is offline, how often to look again anyway (the `online` event may not come). */
const OFFLINE_POLL = 30_000;

function describe(e: unknown): string {
  if (e instanceof NetworkError) return t('error.network');
  if (e instanceof ApiError) return e.permanent ? e.message || e.code : t('error.server', { status: e.status });
  return String(e);
}

async function sendOne(item: OutboxItem): Promise<void> {
  sendingId = item.client_id;
  emit({ type: 'sending', id: item.client_id }, false);
  try {
    const res =
      item.kind === 'report'
        ? await postReport(item.report!, item.photos ?? [])
        : await postSupport(item.request_number!, item.client_id, item.email);
    if (!isReceipt(res.body)) throw new NetworkError(`HTTP ${res.status} without a receipt`);
    const mine = await outbox.markSent(item, res.body);
    emit({ type: 'sent', item, mine });
  } finally {
    sendingId = null;
    emit({ type: 'sending', id: null }, false);
  }
}

async function runQueue(force: boolean): Promise<void> {
  // navigator.onLine is reliable when false: no point trying; the `online` event will come.
  if (navigator.onLine === false) return;
  const items = await outbox.all();
  for (const stored of items) {
    if (stored.failed) continue;
    if (!force && stored.next_attempt_at > Date.now()) continue;
    // Re-read: another tab may have sent it meanwhile.
    const item = await outbox.get(stored.client_id);
    if (!item || item.failed) continue;
    try {
      await sendOne(item);
    } catch (e) {
      item.attempts += 1;
      item.last_error = describe(e);
      const refused = e instanceof ApiError && e.permanent;
      if (refused) {
        item.failed = { code: e.code, message: e.message || e.code };
      } else {
        const retryAfter = e instanceof ApiError ? e.retryAfterMs : null;
        item.next_attempt_at = Date.now() + retryDelay(item.attempts, item.client_id, retryAfter);
      }
      // Only write back if it is still there (not deleted, not sent by another tab).
      if (await outbox.get(item.client_id)) await outbox.put(item);
      emit({ type: 'changed' });
      // A refusal concerns this item only. Anything else (no network, a busy or unwell server)
      // would meet the others too: hold them until this one's next attempt.
      if (!refused) {
        for (const rest of items) {
          if (rest.client_id === item.client_id || rest.failed) continue;
          const r = await outbox.get(rest.client_id);
          if (r && !r.failed && r.next_attempt_at < item.next_attempt_at) {
            r.next_attempt_at = item.next_attempt_at;
            await outbox.put(r);
          }
        }
        break;
      }
    }
  }
}

async function withLock(fn: () => Promise<void>): Promise<void> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (locks?.request) await locks.request('guichet-outbox', fn);
  else await fn();
}

/** Sends what is due now (everything when `force`), then arms the timer for the rest. */
export async function syncNow(force = false): Promise<void> {
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
    console.error('outbox sync', e);
  } finally {
    running = false;
    await arm();
  }
}

async function arm(): Promise<void> {
  if (timer) clearTimeout(timer);
  timer = null;
  const pending = (await outbox.all()).filter((i) => !i.failed);
  if (!pending.length) return;
  const next = Math.min(...pending.map((i) => i.next_attempt_at));
  let delay = Math.max(250, Math.min(next - Date.now(), RETRY_MAX));
  if (navigator.onLine === false) delay = Math.max(delay, OFFLINE_POLL);
  timer = setTimeout(() => void syncNow(false), delay);
}

export function startSync(): void {
  window.addEventListener('online', () => void syncNow(true));
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible') void syncNow(false);
  });
  void syncNow(true);
}

export async function enqueue(item: OutboxItem): Promise<void> {
  await outbox.put(item);
  emit({ type: 'changed' });
  void syncNow(true);
}
