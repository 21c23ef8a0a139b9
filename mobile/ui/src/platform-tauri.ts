// The platform inside the Tauri app: the native core (mobile/core) through the shell's
// commands (mobile/src-tauri/src/lib.rs). The outbox is a SQLite file, photos are prepared in
// Rust and sending goes on in the background even while no screen is listening. Only loaded
// inside Tauri (see platform.ts).
import { Channel, invoke } from '@tauri-apps/api/core';
import { listen } from '@tauri-apps/api/event';
import { token } from './account';
import type { FieldError } from '@guichet/web/api';
import type { PublicView, Receipt, RequestReceipt } from './api';
import { requestReceipt, type MyRequest } from './db';
import type { Fix, OutboxEvent, PendingEntry, Platform, PositionFailure, ServerStatus } from './platform';

// ---- the core's shapes, as serde writes them ----

/** `guichet_shared::api::ReportSubmission`: absent options come back as null. */
interface CoreReport {
  client_id: string;
  category: string;
  lat: number;
  lon: number;
  accuracy_m: number | null;
  description: string;
  address: string | null;
  observed_at: string | null;
}

/** `guichet_mobile_core::outbox::Entry`. */
interface CoreEntry {
  client_id: string;
  kind: 'report' | 'support' | 'request';
  state: 'pending' | 'sent' | 'failed';
  report: CoreReport | null;
  support_of: string | null;
  /** A démarche filing as queued, and the démarche's title. */
  request: { demarche: string } | null;
  title: string | null;
  photo_count: number;
  created_at: string;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  error_code: string | null;
  field_errors: FieldError[];
  receipt: Receipt | null;
  request_receipt: RequestReceipt | null;
  finished_at: string | null;
}

/** `guichet_mobile_core::sync::SyncReport`, the payload of `outbox-changed`. */
interface CoreSyncReport {
  sent: { client_id: string; receipt: Receipt }[];
  filed: { client_id: string; receipt: RequestReceipt }[];
}

// ---- what only the UI knows about an entry ----
// The core keeps what goes on the wire. The category's title and the place as the citizen saw
// them (and, once sent, the last public view fetched) are display matters: kept here, by
// client id, so that "My reports" reads the same as in the browser.

interface Note {
  category: string;
  category_title: string;
  place_label: string;
  view?: PublicView;
  view_at?: string;
}

const noteKey = (clientId: string) => `guichet.entry.${clientId}`;

function readNote(clientId: string): Note | null {
  try {
    const raw = localStorage.getItem(noteKey(clientId));
    return raw ? (JSON.parse(raw) as Note) : null;
  } catch {
    return null;
  }
}

function writeNote(clientId: string, note: Note): void {
  try {
    localStorage.setItem(noteKey(clientId), JSON.stringify(note));
  } catch {
    /* full or disabled: the lists fall back to what the core has */
  }
}

function dropNote(clientId: string): void {
  try {
    localStorage.removeItem(noteKey(clientId));
  } catch {
    /* ignore */
  }
}

/** For an entry without a note (storage cleared): the address, else the coordinates. */
function placeOf(report: CoreReport | null): string {
  if (!report) return '';
  return report.address || `${report.lat.toFixed(5)}, ${report.lon.toFixed(5)}`;
}

function described(e: CoreEntry): Note {
  const note = readNote(e.client_id);
  const category = note?.category ?? e.report?.category ?? e.request?.demarche ?? '';
  return {
    category,
    category_title: note?.category_title || e.title || category,
    place_label: note?.place_label ?? placeOf(e.report),
    view: note?.view,
    view_at: note?.view_at,
  };
}

function toPending(e: CoreEntry): PendingEntry {
  const note = described(e);
  return {
    client_id: e.client_id,
    kind: e.kind,
    created_at: e.created_at,
    category: note.category,
    category_title: note.category_title,
    place_label: note.place_label,
    request_number: e.support_of ?? undefined,
    photo_count: e.photo_count,
    attempts: e.attempts,
    next_attempt_at: e.next_attempt_at ? Date.parse(e.next_attempt_at) : Date.now(),
    last_error: e.last_error ?? undefined,
    failed:
      e.state === 'failed'
        ? { code: e.error_code ?? '', message: e.last_error || e.error_code || '' }
        : undefined,
    field_errors: e.field_errors.length ? e.field_errors : undefined,
  };
}

/** The receipt "my requests" shows, whatever the kind of the entry. */
function receiptOf(e: CoreEntry): Receipt | null {
  if (e.receipt) return e.receipt;
  return e.request_receipt ? requestReceipt(e.request_receipt) : null;
}

