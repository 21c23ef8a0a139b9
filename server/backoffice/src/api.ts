// The agent API (`/api/v1/agent/…`, docs/api.md "Agent API") with the back office's session:
// an HttpOnly cookie the page never reads, and `X-Requested-With: guichet` on every call,
// which the server requires of state-changing calls made with the cookie.
import { ApiError, call as callApi, jsonBody } from '@guichet/web/api';
import type { FormDefinition } from '@guichet/web/forms/definition';

export { ApiError, NetworkError } from '@guichet/web/api';

const HEADERS = { 'X-Requested-With': 'guichet' };

/** A call with the session, `X-Requested-With` and any other `headers` (an `Idempotency-Key`…). */
export function agentCall<T>(path: string, init: RequestInit = {}, timeoutMs = 15000, headers: Record<string, string> = {}): Promise<{ status: number; body: T }> {
  return callApi<T>(path, { ...init, credentials: 'same-origin' }, { timeoutMs, headers: { ...HEADERS, ...headers } });
}

function call<T>(path: string, init: RequestInit = {}, timeoutMs = 15000): Promise<T> {
  return agentCall<T>(path, init, timeoutMs).then((r) => r.body);
}

export type Role = 'agent' | 'field' | 'supervisor' | 'admin';

export interface Me {
  id: number;
  email: string;
  name: string;
  role: Role;
  team_ids: number[];
  /** A second factor is enrolled. */
  second_factor?: boolean;
  /** This account must have one before it may work (admins and supervisors in production). */
  second_factor_required?: boolean;
}

export interface Enrolment {
  secret: string;
  otpauth_url: string;
  digits: number;
  period: number;
}

export interface QueueItem {
  number: string;
  demarche: string;
  demarche_title: string;
  status: string;
  status_label: string;
  phase: string;
  channel: string;
  team: string | null;
  assignee_id: number | null;
  zone: string | null;
  address: string | null;
  lat: number | null;
  lon: number | null;
  report_count: number;
  possible_duplicate_of: string | null;
  due_at: string | null;
  overdue: boolean;
  created_at: string;
  updated_at: string;
}

export interface QueuePage {
  items: QueueItem[];
  next_cursor?: string | null;
}

export interface Counts {
  total: number;
  overdue: number;
  phases: Record<string, number>;
}

export interface Transition {
  status: string;
  label: string;
  phase: string;
}

export interface Location {
  lat: number;
  lon: number;
  accuracy_m?: number | null;
}

export interface TimelineItem {
  id: number;
  kind: string;
  public: boolean;
  actor: string;
  data: Record<string, unknown>;
  at: string;
}

export interface PhotoLink {
  url: string;
  thumbnail_url: string;
  width: number;
  height: number;
  /** `after`: taken by the field team once the work was done. */
  kind?: string;
}

export interface ReportView {
  id: number;
  client_id: string;
  channel: string;
  location: Location;
  description: string;
  contact: { name: string | null; email: string | null };
  photos?: PhotoLink[];
  deduplicated: boolean;
  created_at: string;
}

export interface FileView {
  id: number;
  field: string;
  filename: string;
  mime: string;
  bytes: number;
  url: string;
}

export interface RequestDetail {
  number: string;
  demarche: { code: string; revision: number; title: string };
  workflow: string;
  status: string;
  status_label: string;
  phase: string;
  outcome: string | null;
  next_statuses: Transition[];
  channel: string;
  team: { id: number | null; code: string; name: string | null } | null;
  assignee: { id: number; name: string | null } | null;
  entered_by: { id: number; name: string | null } | null;
  requester: { name: string | null; email: string | null; phone: string | null; account_email: string | null; lang: string };
  zone: string | null;
  location: Location | null;
  address: string | null;
  description: string | null;
  data: Record<string, unknown> | null;
  files: FileView[];
  /** The photos field teams took once the work was done. */
  after_photos?: PhotoLink[];
  /** Photos of the request itself, when a server lists them here (`kind: "after"` for after-photos). */
  photos?: PhotoLink[];
  report_count: number;
  reports: ReportView[];
  possible_duplicate_of: string | null;
  merged_into: string | null;
  complement: { fields: string[]; message: string } | null;
  due_at: string | null;
  sla_paused_at: string | null;
  overdue: boolean;
  created_at: string;
  updated_at: string;
  closed_at: string | null;
  timeline: TimelineItem[];
}

export interface CatalogueEntry {
  code: string;
  title: string;
  group: string;
  group_code: string;
  geolocated: boolean;
  public_incident?: boolean;
  channels: string[];
  auth: string;
}

export interface WorkflowStatus {
  status: string;
  phase: string;
  outcome?: string | null;
  label: string;
  label_en: string;
}

