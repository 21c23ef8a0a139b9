// What the field view keeps on the phone (IndexedDB `guichet-field`), so that a round loaded at
// the depot can be worked through without a network:
// - `outbox`: the actions made on site, until the server has them (or refuses them);
// - `round`: the last round loaded (one record), with when and from where;
// - `details`: each stop's detail as last read;
// - `meta`: the agent last logged in on this phone, and the catalogue's geolocated démarches
//   (for a report filed offline).
// The app shell and the photos are the service worker's (sw.js), not this store's.
import { database, done, keyedStore } from '@guichet/web/outbox/idb';
import { indexedDbQueue } from '@guichet/web/outbox/store';
import type { CatalogueEntry, Me, RequestDetail } from '../api';
import type { FieldAction } from './actions';
import type { Round, RoundFilters } from './round-api';

export interface SavedRound {
  key: 'current';
  agent_id: number;
  /** Epoch ms. */
  loaded_at: number;
  /** Where the order starts: the phone's position, or the city centre when it had none. */
  from: 'gps' | 'city';
  round: Round;
  /** The filters it was loaded with (none for a round kept by an older version). */
  filters?: RoundFilters;
}

export interface SavedDetail {
  number: string;
  agent_id: number;
  loaded_at: number;
  detail: RequestDetail;
}

interface Meta {
  key: string;
  value: unknown;
}

const open = database('guichet-field', 1, (db) => {
  if (!db.objectStoreNames.contains('outbox')) db.createObjectStore('outbox', { keyPath: 'id' });
  if (!db.objectStoreNames.contains('round')) db.createObjectStore('round', { keyPath: 'key' });
  if (!db.objectStoreNames.contains('details')) db.createObjectStore('details', { keyPath: 'number' });
  if (!db.objectStoreNames.contains('meta')) db.createObjectStore('meta', { keyPath: 'key' });
});

export const outboxStore = indexedDbQueue<FieldAction>(open, 'outbox', (a) => a.id);

const rounds = keyedStore<SavedRound>(open, 'round');
const details = keyedStore<SavedDetail>(open, 'details');
const meta = keyedStore<Meta>(open, 'meta');

export const saved = {
  round: () => rounds.get('current'),
  saveRound: (r: SavedRound) => rounds.put(r),
  detail: (number: string) => details.get(number),
  saveDetail: (d: SavedDetail) => details.put(d),
  /** The numbers whose detail is kept. */
  async detailNumbers(): Promise<Set<string>> {
    return new Set((await details.all()).map((d) => d.number));
  },

  /** Takes a stop out of the kept round (closed, or could not act: it left my round). */
  async dropStop(number: string): Promise<void> {
    const r = await rounds.get('current');
    if (!r || !r.round.stops.some((s) => s.request_number === number)) return;
    r.round = { ...r.round, stops: r.round.stops.filter((s) => s.request_number !== number) };
    await rounds.put(r);
  },

  async me(): Promise<Me | null> {
    return ((await meta.get('me'))?.value as Me | undefined) ?? null;
  },
  /**
   * Remembers who is logged in. Another agent than the last one: the round and details kept
   * were theirs and go (their actions stay in the outbox, and wait for their login).
   */
  async setMe(me: Me): Promise<void> {
    const before = await saved.me();
    if (before && before.id !== me.id) await saved.forgetWork();
    await meta.put({ key: 'me', value: me });
  },
  async forgetMe(): Promise<void> {
    await meta.remove('me');
  },
  /** Drops the round, the details and the catalogue (logging out, another agent). */
  async forgetWork(): Promise<void> {
    const db = await open();
    const tx = db.transaction(['round', 'details', 'meta'], 'readwrite');
    tx.objectStore('round').clear();
    tx.objectStore('details').clear();
    tx.objectStore('meta').delete('catalogue');
    await done(tx);
  },

  async catalogue(): Promise<CatalogueEntry[] | null> {
    return ((await meta.get('catalogue'))?.value as CatalogueEntry[] | undefined) ?? null;
  },
  saveCatalogue: (list: CatalogueEntry[]) => meta.put({ key: 'catalogue', value: list }),
};