function toMine(e: CoreEntry): MyRequest {
  const note = described(e);
  const receipt = receiptOf(e)!;
  return {
    client_id: e.client_id,
    kind: e.kind,
    request_number: receipt.request_number,
    tracking_code: receipt.tracking_code,
    category: note.category,
    category_title: note.category_title,
    place_label: note.place_label,
    filed_at: e.created_at,
    sent_at: e.finished_at ?? e.created_at,
    receipt,
    view: note.view,
    view_at: note.view_at,
  };
}

const isSent = (e: CoreEntry): boolean => e.state === 'sent' && receiptOf(e) !== null;

const entries = () => invoke<CoreEntry[]>('outbox_entries');

// ---- events ----

const listeners = new Set<(e: OutboxEvent) => void>();

function emit(e: OutboxEvent): void {
  for (const l of listeners) {
    try {
      l(e);
    } catch (err) {
      console.error(err);
    }
  }
}

/** A sync round (the shell's background loop or ours) sent, refused or rescheduled entries. */
async function afterRound(report: CoreSyncReport): Promise<void> {
  const sent = [...report.sent, ...(report.filed ?? [])];
  if (sent.length) {
    const all = await entries();
    for (const { client_id } of sent) {
      const e = all.find((x) => x.client_id === client_id);
      if (e && isSent(e)) emit({ type: 'sent', mine: toMine(e) });
    }
  }
  emit({ type: 'changed' });
}

// ---- sending ----
// The shell's loop sends in the background; these calls only make it happen now. One at a
// time: a call made meanwhile is folded into one more round.

let syncing = false;
let again = false;
let againForce = false;

async function syncNow(force = false): Promise<void> {
  if (syncing) {
    again = true;
    againForce ||= force;
    return;
  }
  syncing = true;
  try {
    for (;;) {
      await invoke('sync_now', { force });
      if (!again) break;
      force = againForce;
      again = againForce = false;
    }
  } catch (e) {
    console.error('outbox sync', e);
  } finally {
    syncing = again = againForce = false;
  }
}

// ---- position: the geolocation plugin (phones), else the webview's own ----

/** `tauri_plugin_geolocation::PermissionStatus`. */
interface GeoPermissions {
  location: 'granted' | 'denied' | 'prompt' | 'prompt-with-rationale';
  coarseLocation: 'granted' | 'denied' | 'prompt' | 'prompt-with-rationale';
}

/** `tauri_plugin_geolocation::Position`. */
interface GeoPosition {
  timestamp: number;
  coords: { latitude: number; longitude: number; accuracy: number };
}

const usable = (p: GeoPermissions) => p.location === 'granted' || p.coarseLocation === 'granted';

// The plugin's commands are called directly rather than through its npm wrapper: no release
// of that package matches the minor version of the Rust plugin the shell uses, and the Tauri
// CLI refuses to build with a mismatched pair. The calls are the plugin's documented commands
// and argument names.

/** Starts the plugin's watch; resolves to its stop, or to null when the user refused. */
async function nativeWatch(
  onFix: (fix: Fix) => void,
  onFailure: (why: PositionFailure) => void,
  onBroken: (e: unknown) => void,
): Promise<(() => void) | null> {
  // Throws where the plugin is not registered (desktop): the caller falls back.
  let perms = await invoke<GeoPermissions>('plugin:geolocation|check_permissions');
  if (!usable(perms) && perms.location !== 'denied') {
    perms = await invoke<GeoPermissions>('plugin:geolocation|request_permissions', { permissions: ['location'] });
  }
  if (!usable(perms)) {
    onFailure('denied');
    return null;
  }
  const channel = new Channel<GeoPosition | string>((m) => {
    if (typeof m === 'string') onFailure('unavailable');
    else onFix({ lat: m.coords.latitude, lon: m.coords.longitude, accuracy: m.coords.accuracy, at: m.timestamp });
  });
  invoke('plugin:geolocation|watch_position', {
    // On Android `timeout` is also the interval between updates: a few seconds keeps the pin
    // following a walking citizen without draining the battery.
    options: { enableHighAccuracy: true, timeout: 5000, maximumAge: 10000 },
    channel,
  }).catch(onBroken);
  return () => void invoke('plugin:geolocation|clear_watch', { channelId: channel.id }).catch(() => undefined);
}

function watchPosition(
  webview: Platform['watchPosition'],
  onFix: (fix: Fix) => void,
  onFailure: (why: PositionFailure) => void,
): () => void {
  let stopped = false;
  let fellBack = false;
  let stop: (() => void) | null = null;
  // Whatever is still in flight once stopped, or from the plugin once replaced, is dropped.
  const live = (fromPlugin: boolean) => !stopped && !(fromPlugin && fellBack);
  const fallBack = (e: unknown) => {
    if (stopped || fellBack) return;
    fellBack = true;
    console.info('geolocation plugin unavailable, using the webview', e);
    stop?.();
    stop = webview(
      (fix) => {
        if (live(false)) onFix(fix);
      },
      (why) => {
        if (live(false)) onFailure(why);
      },
    );
  };
  nativeWatch(
    (fix) => {
      if (live(true)) onFix(fix);
    },
    (why) => {
      if (live(true)) onFailure(why);
    },
    fallBack,
  ).then((s) => {
    if (stopped || fellBack) s?.();
    else stop = s;
  }, fallBack);
  return () => {
    stopped = true;
    stop?.();
    stop = null;
  };
}