export interface DemarcheDefinition extends CatalogueEntry {
  title_en?: string;
  sla_days?: number;
  workflow: { code: string; initial: string; statuses: WorkflowStatus[] };
  form: FormDefinition;
}

/** An open request a request could be merged into (same dedup family, nearby, my teams). */
export interface MergeCandidate {
  number: string;
  demarche: string;
  status: string;
  status_label: string;
  report_count: number;
  description: string | null;
  distance_m: number;
  created_at: string;
  thumbnail_url: string | null;
}

export interface BulkResult {
  done: number;
  failed: number;
  results: { number: string; ok: boolean; status: number; code?: string; detail?: string }[];
}

export interface Receipt {
  request_number: string;
  tracking_code: string;
  demarche_title: string;
  status_label: string;
  service?: string | null;
  due_at?: string | null;
}

export interface AgentSummary {
  id: number;
  email: string;
  name: string;
  role: Role;
  teams: string[];
  active?: boolean;
}

// ---- session ----

export function login(email: string, password: string, totp?: string): Promise<Me> {
  const body = totp ? { email, password, totp } : { email, password };
  return call<Me>('/agent/login', { ...jsonBody('POST', body), headers: { 'Content-Type': 'application/json', 'X-Guichet-Session': 'cookie' } });
}

/** Starts the enrolment of a second factor (the password again): the secret for the app. */
export function enrolSecondFactor(password: string): Promise<Enrolment> {
  return call<Enrolment>('/agent/totp', jsonBody('POST', { password }));
}

/** The app's first code turns the second factor on. */
export function confirmSecondFactor(totp: string): Promise<void> {
  return call<void>('/agent/totp/confirm', jsonBody('POST', { totp }));
}

export function logout(): Promise<void> {
  return call<void>('/agent/logout', { method: 'POST' });
}

export function me(): Promise<Me> {
  return call<Me>('/agent/me');
}

// ---- queue ----

export function queue(params: URLSearchParams): Promise<QueuePage> {
  return call<QueuePage>(`/agent/requests?${params}`);
}

export function counts(params: URLSearchParams): Promise<Counts> {
  return call<Counts>(`/agent/requests/counts?${params}`);
}

export function search(q: string, limit = 20): Promise<QueuePage> {
  return call<QueuePage>(`/agent/search?${new URLSearchParams({ q, limit: String(limit) })}`);
}

// ---- one request ----

const req = (number: string) => `/agent/requests/${encodeURIComponent(number)}`;

export function detail(number: string): Promise<RequestDetail> {
  return call<RequestDetail>(req(number));
}

export function changeStatus(number: string, status: string, message?: string): Promise<void> {
  return call<void>(`${req(number)}/status`, jsonBody('POST', message ? { status, message } : { status }));
}

export function assign(number: string, body: { team?: string; assignee_id?: number }): Promise<void> {
  return call<void>(`${req(number)}/assign`, jsonBody('POST', body));
}

export function reply(number: string, message: string): Promise<void> {
  return call<void>(`${req(number)}/reply`, jsonBody('POST', { message }));
}

export function note(number: string, text: string): Promise<void> {
  return call<void>(`${req(number)}/notes`, jsonBody('POST', { text }));
}

export function complement(number: string, fields: string[], message: string): Promise<void> {
  return call<void>(`${req(number)}/complement`, jsonBody('POST', { fields, message }));
}

export function merge(number: string, into: string): Promise<void> {
  return call<void>(`${req(number)}/merge`, jsonBody('POST', { into }));
}

export function split(number: string, reportId: number): Promise<{ request_number: string }> {
  return call<{ request_number: string }>(`${req(number)}/split`, jsonBody('POST', { report_id: reportId }));
}

export function edit(number: string, body: { demarche?: string; location?: { lat: number; lon: number } }): Promise<void> {
  return call<void>(req(number), jsonBody('PATCH', body));
}

export function candidates(number: string, radiusM = 300): Promise<MergeCandidate[]> {
  return call<MergeCandidate[]>(`${req(number)}/candidates?${new URLSearchParams({ radius_m: String(radiusM) })}`);
}

/** One action on many requests, each in its own transaction, each with its own result. */
export function bulk(numbers: string[], action: { assign: { team?: string; assignee_id?: number } } | { status: string; message?: string }): Promise<BulkResult> {
  return call<BulkResult>('/agent/requests/bulk', jsonBody('POST', { numbers, ...action }), 60000);
}

export function newTrackingCode(number: string): Promise<{ tracking_code: string }> {
  return call<{ tracking_code: string }>(`${req(number)}/tracking-code`, { method: 'POST' });
}

