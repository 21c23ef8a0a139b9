// The routes of the démarche and account screens (`#/demarches`, `#/demarche/{code}`,
// `#/demarche/{code}/form`, `#/filed/{client id}`, `#/request/{number}`, `#/account…`,
// `#/account/documents` the document wallet).
import type { Navigate, Screen } from '../screens';
import { accountScreen, forgotScreen, registerScreen } from './account-screens';
import { catalogueScreen, demarcheScreen } from './catalogue-screens';
import { filedScreen } from './filed-screen';
import { formScreen } from './form-screen';
import { requestScreen } from './request-screen';
import { walletScreen } from './wallet-screen';

/** The screen of a route of ours, or null when the route is another's. */
export function portalScreen(path: string, query: URLSearchParams, go: Navigate): Screen | null {
  if (path === '/demarches') return catalogueScreen();
  if (path === '/account') return accountScreen(query, go);
  if (path === '/account/register') return registerScreen(query, go);
  if (path === '/account/forgot') return forgotScreen();
  if (path === '/account/documents') return walletScreen(go);
  let m = /^\/demarche\/([a-z0-9-]+)(\/form)?$/.exec(path);
  if (m) return m[2] ? formScreen(m[1], go) : demarcheScreen(m[1], go);
  m = /^\/filed\/([0-9a-f-]{36})$/.exec(path);
  if (m) return filedScreen(m[1]);
  m = /^\/request\/([A-Za-z0-9-]+)$/.exec(path);
  if (m) return requestScreen(m[1]);
  return null;
}

/** Which item of the menu a route belongs to. */
export function menuOf(path: string): 'report' | 'demarches' | 'mine' | 'account' {
  if (path === '/mine' || path.startsWith('/receipt') || path.startsWith('/request/') || path.startsWith('/filed/')) return 'mine';
  if (path.startsWith('/account')) return 'account';
  if (path.startsWith('/demarche')) return 'demarches';
  return 'report';
}
