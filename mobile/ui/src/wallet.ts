// The account's document wallet (`/api/v1/citizen/me/documents`, docs/api.md): documents kept
// once (identity, proof of address…) and attached to any démarche's file field without
// sending them again. Private to the account: every call carries the session's token.
import { apiUrl, call, NetworkError, problemOf } from '@guichet/web/api';
import type { WalletDocument as Chosen } from '@guichet/web/forms/render';
import { token } from './account';

export const KINDS = ['identity', 'proof-of-address', 'income', 'family', 'other'] as const;
export type Kind = (typeof KINDS)[number];

export interface WalletDocument extends Chosen {
  kind: Kind;
  created_at: string;
  download_url: string;
}

export interface Wallet {
  documents: WalletDocument[];
  used_bytes: number;
  quota_bytes: number;
}

function auth(): Record<string, string> {
  const t = token();
  return t ? { Authorization: `Bearer ${t}` } : {};
}

/** The path of a download URL under the API base (`/api/v1/…` → `/…`). */
function apiPath(url: string): string {
  return url.replace(/^\/api\/v1/, '');
}

export async function getWallet(): Promise<Wallet> {
  return (await call<Wallet>('/citizen/me/documents', { headers: auth() }, { timeoutMs: 10000 })).body;
}

export async function addDocument(label: string, kind: Kind, file: File): Promise<WalletDocument> {
  const fd = new FormData();
  fd.append('document', JSON.stringify({ label, kind }));
  fd.append('file', file, file.name);
  return (await call<WalletDocument>('/citizen/me/documents', { method: 'POST', body: fd, headers: auth() }, { timeoutMs: 120000 })).body;
}

export async function deleteDocument(doc: WalletDocument): Promise<void> {
  await call<void>(apiPath(doc.download_url), { method: 'DELETE', headers: auth() });
}

/** The document's bytes (the download needs the token, so a plain link cannot carry it). */
export async function documentBlob(doc: WalletDocument): Promise<Blob> {
  let res: Response;
  try {
    res = await fetch(apiUrl(apiPath(doc.download_url)), { headers: auth(), signal: AbortSignal.timeout(60000) });
  } catch (e) {
    throw new NetworkError(e instanceof Error ? e.message : String(e));
  }
  if (!res.ok) throw await problemOf(res);
  return res.blob();
}
