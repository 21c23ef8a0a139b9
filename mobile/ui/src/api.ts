// The citizen JSON API (`/api/v1/`, docs/api.md), on the client core both apps share.
import { call as callApi, jsonBody } from '@guichet/web/api';
import type { FormDefinition } from '@guichet/web/forms/definition';

export { ApiError, apiUrl, NetworkError } from '@guichet/web/api';

export interface Demarche {
  code: string;
  title: string;
  title_en?: string;
  group: string;
  group_en?: string;
  group_code: string;
  geolocated: boolean;
  public_incident?: boolean;
  /** What it is for; also the purpose of its privacy notice. */
  description: string;
  description_en?: string;
  keywords?: string[];
  keywords_en?: string[];
  channels?: string[];
  /** `anonymous` (a tracking code is enough) or `account`. */
  auth?: string;
  dedup_radius_m?: number;
}

/** The information notice of the processing (GDPR art. 13), French and `_en`. */
export interface PrivacyNotice {
  controller?: string;
  controller_en?: string;
  legal_basis?: string;
  legal_basis_en?: string;
  retention?: string;
  retention_en?: string;
  recipients?: string;
  recipients_en?: string;
  rights?: string;
  rights_en?: string;
}

/** `GET /catalogue/{code}`: what a client needs to explain, render and check a démarche. */
export interface DemarcheDefinition extends Demarche {
  sla_days?: number | null;
  form: FormDefinition;
  privacy?: PrivacyNotice | null;
}

export interface RequestPayload {
  client_id: string;
  demarche: string;
  channel: 'app' | 'web';
  data: Record<string, unknown>;
  /** Wallet documents put in file fields (an account's filing). */
  documents?: { field: string; document_id: number }[];
}

/** The acknowledgement of `POST /requests`. */
export interface RequestReceipt {
  request_number: string;
  tracking_code: string;
  demarche: string;
  demarche_title: string;
  status: string;
  status_label: string;
  phase: string;
  service?: string | null;
  received_at: string;
  due_at?: string | null;
  status_url: string;
  acknowledgement?: Acknowledgement;
}

/** What the receipt explains (see `Acknowledgement` in the API). */
export interface Acknowledgement {
  received: string;
  service?: string | null;
  next_steps: string;
  expected_delay: { days: number | null; basis: 'history' | 'sla' | 'unknown'; closed_requests: number; text: string };
  code_explained: string;
  status_page_url: string;
}

/** A file picked for a form field, as queued: the bytes and the name the server is told. */
export interface QueuedFile {
  field: string;
  blob: Blob;
  name: string;
}

export interface PhotoLinks {
  url: string;
  thumbnail_url: string;
  width: number;
  height: number;
}

export interface Receipt {
  request_number: string;
  tracking_code: string;
  status: string;
  phase: string;
  deduplicated: boolean;
  report_count: number;
  photos: PhotoLinks[];
  received_at: string;
  status_url: string;
  /** Démarches: the service in charge and when an answer is due. */
  service?: string | null;
  due_at?: string | null;
  acknowledgement?: Acknowledgement;
}

export interface NearbyItem {
  request_number: string;
  demarche: { code: string; title: string };
  distance_m: number;
  created_at: string;
  age_days: number;
  status: string;
  phase: string;
  report_count: number;
  thumbnail_url: string | null;
  lat: number;
  lon: number;
}

export interface TimelineEvent {
  at: string;
  kind: string;
  label: string;
  message?: string | null;
}

export interface ComplementAsk {
  fields: string[];
  message: string;
}

export interface PublicView {
  number: string;
  demarche: { code: string; title: string };
  status: string;
  status_label: string;
  phase: string;
  outcome?: string | null;
  address?: string | null;
  zone?: string | null;
  description?: string | null;
  report_count: number;
  photos: PhotoLinks[];
  created_at: string;
  updated_at: string;
  timeline: TimelineEvent[];
  complement?: ComplementAsk | null;
  merged_into?: string | null;
}

export interface ReportPayload {
  client_id: string;
  category: string;
  lat: number;
  lon: number;
  accuracy_m?: number;
  description: string;
  address?: string;
  observed_at?: string;
  contact?: { email?: string; name?: string };
}

function call<T>(path: string, init: RequestInit = {}, timeoutMs = 15000): Promise<{ status: number; body: T }> {
  return callApi<T>(path, init, { timeoutMs });
}

export async function getCatalogue(): Promise<Demarche[]> {
  return (await call<{ demarches: Demarche[] }>('/catalogue', {}, 8000)).body.demarches;
}

/** Open requests a report here would be compared with: the server uses the démarche's own
 * radius, widened by the position's accuracy as the duplicate decision does. */
export async function getNearby(lat: number, lon: number, category: string, accuracyM?: number): Promise<NearbyItem[]> {
  const q = new URLSearchParams({ lat: lat.toFixed(6), lon: lon.toFixed(6), category });
  if (accuracyM !== undefined && Number.isFinite(accuracyM)) q.set('accuracy_m', accuracyM.toFixed(1));
  return (await call<{ items: NearbyItem[] }>(`/reports/nearby?${q}`, {}, 5000)).body.items;
}

