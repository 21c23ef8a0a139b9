// Sends the outbox with the shared send loop (@guichet/web/outbox/sender: the client sync
// policy of docs/sync.md, its triggers and its Web Lock). What is the citizen app's own: how a
// report or a "me too" is sent, and that a receipt moves it to `mine` in the same transaction.
import { createSender } from '@guichet/web/outbox/sender';
import { isReceipt } from '@guichet/web/sync-policy';
import { token } from './account';
import { ApiError, NetworkError, postReport, postRequest, postSupport, type Receipt, type RequestReceipt } from './api';
import { outbox, type MyRequest, type OutboxItem } from './db';
import { t } from './i18n';

export type SyncEvent =
  | { type: 'changed' }
  | { type: 'sent'; item: OutboxItem; mine: MyRequest }
  | { type: 'sending'; id: string | null };

function describe(e: unknown): string {
  if (e instanceof NetworkError) return t('error.network');
  if (e instanceof ApiError) return e.permanent ? e.message || e.code : t('error.server', { status: e.status });
  return String(e);
}

const sender = createSender<OutboxItem, MyRequest>({
  // The same lock and channel names as before the loop was shared: tabs of an older and a
  // newer version still take turns.
  name: 'guichet-outbox',
  store: outbox,
  describe,
  async send(item) {
    const res = await post(item);
    if (!isReceipt(res.body)) throw new NetworkError(`HTTP ${res.status} without a receipt`);
    return outbox.markSent(item, res.body);
  },
});

async function post(item: OutboxItem): Promise<{ status: number; body: Receipt | RequestReceipt }> {
  try {
    if (item.kind === 'report') return await postReport(item.report!, item.photos ?? []);
    if (item.kind === 'request') return await postRequest(item.request!, item.files ?? [], token());
    return await postSupport(item.request_number!, item.client_id, item.email);
  } catch (e) {
    // A refused form keeps the fields the server named, for the citizen to correct: the
    // sender stores this very item with its refusal.
    if (e instanceof ApiError && e.errors.length) item.field_errors = e.errors;
    throw e;
  }
}

export function onSync(listener: (e: SyncEvent) => void): () => void {
  return sender.onEvent((e) => {
    if (e.type === 'sent') listener({ type: 'sent', item: e.entry, mine: e.result });
    else if (e.type === 'sending') listener({ type: 'sending', id: e.key });
    else if (e.type === 'changed') listener(e);
  });
}

export const sendingId = (): string | null => sender.sendingKey();
export const syncNow = (force = false): Promise<void> => sender.syncNow(force);
export const startSync = (): void => sender.start();
export const enqueue = (item: OutboxItem): Promise<void> => sender.enqueue(item);
