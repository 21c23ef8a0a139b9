// The few IndexedDB helpers every offline store needs: open a database once (upgrading it with
// the caller's function), and a transaction or a request as a promise.

/** Opens `name` at `version` once per page; `upgrade` creates what a new version needs. */
export function database(name: string, version: number, upgrade: (db: IDBDatabase) => void): () => Promise<IDBDatabase> {
  let opening: Promise<IDBDatabase> | null = null;
  return () => {
    if (opening) return opening;
    opening = new Promise((resolve, reject) => {
      const req = indexedDB.open(name, version);
      req.onupgradeneeded = () => upgrade(req.result);
      req.onsuccess = () => {
        const db = req.result;
        // Another tab with a newer version asks us to let go: close, and reopen on next use.
        db.onversionchange = () => {
          db.close();
          opening = null;
        };
        resolve(db);
      };
      req.onerror = () => {
        opening = null;
        reject(req.error);
      };
      req.onblocked = () => {
        opening = null;
        reject(new Error('database blocked by another tab'));
      };
    });
    return opening;
  };
}

/** Resolves once the transaction is committed (durably written), rejects if it aborts. */
export function done(tx: IDBTransaction): Promise<void> {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error ?? new Error('transaction aborted'));
  });
}

export function result<T>(req: IDBRequest<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A simple keyed store: every value, one value, write one, delete one. */
export interface KeyedStore<T> {
  all(): Promise<T[]>;
  get(key: string): Promise<T | undefined>;
  /** Resolves once the value is durably committed. */
  put(value: T): Promise<void>;
  remove(key: string): Promise<void>;
}

export function keyedStore<T>(open: () => Promise<IDBDatabase>, storeName: string): KeyedStore<T> {
  return {
    async all() {
      const tx = (await open()).transaction(storeName, 'readonly');
      return result(tx.objectStore(storeName).getAll() as IDBRequest<T[]>);
    },
    async get(key) {
      const tx = (await open()).transaction(storeName, 'readonly');
      return result(tx.objectStore(storeName).get(key) as IDBRequest<T | undefined>);
    },
    async put(value) {
      const tx = (await open()).transaction(storeName, 'readwrite');
      tx.objectStore(storeName).put(value);
      await done(tx);
    },
    async remove(key) {
      const tx = (await open()).transaction(storeName, 'readwrite');
      tx.objectStore(storeName).delete(key);
      await done(tx);
    },
  };
}
