// What every outbox entry carries besides its own payload: when it was queued, how its
// attempts went (docs/sync.md), and whether the server refused it for good.

export interface QueuedEntry {
  /** ISO 8601; entries are sent oldest first. */
  created_at: string;
  /** Breaks ties between entries queued in the same millisecond (queue order). */
  seq?: number;
  attempts: number;
  /** Epoch ms of the next automatic attempt. */
  next_attempt_at: number;
  last_error?: string;
  /** Set when the server refused it for good; it is then kept for the user to see, never resent. */
  failed?: { code: string; message: string; status?: number };
}

/** An outbox: the entries, each under the key `key` gives it. */
export interface QueueStore<T extends QueuedEntry> {
  key(entry: T): string;
  /** Every entry, oldest first. */
  all(): Promise<T[]>;
  get(key: string): Promise<T | undefined>;
  /** Resolves once the entry is durably committed. */
  put(entry: T): Promise<void>;
  remove(key: string): Promise<void>;
}

/** Queue order: by creation time, then by sequence number. */
export function queueOrder(a: QueuedEntry, b: QueuedEntry): number {
  return a.created_at.localeCompare(b.created_at) || (a.seq ?? 0) - (b.seq ?? 0);
}

let lastSeq = 0;
/** A number larger than any given before on this page, so entries keep the order they were queued in. */
export function nextSeq(now = Date.now()): number {
  lastSeq = Math.max(lastSeq + 1, now * 1000);
  return lastSeq;
}
