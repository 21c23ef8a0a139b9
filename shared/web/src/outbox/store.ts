// An outbox kept in an IndexedDB object store, oldest entry first.
import type { QueuedEntry, QueueStore } from './entry.js';
import { queueOrder } from './entry.js';
import { keyedStore } from './idb.js';

export function indexedDbQueue<T extends QueuedEntry>(open: () => Promise<IDBDatabase>, storeName: string, key: (entry: T) => string): QueueStore<T> {
  const store = keyedStore<T>(open, storeName);
  return {
    key,
    all: async () => (await store.all()).sort(queueOrder),
    get: (k) => store.get(k),
    put: (entry) => store.put(entry),
    remove: (k) => store.remove(k),
  };
}
