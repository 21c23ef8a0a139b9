// The citizen JSON API (`/api/v1/`, docs/api.md).
import { config } from './config';
import { lang } from './i18n';
import { classify, parseRetryAfter } from './sync-policy';

export interface Demarche {
  code: string;
  title: string;
  group: string;
  group_code: string;
  geolocated: boolean;
  description: string;
  dedup_radius_m?: number;
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

/** An answer that is not 2xx. `permanent` errors will not get better by retrying (docs/sync.md). */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    /** The answer's `Retry-After`, as a wait in ms. */
    public retryAfterMs: number | null = null,
  ) {
    super(message);
  }
  get permanent(): boolean {
    return classify(this.status) === 'refused';
  }
}

/** The network could not be reached (offline, DNS, reset, timeout). Always worth a retry. */
export class NetworkError extends Error {}

export function apiUrl(path: string): string {
  return `${config.apiBase}/api/v1${path}`;
}

async function call<T>(path: string, init: RequestInit = {}, timeoutMs = 15000): Promise<{ status: number; body: T }> {
  const headers = new Headers(init.headers);
  headers.set('Accept-Language', lang() === 'en' ? 'en' : 'fr');
  headers.set('Accept', 'application/json');
  let res: Response;
  try {
    res = await fetch(apiUrl(path), { ...init, headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) {
    let code = 'http-' + res.status;
    let detail = res.statusText;
    try {
      const p = await res.json();
      code = p.code ?? code;
      detail = p.detail ?? p.title ?? detail;
    } catch {
      /* not a problem document */
    }
    throw new ApiError(res.status, code, detail, parseRetryAfter(res.headers.get('Retry-After'), Date.now()));
  }
  let body: T;
  try {
    body = (await res.json()) as T;
  } catch (e) {
    throw new NetworkError('truncated answer: ' + String(e));
  }
  return { status: res.status, body };
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
