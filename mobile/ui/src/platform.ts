// What the screens need from the device, behind one interface with two implementations:
// - in a browser (and the installed PWA), the IndexedDB outbox, the fetch sync and
//   navigator.geolocation (platform-browser.ts);
// - inside the Tauri app, the native core: SQLite outbox, photo preparation and sync in Rust,
//   the position from the geolocation plugin (platform-tauri.ts).
// The choice is made once at start-up. The Tauri side is a dynamic import, so that a browser
// never runs (nor precaches) native-only code.
import type { FieldError } from '@guichet/web/api';
import type { QueuedFile, ReportPayload, RequestPayload } from './api';
import type { EntryKind, MyRequest } from './db';
import { browserPlatform } from './platform-browser';

/** A report or "me too" that has not reached the server yet, or that it refused. */
export interface PendingEntry {
  client_id: string;
  kind: EntryKind;
  /** ISO 8601. */
  created_at: string;
  category: string;
  category_title: string;
  place_label: string;
  /** The request joined, for a "me too". */
  request_number?: string;
  photo_count: number;
  attempts: number;
  /** Epoch ms of the next automatic attempt. */
  next_attempt_at: number;
  last_error?: string;
  /** Set when the server refused it for good; it is then kept for the user to see. */
  failed?: { code: string; message: string };
  /** A refused démarche: the fields the server named. */
  field_errors?: FieldError[];
}

export interface NewReport {
  report: ReportPayload;
  /** As shown in the draft: prepared in the page (browser) or picked files (Tauri). */
  photos: Blob[];
  category_title: string;
  place_label: string;
}

/** A démarche filed with its form, waiting for the network like a report. */
export interface NewRequest {
  request: RequestPayload;
  files: QueuedFile[];
  title: string;
}

export interface NewSupport {
  client_id: string;
  request_number: string;
  category: string;
  category_title: string;
  place_label: string;
  email?: string;
}

export type OutboxEvent =
  | { type: 'changed' }
  | { type: 'sent'; mine: MyRequest }
  | { type: 'sending'; id: string | null };

export interface Fix {
  lat: number;
  lon: number;
  /** Metres. */
  accuracy: number;
  /** Epoch ms. */
  at: number;
}

export type PositionFailure = 'denied' | 'unavailable' | 'unsupported';

/** The native app's server: its address, where it was set, and why it does not answer. */
export interface ServerStatus {
  url: string;
  source: 'environment' | 'settings_file' | 'build' | 'development';
  /** The settings file the app reads, present or not. */
  settings_file: string;
  settings_problem: string | null;
  /** Null when the server answered. */
  problem: string | null;
}

export interface Platform {
  readonly name: 'browser' | 'tauri';
  /** Starts sending in the background (triggers, timers) and asks to keep the data. */
  start(): void;
  /** What a picked photo becomes in the draft (preview and what is queued). */
  preparePhoto(file: Blob): Promise<Blob>;
  /** Resolves once the report is durably stored on the device; sending follows. */
  enqueueReport(item: NewReport): Promise<void>;
  enqueueSupport(item: NewSupport): Promise<void>;
  /** A démarche: stored on the device, then sent with the account's token of the moment. */
  enqueueRequest(item: NewRequest): Promise<void>;
  /** Waiting and refused entries, oldest first. */
  pendingEntries(): Promise<PendingEntry[]>;
  pendingEntry(clientId: string): Promise<PendingEntry | undefined>;
  /** Removes a refused entry, on the user's request. */
  discard(clientId: string): Promise<void>;
  /** What the server has, newest first, with the last public view fetched. */
  sentRequests(): Promise<MyRequest[]>;
  sentRequest(clientId: string): Promise<MyRequest | undefined>;
  /** Keeps the public view fetched for a sent request, for offline display. */
  saveView(request: MyRequest): Promise<void>;
  /** Sends what is due now (everything when `force`). */
  syncNow(force?: boolean): Promise<void>;
  /** The entry being sent, when known. */
  sendingId(): string | null;
  onOutbox(listener: (e: OutboxEvent) => void): () => void;
  /**
   * Follows the position; returns the stop. Nothing is reported before it returns. `onFailure`
   * may come more than once (a lost fix is 'unavailable'); after 'denied' or 'unsupported' the
   * watch has ended.
   */
  watchPosition(onFix: (fix: Fix) => void, onFailure: (why: PositionFailure) => void): () => void;
  /**
   * Inside the native app, whose server is a setting: asks it. A browser talks to the server
   * that served the page, so it has none.
   */
  serverStatus?(): Promise<ServerStatus>;
}

let current: Platform = browserPlatform;

/** The platform chosen by `choosePlatform` (the browser one until then). */
export function platform(): Platform {
  return current;
}

/** Set by the Tauri runtime before any page script runs. */
export function insideTauri(): boolean {
  return typeof window !== 'undefined' && '__TAURI_INTERNALS__' in window;
}

export async function choosePlatform(): Promise<Platform> {
  if (insideTauri()) {
    try {
      current = (await import('./platform-tauri')).tauriPlatform(browserPlatform);
    } catch (e) {
      // A broken native bridge should not leave the citizen with nothing: the browser outbox
      // still works inside the webview.
      console.error('native platform unavailable, using the browser one', e);
    }
  }
  return current;
}
