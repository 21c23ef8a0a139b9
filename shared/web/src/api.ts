// The core of the JSON API client both apps use (`/api/v1/`, docs/api.md): one fetch wrapper
// with a timeout, the language of the answer's labels, and errors read from problem+json
// (RFC 9457) with their stable `code` and, for input, the offending fields' paths
// (`data.items[1].quantity`, `files.cv`...), which the form renderer shows at their fields.
import { config } from './config.js';
import { lang } from './i18n.js';
import { classify, parseRetryAfter } from './sync-policy.js';

/** One broken rule of an input: `field` is a path such as `data.items[1].quantity`. */
export interface FieldError {
  field: string;
  code: string;
  message: string;
}

/** An answer that is not 2xx. `permanent` errors will not get better by retrying (docs/sync.md). */
export class ApiError extends Error {
  constructor(
    public status: number,
    public code: string,
    message: string,
    /** The answer's `Retry-After`, as a wait in ms. */
    public retryAfterMs: number | null = null,
    /** Validation errors, in the order of the form. */
    public errors: FieldError[] = [],
    /** The first offending field, when the problem names one. */
    public field: string | null = null,
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

export interface CallOptions {
  timeoutMs?: number;
  /** Headers every call of this client sends (the back office's `X-Requested-With`). */
  headers?: Record<string, string>;
}

/** Reads a problem document into an ApiError; anything else becomes `http-<status>`. */
export async function problemOf(res: Response): Promise<ApiError> {
  let code = 'http-' + res.status;
  let detail = res.statusText;
  let errors: FieldError[] = [];
  let field: string | null = null;
  try {
    const p = (await res.json()) as Record<string, unknown>;
    if (typeof p.code === 'string') code = p.code;
    const d = p.detail ?? p.title;
    if (typeof d === 'string') detail = d;
    if (Array.isArray(p.errors)) {
      errors = p.errors
        .filter((e): e is FieldError => typeof e === 'object' && e !== null && typeof (e as FieldError).field === 'string')
        .map((e) => ({ field: e.field, code: String(e.code ?? ''), message: String(e.message ?? '') }));
    }
    if (typeof p.field === 'string') field = p.field;
  } catch {
    /* not a problem document */
  }
  return new ApiError(res.status, code, detail, parseRetryAfter(res.headers.get('Retry-After'), Date.now()), errors, field);
}

/**
 * Calls the API and reads a JSON answer (none for 204). Throws ApiError for a non-2xx answer
 * and NetworkError when nothing usable came back.
 */
export async function call<T>(path: string, init: RequestInit = {}, opts: CallOptions = {}): Promise<{ status: number; body: T }> {
  const headers = new Headers(init.headers);
  headers.set('Accept-Language', lang() === 'en' ? 'en' : 'fr');
  if (!headers.has('Accept')) headers.set('Accept', 'application/json');
  for (const [k, v] of Object.entries(opts.headers ?? {})) headers.set(k, v);
  let res: Response;
  try {
    res = await fetch(apiUrl(path), { ...init, headers, signal: AbortSignal.timeout(opts.timeoutMs ?? 15000) });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) throw await problemOf(res);
  if (res.status === 204) return { status: res.status, body: undefined as T };
  let body: T;
  try {
    body = (await res.json()) as T;
  } catch (e) {
    throw new NetworkError('truncated answer: ' + String(e));
  }
  return { status: res.status, body };
}

/** A JSON body for `call`. */
export function jsonBody(method: string, body: unknown): RequestInit {
  return { method, headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) };
}