/** Entry on a citizen's behalf: JSON, or multipart when files are attached. */
export function enter(request: Record<string, unknown>, files: Record<string, File[]>): Promise<Receipt> {
  const names = Object.keys(files);
  if (!names.length) return call<Receipt>('/agent/requests', jsonBody('POST', request), 60000);
  const fd = new FormData();
  fd.append('request', new Blob([JSON.stringify(request)], { type: 'application/json' }));
  for (const [field, list] of Object.entries(files)) for (const f of list) fd.append(field, f, f.name);
  return call<Receipt>('/agent/requests', { method: 'POST', body: fd }, 120000);
}

// ---- reference data ----

let catalogueCache: Promise<CatalogueEntry[]> | null = null;
export function catalogue(): Promise<CatalogueEntry[]> {
  catalogueCache ??= call<{ demarches: CatalogueEntry[] }>('/catalogue').then((r) => r.demarches).catch((e) => {
    catalogueCache = null;
    throw e;
  });
  return catalogueCache;
}

const definitions = new Map<string, Promise<DemarcheDefinition>>();
export function definition(code: string): Promise<DemarcheDefinition> {
  let p = definitions.get(code);
  if (!p) {
    p = call<DemarcheDefinition>(`/catalogue/${encodeURIComponent(code)}`);
    p.catch(() => definitions.delete(code));
    definitions.set(code, p);
  }
  return p;
}

export interface ReplyTemplate {
  id: number;
  demarche: string | null;
  title: string;
  body: string;
  lang: string;
}

/** The answers supervisors keep for a démarche (and for any). */
export function replyTemplates(demarche: string): Promise<ReplyTemplate[]> {
  return call<ReplyTemplate[]>(`/agent/reply-templates?${new URLSearchParams({ demarche })}`);
}

/** The public photos of a request, read from its public view with its own tracking code. */

/** Every agent (admins only). */
export function agents(): Promise<AgentSummary[]> {
  return call<AgentSummary[]>('/admin/agents');
}

// ---- which optional endpoints this server has ----

/**
 * Whether a route exists, without acting: a GET on a route that only takes POST gets 405, and
 * a route the server does not have gets 404 `not-found`.
 */
export async function routeExists(path: string): Promise<boolean> {
  try {
    await call<unknown>(path);
    return true;
  } catch (e) {
    // Under /agent/requests/, a missing route reads as a request number nobody has.
    if (e instanceof ApiError) return !(e.status === 404 && (e.code === 'not-found' || e.code === 'request-not-found'));
    return false;
  }
}

// ---- supervisors: map, dashboard, exports, reply templates ----

export interface MapFeature {
  type: 'Feature';
  id?: number | string;
  geometry: { type: 'Point'; coordinates: [number, number] };
  properties:
    | { kind: 'cluster'; count: number; expansion_zoom: number }
    | { kind: 'request'; request_number: string; demarche: string; phase: string; status: string; overdue: boolean; assignee_id: number | null };
}

/** The queue on a map: clusters below zoom 16, requests from then on (my teams only). */
export function queueMap(bbox: [number, number, number, number], zoom: number, filters: URLSearchParams): Promise<{ features: MapFeature[] }> {
  const q = new URLSearchParams(filters);
  q.set('bbox', bbox.map((x) => x.toFixed(6)).join(','));
  q.set('zoom', String(zoom));
  return call<{ features: MapFeature[] }>(`/agent/map?${q}`);
}

export interface Dashboard {
  window_days: number;
  open: { count: number; overdue: number };
  open_groups: { team: string | null; phase: string; demarche: string; count: number; overdue: number }[];
  closed: { count: number; median_hours_to_close: number | null; sla_kept_percent: number | null };
  filed_per_day: { date: string; count: number }[];
}

export function dashboard(): Promise<Dashboard> {
  return call<Dashboard>('/agent/dashboard');
}

export type TraceKind = 'read' | 'action' | 'security';

/** A trace of the audit trail (`GET /admin/audit`). */
export interface Trace {
  id: number;
  at: string;
  kind: TraceKind;
  agent_id: number | null;
  actor: string;
  action: string;
  target: string | null;
  detail: string | null;
  status: number | null;
  ip: string | null;
  user_agent: string | null;
}

export function audit(filters: URLSearchParams): Promise<{ items: Trace[]; next_before: number | null }> {
  return call<{ items: Trace[]; next_before: number | null }>(`/admin/audit?${filters}`);
}

/** The trail's export with the same filters (a plain GET: the session cookie goes with it). */
export function auditExportUrl(filters: URLSearchParams): string {
  const q = new URLSearchParams(filters);
  q.set('format', 'csv');
  return `/api/v1/admin/audit/export?${q}`;
}

/** The address of the queue's export (a plain GET: the session cookie goes with the download). */
export function exportUrl(format: 'csv' | 'ods', filters: URLSearchParams): string {
  const q = new URLSearchParams(filters);
  q.delete('cursor');
  q.delete('limit');
  q.set('format', format);
  return `/api/v1/agent/requests/export?${q}`;
}

