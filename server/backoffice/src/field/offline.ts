// Keeps a loaded round usable without a network: every stop's detail in IndexedDB, and the
// thumbnails (the round's and the details') in the cache the service worker serves /media/
// from. Called after each load of the round; what is kept already is read again (the request
// may have changed since).
import * as api from '../api';
import type { Round } from './round-api';
import { saved } from './store';

/** Must match MEDIA in field/sw.js. */
export const MEDIA_CACHE = 'guichet-field-media';

/** Puts the photos in the service worker's cache (same-origin ones: the only ones it serves). */
export async function cacheMedia(urls: string[]): Promise<void> {
  if (typeof caches === 'undefined') return;
  const cache = await caches.open(MEDIA_CACHE);
  for (const u of new Set(urls)) {
    const url = new URL(u, location.href);
    if (url.origin !== location.origin) continue;
    try {
      if (!(await cache.match(url.href))) await cache.add(url.href);
    } catch {
      /* a missing photo is no reason to stop */
    }
  }
}

export function thumbnailsOf(d: api.RequestDetail): string[] {
  return [...photosOf(d, false), ...photosOf(d, true)].map((p) => p.thumbnail_url);
}

/** The report's photos, or the ones taken after the work. */
export function photosOf(d: api.RequestDetail, after: boolean): api.PhotoLink[] {
  const own = (d.photos ?? []).filter((p) => (p.kind === 'after') === after);
  return after ? [...(d.after_photos ?? []), ...own] : [...d.reports.flatMap((r) => r.photos ?? []), ...own];
}

/**
 * Reads and keeps every stop's detail, two at a time, then the thumbnails. `progress` gets the
 * number of details kept so far. Resolves with that number.
 */
export async function keepForOffline(round: Round, agentId: number, progress: (done: number) => void): Promise<number> {
  const numbers = round.stops.map((s) => s.request_number);
  let next = 0;
  let kept = 0;
  const thumbs: string[] = round.stops.map((s) => s.thumbnail_url).filter((u): u is string => !!u);
  const worker = async () => {
    while (next < numbers.length) {
      const number = numbers[next++];
      try {
        const detail = await api.detail(number);
        await saved.saveDetail({ number, agent_id: agentId, loaded_at: Date.now(), detail });
        thumbs.push(...thumbnailsOf(detail));
        kept += 1;
        progress(kept);
      } catch {
        /* kept from an earlier load, or read on the spot when the network is there */
      }
    }
  };
  await Promise.all([worker(), worker()]);
  await cacheMedia(thumbs);
  return kept;
}

/** The geolocated démarches, for a report filed offline. */
export async function keepCatalogue(): Promise<void> {
  try {
    await saved.saveCatalogue((await api.catalogue()).filter((d) => d.geolocated));
  } catch {
    /* the one kept before, if any */
  }
}
