// The platform of a plain browser and of the installed PWA: the IndexedDB outbox (db.ts), its
// fetch sender (sync.ts), photos shrunk with a canvas (photos.ts) and navigator.geolocation.
// A thin wrapper: the behaviour is theirs, unchanged.
import { mine, outbox, persistStorage, type OutboxItem } from './db';
import { preparePhoto } from '@guichet/web/photos';
import type { PendingEntry, Platform } from './platform';
import { enqueue, onSync, sendingId, startSync, syncNow } from './sync';

function pending(item: OutboxItem): PendingEntry {
  return {
    client_id: item.client_id,
    kind: item.kind,
    created_at: item.created_at,
    category: item.category,
    category_title: item.category_title,
    place_label: item.place_label,
    request_number: item.request_number,
    photo_count: item.photos?.length ?? item.files?.length ?? 0,
    attempts: item.attempts,
    next_attempt_at: item.next_attempt_at,
    last_error: item.last_error,
    failed: item.failed,
    field_errors: item.field_errors,
  };
}

export const browserPlatform: Platform = {
  name: 'browser',

  start() {
    startSync();
    void persistStorage();
  },

  preparePhoto,

  enqueueReport({ report, photos, category_title, place_label }) {
    return enqueue({
      client_id: report.client_id,
      kind: 'report',
      created_at: new Date().toISOString(),
      category: report.category,
      category_title,
      place_label,
      report,
      photos,
      attempts: 0,
      next_attempt_at: Date.now(),
    });
  },

  enqueueSupport(s) {
    return enqueue({
      client_id: s.client_id,
      kind: 'support',
      created_at: new Date().toISOString(),
      category: s.category,
      category_title: s.category_title,
      place_label: s.place_label,
      request_number: s.request_number,
      email: s.email,
      attempts: 0,
      next_attempt_at: Date.now(),
    });
  },

  enqueueRequest({ request, files, title }) {
    return enqueue({
      client_id: request.client_id,
      kind: 'request',
      created_at: new Date().toISOString(),
      category: request.demarche,
      category_title: title,
      place_label: '',
      request,
      files,
      attempts: 0,
      next_attempt_at: Date.now(),
    });
  },

  async pendingEntries() {
    return (await outbox.all()).map(pending);
  },

  async pendingEntry(clientId) {
    const item = await outbox.get(clientId);
    return item && pending(item);
  },

  discard: (clientId) => outbox.remove(clientId),
  sentRequests: () => mine.all(),
  sentRequest: (clientId) => mine.get(clientId),
  saveView: (request) => mine.put(request),
  syncNow: (force = false) => syncNow(force),
  sendingId,
  onOutbox: (listener) => onSync(listener),

  watchPosition(onFix, onFailure) {
    if (!('geolocation' in navigator)) {
      // Reported after the return, like every other outcome of a watch.
      queueMicrotask(() => onFailure('unsupported'));
      return () => undefined;
    }
    const id = navigator.geolocation.watchPosition(
      (pos) => onFix({ lat: pos.coords.latitude, lon: pos.coords.longitude, accuracy: pos.coords.accuracy, at: pos.timestamp }),
      (err) => onFailure(err.code === err.PERMISSION_DENIED ? 'denied' : 'unavailable'),
      { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 },
    );
    return () => navigator.geolocation.clearWatch(id);
  },
};