export async function getIncidents(bbox: [number, number, number, number], zoom: number, category?: string): Promise<GeoJSON.FeatureCollection> {
  const q = new URLSearchParams({ bbox: bbox.map((x) => x.toFixed(5)).join(','), zoom: String(zoom) });
  if (category) q.set('category', category);
  return (await call<GeoJSON.FeatureCollection>(`/incidents?${q}`, {}, 8000)).body;
}

export async function getRequest(number: string, trackingCode: string): Promise<PublicView> {
  const q = new URLSearchParams({ tracking_code: trackingCode });
  return (await call<PublicView>(`/requests/${encodeURIComponent(number)}?${q}`, {}, 10000)).body;
}

const early = new Map<string, { p: Promise<DemarcheDefinition>; at: number }>();

/**
 * Starts fetching a definition before its screen's code has arrived (the app opened on a
 * démarche's page); the screen's `getDefinition` then takes that answer.
 */
export function prefetchDefinition(code: string): void {
  const p = fetchDefinition(code);
  p.catch(() => undefined); // the screen's own call reports the failure
  early.set(code, { p, at: Date.now() });
}

async function fetchDefinition(code: string): Promise<DemarcheDefinition> {
  return (await call<DemarcheDefinition>(`/catalogue/${encodeURIComponent(code)}`, {}, 10000)).body;
}

export function getDefinition(code: string): Promise<DemarcheDefinition> {
  const e = early.get(code);
  early.delete(code);
  // Taken only while fresh: a page left unopened does not serve an old answer later.
  return e && Date.now() - e.at < 10_000 ? e.p : fetchDefinition(code);
}

function bearer(token: string | null): Record<string, string> {
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** Files a démarche: JSON, or multipart when files come with it (one part per file, named after its field). */
export async function postRequest(payload: RequestPayload, files: QueuedFile[], token: string | null): Promise<{ status: number; body: RequestReceipt }> {
  if (!files.length) {
    const init = jsonBody('POST', payload);
    return call<RequestReceipt>('/requests', { ...init, headers: { ...(init.headers as Record<string, string>), ...bearer(token) } }, 60000);
  }
  const fd = new FormData();
  fd.append('request', JSON.stringify(payload));
  for (const f of files) fd.append(f.field, f.blob, f.name);
  return call<RequestReceipt>('/requests', { method: 'POST', body: fd, headers: bearer(token) }, 120000);
}

/** How the filer proves it: their tracking code, or their account. */
export type FilerKey = { tracking_code: string } | { token: string };

/** The filer's view: by tracking code, or the account's own request. */
export async function getFilerView(number: string, key: FilerKey): Promise<PublicView> {
  if ('tracking_code' in key) return getRequest(number, key.tracking_code);
  return (await call<PublicView>(`/citizen/requests/${encodeURIComponent(number)}`, { headers: bearer(key.token) }, 10000)).body;
}

function filerCall(path: string, key: FilerKey, body: Record<string, unknown>): Promise<unknown> {
  const init = jsonBody('POST', 'tracking_code' in key ? { ...body, tracking_code: key.tracking_code } : body);
  const headers = { ...(init.headers as Record<string, string>), ...('token' in key ? bearer(key.token) : {}) };
  return call(path, { ...init, headers }, 30000);
}

export function sendMessage(number: string, key: FilerKey, message: string): Promise<unknown> {
  return filerCall(`/requests/${encodeURIComponent(number)}/messages`, key, { message });
}

export function withdraw(number: string, key: FilerKey): Promise<unknown> {
  return filerCall(`/requests/${encodeURIComponent(number)}/withdraw`, key, {});
}

/** Answers a complement request: JSON, or multipart with the JSON in `answer` and the files. */
export async function answerComplement(number: string, key: FilerKey, data: Record<string, unknown>, message: string, files: QueuedFile[]): Promise<unknown> {
  const path = `/requests/${encodeURIComponent(number)}/complement`;
  const body: Record<string, unknown> = { data, ...(message ? { message } : {}) };
  if (!files.length) return filerCall(path, key, body);
  if ('tracking_code' in key) body.tracking_code = key.tracking_code;
  const fd = new FormData();
  fd.append('answer', JSON.stringify(body));
  for (const f of files) fd.append(f.field, f.blob, f.name);
  return call(path, { method: 'POST', body: fd, headers: 'token' in key ? bearer(key.token) : {} }, 120000);
}

export async function postReport(report: ReportPayload, photos: Blob[]): Promise<{ status: number; body: Receipt }> {
  const fd = new FormData();
  fd.append('report', JSON.stringify(report));
  photos.forEach((p, i) => fd.append('photo', p, `photo-${i + 1}.${p.type === 'image/png' ? 'png' : p.type === 'image/webp' ? 'webp' : 'jpg'}`));
  // Generous timeout: several photos over a slow mobile link.
  return call<Receipt>('/reports', { method: 'POST', body: fd }, 120000);
}

export async function postSupport(number: string, clientId: string, email?: string): Promise<{ status: number; body: Receipt }> {
  const body: Record<string, unknown> = { client_id: clientId };
  if (email) body.contact = { email };
  return call<Receipt>(`/requests/${encodeURIComponent(number)}/support`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify(body),
  }, 20000);
}
