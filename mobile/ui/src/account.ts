// The citizen's account (`/api/v1/citizen/…`, docs/api.md): register, verify the address,
// log in and out, reset a forgotten password, and "my requests". The session is a bearer
// token kept on this device until it expires or the citizen logs out.
import { call as callApi, jsonBody } from '@guichet/web/api';
import { lang } from '@guichet/web/i18n';

export interface Session {
  token: string;
  expires_at: string;
  email: string;
  name: string;
  email_verified: boolean;
}

/** One request of the account, as `GET /citizen/requests` lists it. */
export interface AccountRequest {
  number: string;
  demarche: string;
  demarche_title: string;
  status_label: string;
  phase: string;
  created_at: string;
  updated_at: string;
}

const KEY = 'guichet.session';
const listeners = new Set<() => void>();

export function session(): Session | null {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return null;
    const s = JSON.parse(raw) as Session;
    if (Date.parse(s.expires_at) <= Date.now()) {
      localStorage.removeItem(KEY);
      return null;
    }
    return s;
  } catch {
    return null;
  }
}

export function token(): string | null {
  return session()?.token ?? null;
}

function save(s: Session | null): void {
  try {
    if (s) localStorage.setItem(KEY, JSON.stringify(s));
    else localStorage.removeItem(KEY);
  } catch {
    /* storage disabled: the session lasts as long as the page */
  }
  listeners.forEach((l) => l());
}

/** Called when the citizen logs in or out. */
export function onSession(l: () => void): () => void {
  listeners.add(l);
  return () => listeners.delete(l);
}

function post<T>(path: string, body: unknown, auth = false): Promise<T> {
  const init = jsonBody('POST', body);
  const t = auth ? token() : null;
  const headers = { ...(init.headers as Record<string, string>), ...(t ? { Authorization: `Bearer ${t}` } : {}) };
  return callApi<T>(`/citizen/${path}`, { ...init, headers }, { timeoutMs: 20000 }).then((r) => r.body);
}

export function register(email: string, password: string, name: string): Promise<unknown> {
  return post('register', { email, password, name, lang: lang() });
}

export function verify(code: string): Promise<unknown> {
  return post('verify', { token: code.trim() });
}

export function resendVerification(email: string): Promise<unknown> {
  return post('verify/resend', { email });
}

export async function login(email: string, password: string): Promise<Session> {
  const r = await post<Session>('login', { email, password });
  const s: Session = { token: r.token, expires_at: r.expires_at, email: r.email, name: r.name, email_verified: r.email_verified };
  save(s);
  return s;
}

/** Ends the session here whatever the server says (it may be unreachable or already over). */
export async function logout(): Promise<void> {
  try {
    await post('logout', {}, true);
  } catch {
    /* the token is forgotten anyway */
  }
  save(null);
}

export function forgotPassword(email: string): Promise<unknown> {
  return post('password/forgot', { email });
}

export function resetPassword(code: string, password: string): Promise<unknown> {
  return post('password/reset', { token: code.trim(), password });
}

/** Reads the account again (after the address was verified elsewhere, for one). */
export async function refreshSession(): Promise<Session | null> {
  const s = session();
  if (!s) return null;
  const me = (await callApi<Omit<Session, 'token' | 'expires_at'>>('/citizen/me', { headers: { Authorization: `Bearer ${s.token}` } })).body;
  const next = { ...s, email: me.email, name: me.name, email_verified: me.email_verified };
  save(next);
  return next;
}

export async function accountRequests(): Promise<AccountRequest[]> {
  const t = token();
  if (!t) return [];
  return (await callApi<AccountRequest[]>('/citizen/requests', { headers: { Authorization: `Bearer ${t}` } }, { timeoutMs: 10000 })).body;
}

/** A session the server no longer knows (expired, ended elsewhere): forget it here too. */
export function dropSession(): void {
  save(null);
}