// ---- the platform ----

/**
 * `browser` serves as the fallback for the position (navigator.geolocation). It is passed in
 * rather than imported so that this chunk holds only the native code.
 */
export function tauriPlatform(browser: Platform): Platform {
  return {
    name: 'tauri',

    start() {
      // The core's queue holds reports, "me too"s and démarche filings. Filings queued in the
      // webview's IndexedDB outbox by an older version of the app still leave from there: its
      // sender runs beside the core's.
      browser.start();
      browser.onOutbox((e) => listeners.forEach((l) => l(e)));
      void listen<CoreSyncReport>('outbox-changed', (ev) => {
        afterRound(ev.payload).catch((e) => console.error('outbox', e));
      });
      window.addEventListener('online', () => void syncNow(true));
      document.addEventListener('visibilitychange', () => {
        if (document.visibilityState === 'visible') void syncNow(false);
      });
      void syncNow(true);
    },

    // The core shrinks, turns upright and strips the photos when they are queued; the draft
    // keeps the picked files as they are.
    preparePhoto: async (file) => file,

    async enqueueReport({ report, photos, category_title, place_label }) {
      // Tauri's IPC writes a Uint8Array inside the arguments as a JSON array of numbers, which
      // is what serde reads into the command's Vec<u8>.
      const bytes = await Promise.all(photos.map(async (p) => new Uint8Array(await p.arrayBuffer())));
      // Noted first: the background loop may send it before `invoke` returns.
      writeNote(report.client_id, { category: report.category, category_title, place_label });
      try {
        await invoke<string>('enqueue_report', { report, photos: bytes });
      } catch (e) {
        dropNote(report.client_id);
        throw e;
      }
      emit({ type: 'changed' });
      void syncNow(true);
    },

    async enqueueSupport(s) {
      writeNote(s.client_id, { category: s.category, category_title: s.category_title, place_label: s.place_label });
      try {
        await invoke<string>('enqueue_support', { number: s.request_number, clientId: s.client_id, email: s.email });
      } catch (e) {
        dropNote(s.client_id);
        throw e;
      }
      emit({ type: 'changed' });
      void syncNow(true);
    },

    async enqueueRequest({ request, files, title }) {
      const queued = await Promise.all(files.map(async (f) => ({
        field: f.field,
        name: f.name,
        bytes: new Uint8Array(await f.blob.arrayBuffer()),
      })));
      writeNote(request.client_id, { category: request.demarche, category_title: title, place_label: '' });
      try {
        await invoke<string>('enqueue_request', { request, files: queued, title, token: token() });
      } catch (e) {
        dropNote(request.client_id);
        throw e;
      }
      emit({ type: 'changed' });
      void syncNow(true);
    },

    async pendingEntries() {
      return [...(await entries()).filter((e) => e.state !== 'sent').map(toPending), ...(await browser.pendingEntries())];
    },

    async pendingEntry(clientId) {
      const e = (await entries()).find((x) => x.client_id === clientId);
      return e && e.state !== 'sent' ? toPending(e) : browser.pendingEntry(clientId);
    },

    async discard(clientId) {
      if (await browser.pendingEntry(clientId)) return browser.discard(clientId);
      await invoke('discard_entry', { clientId });
      dropNote(clientId);
      emit({ type: 'changed' });
    },

    async sentRequests() {
      return [...(await entries()).filter(isSent).map(toMine), ...(await browser.sentRequests())]
        .sort((a, b) => Date.parse(b.filed_at) - Date.parse(a.filed_at));
    },

    async sentRequest(clientId) {
      const e = (await entries()).find((x) => x.client_id === clientId);
      return e && isSent(e) ? toMine(e) : browser.sentRequest(clientId);
    },

    async saveView(r) {
      if (r.kind === 'request') return browser.saveView(r);
      writeNote(r.client_id, {
        category: r.category,
        category_title: r.category_title,
        place_label: r.place_label,
        view: r.view,
        view_at: r.view_at,
      });
    },

    syncNow,
    // The core claims an entry while sending it but does not say which; the lists show
    // "sending" for an entry not tried yet, as the browser does.
    sendingId: () => null,

    onOutbox(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },

    watchPosition: (onFix, onFailure) => watchPosition(browser.watchPosition, onFix, onFailure),

    serverStatus: () => invoke<ServerStatus>('server_status'),
  };
}