export function allReplyTemplates(): Promise<(ReplyTemplate & { updated_at: string })[]> {
  return call<(ReplyTemplate & { updated_at: string })[]>('/agent/reply-templates');
}

export interface TemplateInput {
  demarche?: string | null;
  title: string;
  body: string;
  lang?: string;
}

export function saveReplyTemplate(id: number | null, body: TemplateInput): Promise<unknown> {
  return id === null ? call('/agent/reply-templates', jsonBody('POST', body)) : call(`/agent/reply-templates/${id}`, jsonBody('PUT', body));
}

export function deleteReplyTemplate(id: number): Promise<void> {
  return call<void>(`/agent/reply-templates/${id}`, { method: 'DELETE' });
}

// ---- admins ----

export interface Team {
  id: number;
  code: string;
  name: string;
  email: string | null;
  members: number;
  open_requests: number;
}

export function teams(): Promise<Team[]> {
  return call<Team[]>('/admin/teams');
}

export function saveTeam(code: string, body: { name: string; email?: string | null }): Promise<unknown> {
  return call(`/admin/teams/${encodeURIComponent(code)}`, jsonBody('PUT', body));
}

export interface AgentInput {
  email: string;
  name: string;
  role: Role;
  teams: string[];
  password: string;
}

export function saveAgent(body: AgentInput): Promise<{ id: number }> {
  return call<{ id: number }>('/admin/agents', jsonBody('POST', body));
}

/** Deactivating ends the agent's sessions at once and stops their logins; activating undoes it. */
export function setAgentActive(id: number, active: boolean): Promise<void> {
  return call<void>(`/admin/agents/${id}/${active ? 'activate' : 'deactivate'}`, { method: 'POST' });
}

/** Removes an agent's second factor (a lost phone); their sessions end. */
export function resetAgentTotp(id: number): Promise<void> {
  return call<void>(`/admin/agents/${id}/totp/reset`, { method: 'POST' });
}

export interface RoutingRule {
  id: number;
  demarche: string | null;
  zone: string | null;
  team: string;
  priority: number;
}

export function routingRules(): Promise<RoutingRule[]> {
  return call<RoutingRule[]>('/admin/routing-rules');
}

export function addRoutingRule(body: { demarche?: string; zone?: string; team: string; priority?: number }): Promise<unknown> {
  return call('/admin/routing-rules', jsonBody('POST', body));
}

export function deleteRoutingRule(id: number): Promise<void> {
  return call<void>(`/admin/routing-rules/${id}`, { method: 'DELETE' });
}

export interface Webhook {
  id: number;
  url: string;
  events: string[];
  active: boolean;
  description: string | null;
  created_at: string;
  pending_deliveries: number;
  failed_deliveries: number;
  secret?: string;
}

export interface Delivery {
  id: number;
  event_id: number;
  event_type: string;
  request_number: string | null;
  status: string;
  attempts: number;
  last_status: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
  delivered_at: string | null;
  failed_at: string | null;
  created_at: string;
}

export function webhooks(): Promise<Webhook[]> {
  return call<{ webhooks: Webhook[] }>('/admin/webhooks').then((r) => r.webhooks);
}

export function addWebhook(body: { url: string; events: string[]; secret?: string; description?: string }): Promise<Webhook> {
  return call<Webhook>('/admin/webhooks', jsonBody('POST', body));
}

export function deleteWebhook(id: number): Promise<void> {
  return call<void>(`/admin/webhooks/${id}`, { method: 'DELETE' });
}

export function deliveries(id: number): Promise<Delivery[]> {
  return call<{ deliveries: Delivery[] }>(`/admin/webhooks/${id}/deliveries?limit=50`).then((r) => r.deliveries);
}

/** A démarche's definition read fresh (the cached one may predate an edit). */
/**
 * A démarche's stored entry, as `PUT /admin/demarches/{code}` takes it (admins). The page's
 * copies of its definition and of the catalogue are dropped: the editor reads it after a save.
 */
export function demarcheEntry(code: string): Promise<Record<string, unknown>> {
  definitions.delete(code);
  catalogueCache = null;
  return call<Record<string, unknown>>(`/admin/demarches/${encodeURIComponent(code)}`, { cache: 'no-store' });
}


export function saveDemarche(code: string, entry: Record<string, unknown>): Promise<{ code: string; revision: number; changed: boolean }> {
  return call<{ code: string; revision: number; changed: boolean }>(`/admin/demarches/${encodeURIComponent(code)}`, jsonBody('PUT', entry), 30000);
}

export function revisions(code: string): Promise<Record<string, unknown>[]> {
  return call<Record<string, unknown>[]>(`/admin/demarches/${encodeURIComponent(code)}/revisions`);
}
