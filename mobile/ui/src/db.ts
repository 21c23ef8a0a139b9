// IndexedDB storage. Three stores:
// - `outbox`: what must reach the server, saved BEFORE any network attempt (reports with their
//   photo Blobs, "me too"s). An entry leaves the outbox in the same transaction that records its
//   receipt in `mine`, so a killed page either resends (harmless: idempotent by client_id) or has
//   the receipt; never both lost, never shown twice.
// - `mine`: the requests this device filed or supported, with their tracking codes and the last
//   public view fetched (shown offline).
// - `draft_files`: the files picked in a démarche's form not sent yet, by démarche, so that a
//   reload or the detour through the login finds them again (the answers' draft is text, in
//   localStorage: see demarches/drafts.ts).
// The database helpers, the queue and its entry's bookkeeping are shared with the back office's
// field view (@guichet/web/outbox).
import type { FieldError } from '@guichet/web/api';
import type { QueuedEntry } from '@guichet/web/outbox/entry';
import { database, done, keyedStore } from '@guichet/web/outbox/idb';
import { indexedDbQueue } from '@guichet/web/outbox/store';
import type { PublicView, QueuedFile, Receipt, ReportPayload, RequestPayload, RequestReceipt } from './api';

/** Reports, "me too"s and démarches filed with a form. */
export type EntryKind = 'report' | 'support' | 'request';

export interface OutboxItem extends QueuedEntry {
  client_id: string;
  kind: EntryKind;
  created_at: string;
  category: string;
  category_title: string;
  place_label: string;
  report?: ReportPayload;
  photos?: Blob[];
  request_number?: string;
  email?: string;
  /** A démarche: the filing and its files (sent with the account's token of the moment). */
  request?: RequestPayload;
  files?: QueuedFile[];
  /** The fields the server refused, when it did. */
  field_errors?: FieldError[];
}

export interface MyRequest {
  client_id: string;
  kind: EntryKind;
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
const DB_VERSION = 2;

const open = database(DB_NAME, DB_VERSION, (db) => {
  if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'client_id' });
  if (!db.objectStoreNames.contains('mine')) db.createObjectStore('mine', { keyPath: 'client_id' });
  if (!db.objectStoreNames.contains('draft_files')) db.createObjectStore('draft_files', { keyPath: 'code' });
});

const queue = indexedDbQueue<OutboxItem>(open, 'outbox', (item) => item.client_id);
const mineStore = keyedStore<MyRequest>(open, 'mine');

/** The files picked in one démarche's form, by field id (File keeps its name and type). */
export interface DraftFiles {
  code: string;
  files: Record<string, File[]>;
}

export const draftFiles = keyedStore<DraftFiles>(open, 'draft_files');

export const outbox = {
  ...queue,
  /** Moves an item from the outbox to `mine`, atomically. */
  async markSent(item: OutboxItem, answer: Receipt | RequestReceipt): Promise<MyRequest> {
    const receipt = 'report_count' in answer ? answer : requestReceipt(answer);
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

/** A démarche's acknowledgement in the shape "my requests" shows for every kind. */
export function requestReceipt(r: RequestReceipt): Receipt {
  return {
    request_number: r.request_number,
    tracking_code: r.tracking_code,
    status: r.status_label,
    phase: r.phase,
    deduplicated: false,
    report_count: 1,
    photos: [],
    received_at: r.received_at,
    status_url: r.status_url,
    service: r.service ?? null,
    due_at: r.due_at ?? null,
  };
}

export const mine = {
  all: async () => (await mineStore.all()).sort((a, b) => b.filed_at.localeCompare(a.filed_at)),
  get: (id: string) => mineStore.get(id),
  byNumber: async (number: string) => (await mineStore.all()).find((r) => r.request_number === number && r.kind !== 'support'),
  put: (r: MyRequest) => mineStore.put(r),
};

/** Asks the browser not to evict our storage under pressure (best effort). */
export async function persistStorage(): Promise<void> {
  try {
    if (navigator.storage?.persist && !(await navigator.storage.persisted())) await navigator.storage.persist();
  } catch {
    /* not supported */
  }
}
