// What a field agent does on site, as outbox entries: each action is stored on the phone
// before any network attempt, with an `Idempotency-Key` chosen once when it is queued, so
// that sending it again (a lost answer, a retry) applies it once; a new report also carries
// that id as its `client_id`. `requestFor` says which call of the agent API carries it.
// Pure (no DOM, no network), for the unit tests.
import type { QueuedEntry } from '@guichet/web/outbox/entry';

interface Base extends QueuedEntry {
  /** The Idempotency-Key: a UUID chosen when the action is queued. */
  id: string;
  /** The agent who made it: another agent's actions wait for their own login. */
  agent_id: number;
}

export interface CloseAction extends Base {
  kind: 'close';
  request_number: string;
  status: string;
  status_label: string;
  message?: string;
  /** After-photos, prepared on the phone; 1 to 5. */
  photos: Blob[];
}

export interface CouldNotAct extends Base {
  kind: 'could-not-act';
  request_number: string;
  reason: string;
}

export interface Relocate extends Base {
  kind: 'relocate';
  request_number: string;
  lat: number;
  lon: number;
}

export interface Note extends Base {
  kind: 'note';
  request_number: string;
  text: string;
}

/** A new incident seen on site (`POST /agent/reports`, channel `field`). */
export interface NewReport extends Base {
  kind: 'report';
  report: { client_id: string; category: string; lat: number; lon: number; accuracy_m?: number; description: string };
  category_title: string;
  photos: Blob[];
}

export type FieldAction = CloseAction | CouldNotAct | Relocate | Note | NewReport;
export type ActionKind = FieldAction['kind'];

/** A multipart body as parts (name, text or file), so that it can be checked without a network. */
export type Part = [name: string, value: string] | [name: string, value: Blob, filename: string];

export interface ApiRequest {
  method: 'POST' | 'PATCH';
  /** Under /api/v1. */
  path: string;
  json?: unknown;
  parts?: Part[];
  /** Photos over a slow mobile link take time. */
  timeoutMs: number;
}

const requestPath = (n: string) => `/agent/requests/${encodeURIComponent(n)}`;

function photoParts(photos: Blob[]): Part[] {
  return photos.map((p, i) => ['photo', p, `photo-${i + 1}.${p.type === 'image/png' ? 'png' : p.type === 'image/webp' ? 'webp' : 'jpg'}`]);
}

export function requestFor(a: FieldAction): ApiRequest {
  switch (a.kind) {
    case 'close': {
      const status = a.message ? { status: a.status, message: a.message } : { status: a.status };
      if (!a.photos.length) return { method: 'POST', path: `${requestPath(a.request_number)}/status`, json: status, timeoutMs: 20000 };
      return {
        method: 'POST',
        path: `${requestPath(a.request_number)}/status`,
        parts: [['status', JSON.stringify(status)], ...photoParts(a.photos)],
        timeoutMs: 120000,
      };
    }
    case 'could-not-act':
      return { method: 'POST', path: `${requestPath(a.request_number)}/could-not-act`, json: { reason: a.reason }, timeoutMs: 20000 };
    case 'relocate':
      return { method: 'PATCH', path: requestPath(a.request_number), json: { location: { lat: a.lat, lon: a.lon } }, timeoutMs: 20000 };
    case 'note':
      return { method: 'POST', path: `${requestPath(a.request_number)}/notes`, json: { text: a.text }, timeoutMs: 20000 };
    case 'report':
      return { method: 'POST', path: '/agent/reports', parts: [['report', JSON.stringify(a.report)], ...photoParts(a.photos)], timeoutMs: 120000 };
  }
}

/** The request an action is about (a new report has none until the server answers). */
export function targetOf(a: FieldAction): string | null {
  return a.kind === 'report' ? null : a.request_number;
}

/** Whether the action takes the request out of my round once applied. */
export function leavesRound(a: FieldAction): boolean {
  return a.kind === 'close' || a.kind === 'could-not-act';
}
