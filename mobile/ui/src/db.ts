// IndexedDB storage. Two stores:
// - `outbox`: what must reach the server, saved BEFORE any network attempt (reports with their
//   photo Blobs, "me too"s). An entry leaves the outbox in the same transaction that records its
//   receipt in `mine`, so a killed page either resends (harmless: idempotent by client_id) or has
//   the receipt; never both lost, never shown twice.
// - `mine`: the requests this device filed or supported, with their tracking codes and the last
//   public view fetched (shown offline).
import type { PublicView, Receipt, ReportPayload } from './api';

export interface OutboxItem {
  client_id: string;
  kind: 'report' | 'support';
  created_at: string;
  category: string;
  category_title: string;
  place_label: string;
  report?: ReportPayload;
  photos?: Blob[];
  request_number?: string;
  email?: string;
  attempts: number;
  next_attempt_at: number;
  last_error?: string;
  /** Set when the server refused it for good (4xx); it is then kept for the user to see. */
  failed?: { code: string; message: string };
}

export interface MyRequest {
  client_id: string;
  kind: 'report' | 'support';
  request_number: string;
  tracking_code: string;
  category: string;
  category_title: string;
  place_label: string;
  filed_at: string;
  sent_at: string;
  receipt: Receipt;
  view?: PublicView;
  view_at?: string;
}

const DB_NAME = 'guichet';
const DB_VERSION = 1;
let dbPromise: Promise<IDBDatabase> | null = null;

function open(): Promise<IDBDatabase> {
  if (dbPromise) return dbPromise;
  dbPromise = new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'client_id' });
      if (!db.objectStoreNames.contains('mine')) db.createObjectStore('mine', { keyPath: 'client_id' });
    };
    req.onsuccess = () => {
      const db = req.result;
      db.onversionchange = () => {
        db.close();
        dbPromise = null;
      };
      resolve(db);
    };
    req.onerror = () => {
      dbPromise = null;
      reject(req.error);
    };
    req.onblocked = () => reject(new Error('database blocked by another tab'));
  });
  return dbPromise;
}

function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

function result<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function all<T>(store: 'outbox' | 'mine'): Promise<T[]> {
  const db = await open();
  const tx = db.transaction(store, 'readonly');
  return result(tx.objectStore(store).getAll() as IDBRequest<T[]>);
}

async function get<T>(store: 'outbox' | 'mine', key: string): Promise<T | undefined> {
  const db = await open();
  const tx = db.transaction(store, 'readonly');
  return result(tx.objectStore(store).get(key) as IDBRequest<T | undefined>);
}

async function put(store: 'outbox' | 'mine', value: unknown): Promise<void> {
  const db = await open();
  const tx = db.transaction(store, 'readwrite');
  tx.objectStore(store).put(value);
  await done(tx);
}

const byCreated = (a: OutboxItem, b: OutboxItem) => a.created_at.localeCompare(b.created_at);

export const outbox = {
  all: async () => (await all<OutboxItem>('outbox')).sort(byCreated),
  get: (id: string) => get<OutboxItem>('outbox', id),
  /** Resolves once the item is durably committed. */
  put: (item: OutboxItem) => put('outbox', item),
  async remove(id: string): Promise<void> {
    const db = await open();
    const tx = db.transaction('outbox', 'readwrite');
    tx.objectStore('outbox').delete(id);
    await done(tx);
  },
  /** Moves an item from the outbox to `mine`, atomically. */
  async markSent(item: OutboxItem, receipt: Receipt): Promise<MyRequest> {
    const mine: MyRequest = {
      client_id: item.client_id,
      kind: item.kind,
      request_number: receipt.request_number,
      tracking_code: receipt.tracking_code,
      category: item.category,
      category_title: item.category_title,
      place_label: item.place_label,
      filed_at: item.created_at,
      sent_at: new Date().toISOString(),
      receipt,
    };
    const db = await open();
    const tx = db.transaction(['outbox', 'mine'], 'readwrite');
    tx.objectStore('outbox').delete(item.client_id);
    tx.objectStore('mine').put(mine);
    await done(tx);
    return mine;
  },
};

export const mine = {
  all: async () => (await all<MyRequest>('mine')).sort((a, b) => b.filed_at.localeCompare(a.filed_at)),
  get: (id: string) => get<MyRequest>('mine', id),
  put: (r: MyRequest) => put('mine', r),
};

/** Asks the browser not to evict our storage under pressure (best effort). */
export async function persistStorage(): Promise<void> {
  try {
    if (navigator.storage?.persist && !(await navigator.storage.persisted())) await navigator.storage.persist();
  } catch {
    /* not supported */
  }
}
