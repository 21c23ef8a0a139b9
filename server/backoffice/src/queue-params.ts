// The queue's view as a URL: the API's filters and sort (docs/api.md, `GET /agent/requests`),
// kept in the page's query string so that a view can be bookmarked and shared. Pure: no
// DOM, tested in Node.js.

/** The filters the API takes, in the order the screen shows them. */
export const FILTER_KEYS = ['team', 'demarche', 'status', 'phase', 'zone', 'channel', 'assignee', 'filed_from', 'filed_to', 'overdue', 'possible_duplicate', 'reopened'] as const;
const FLAGS: readonly string[] = ['overdue', 'possible_duplicate', 'reopened'];
export type FilterKey = (typeof FILTER_KEYS)[number];

export const PHASES = ['received', 'in_progress', 'waiting_for_citizen', 'closed', 'withdrawn'] as const;
export const CHANNELS = ['app', 'web', 'api', 'phone', 'desk', 'mail', 'email'] as const;
export const SORTS = ['newest', 'oldest', 'due'] as const;
export type Sort = (typeof SORTS)[number];

/** The API's query for a view: its filters and sort, blank ones left out, plus paging. */
export function apiParams(view: URLSearchParams, cursor?: string | null, limit?: number): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of FILTER_KEYS) {
    const v = view.get(k)?.trim();
    if (!v || (FLAGS.includes(k) && v !== 'true')) continue;
    out.set(k, v);
  }
  const sort = sortOf(view);
  if (sort !== 'newest') out.set('sort', sort);
  if (cursor) out.set('cursor', cursor);
  if (limit) out.set('limit', String(limit));
  return out;
}

/** A view's query string from a filter form's values: blank values and the default sort dropped. */
export function viewQuery(values: Partial<Record<FilterKey | 'sort', string | string[] | boolean>>): string {
  const out = new URLSearchParams();
  for (const k of [...FILTER_KEYS, 'sort'] as const) {
    const v = values[k];
    if (v === undefined || v === false || v === '') continue;
    if (v === true) out.set(k, 'true');
    else if (Array.isArray(v)) {
      if (v.length) out.set(k, v.join(','));
    } else if (!(k === 'sort' && v === 'newest')) out.set(k, v);
  }
  const s = out.toString();
  return s ? `?${s}` : '';
}

export function sortOf(view: URLSearchParams): Sort {
  const s = view.get('sort');
  return (SORTS as readonly string[]).includes(s ?? '') ? (s as Sort) : 'newest';
}

interface Sortable {
  number: string;
  created_at: string;
  due_at: string | null;
}

/** Sorts items as the API does (newest, oldest, or soonest due, none last): live arrivals join
 * the loaded page in its order. */
export function sortItems<T extends Sortable>(items: T[], sort: Sort): T[] {
  const byCreated = (a: T, b: T) => Date.parse(a.created_at) - Date.parse(b.created_at) || a.number.localeCompare(b.number);
  const copy = [...items];
  if (sort === 'oldest') return copy.sort(byCreated);
  if (sort === 'due') {
    return copy.sort((a, b) => {
      const da = a.due_at ? Date.parse(a.due_at) : Infinity;
      const db = b.due_at ? Date.parse(b.due_at) : Infinity;
      return da === db ? byCreated(a, b) : da - db;
    });
  }
  return copy.sort((a, b) => -byCreated(a, b));
}

/** Where a map looks: its centre and zoom. */
export interface MapView {
  lat: number;
  lon: number;
  zoom: number;
}

/**
 * The map's place in a view's query string, `at=LAT,LON,ZOOM` (as a bookmark or a shared link
 * carries it); null when absent or out of range.
 */
export function mapViewOf(view: URLSearchParams): MapView | null {
  const parts = (view.get('at') ?? '').split(',');
  if (parts.length !== 3 || parts.some((p) => !/^-?\d+(\.\d+)?$/.test(p.trim()))) return null;
  const [lat, lon, zoom] = parts.map(Number);
  if (Math.abs(lat) > 90 || Math.abs(lon) > 180 || !Number.isInteger(zoom) || zoom < 0 || zoom > 22) return null;
  return { lat, lon, zoom };
}

/** `view` with the map's place set (5 decimals: about a metre). */
export function withMapView(view: URLSearchParams, at: MapView): URLSearchParams {
  const out = new URLSearchParams(view);
  out.set('at', `${at.lat.toFixed(5)},${at.lon.toFixed(5)},${Math.round(at.zoom)}`);
  return out;
}
