import './style.css';
import { config } from '@guichet/web/config';
import { announce, h, replace } from '@guichet/web/dom';
import { lang, setLang, t, type MessageKey } from './i18n';
import { choosePlatform, insideTauri, type ServerStatus } from './platform';
import { prefetchDefinition } from './api';
import { categoryScreen, detailsScreen, mineScreen, nearbyScreen, placeScreen, receiptScreen, type Screen } from './screens';
import { draft, stopGps } from './state';
import type * as Portal from './demarches/routes';

// The démarche and account screens (and the form renderer they use) are a chunk of their own,
// fetched on the first visit to one of their routes: the report flow's screens do not wait
// for them. Started at once when the app opens on such a route.
const PORTAL_PATH = /^\/(demarches?|account|filed|request)(\/|$)/;
let portal: typeof Portal | null = null;
let portalLoading: Promise<void> | null = null;
function loadPortal(): Promise<void> {
  portalLoading ??= import('./demarches/routes').then((m) => {
    portal = m;
  });
  return portalLoading;
}

// Opened on a démarche's page: its screens' chunk and its definition are fetched at once, side
// by side, rather than one after the other.
const openedOn = location.hash.replace(/^#/, '').split('?')[0];
if (PORTAL_PATH.test(openedOn)) void loadPortal();
const openedDemarche = /^\/demarche\/([a-z0-9-]+)/.exec(openedOn);
if (openedDemarche) prefetchDefinition(openedDemarche[1]);

// Inside the Tauri app, the native core; in a browser, the IndexedDB outbox (see platform.ts).
// Chosen before anything reads the outbox or the position.
const platform = await choosePlatform();

const app = document.getElementById('app')!;

// ---- the shell: skip link, header, offline banner, main, live region ----

const skip = h('a', { class: 'skip-link', href: '#main' });
skip.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
  main.scrollIntoView();
});
const brand = h('a', { class: 'brand', href: '#/' });
const navReport = h('a', { href: '#/', id: 'nav-report' });
const navDemarches = h('a', { href: '#/demarches', id: 'nav-demarches' });
const navMine = h('a', { href: '#/mine', id: 'nav-mine' });
const navAccount = h('a', { href: '#/account', id: 'nav-account' });
const nav = h('nav', null, h('ul', null,
  h('li', null, navReport), h('li', null, navDemarches), h('li', null, navMine), h('li', null, navAccount)));
const langBtn = h('button', { type: 'button', class: 'lang', id: 'lang-toggle' });
const banner = h('p', { class: 'offline-banner', id: 'offline-banner', hidden: true });
// Inside the native app only: its server does not answer (see checkServer below).
const serverBanner = h('div', { class: 'server-banner', id: 'server-banner', role: 'alert', hidden: true });
const main = h('main', { id: 'main', tabindex: '-1' });
const live = h('div', { id: 'live', class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
const footer = h('footer', null, h('p', null));

replace(app,
  skip,
  h('header', { class: 'top' }, h('div', { class: 'bar' }, brand, langBtn), nav),
  banner,
  serverBanner,
  main,
  footer,
  live,
);

async function renderChrome(): Promise<void> {
  // Everything but the count of waiting reports is drawn at once, so that the header does not
  // move under the first screen when the count arrives.
  document.documentElement.lang = lang();
  skip.textContent = t('skip');
  replace(brand, h('span', { class: 'brand-name' }, t('app.name')), h('span', { class: 'brand-tag' }, t('app.tagline')));
  nav.setAttribute('aria-label', t('nav.label'));
  navReport.textContent = t('nav.report');
  navDemarches.textContent = t('nav.demarches');
  navAccount.textContent = t('nav.account');
  if (!navMine.querySelector('.badge')) navMine.textContent = t('nav.mine');
  const other = lang() === 'fr' ? 'en' : 'fr';
  langBtn.textContent = t('lang.switch');
  langBtn.setAttribute('lang', other);
  langBtn.setAttribute('aria-label', t('lang.switch.label'));
  banner.textContent = t('net.offline');
  banner.hidden = navigator.onLine !== false;
  replace(footer,
    h('p', null, t('footer')),
    h('p', null, h('a', { href: `${config.apiBase}/accessibilite?lang=${lang()}`, id: 'accessibility-link' }, t('footer.accessibility'))));
  const pending = (await platform.pendingEntries()).filter((i) => !i.failed).length;
  replace(navMine, t('nav.mine'), pending ? h('span', { class: 'badge', id: 'pending-badge' }, t('nav.pending', { n: pending })) : null);
}

// ---- the native app's server ----
// A browser talks to the server that served the page. The native app's server is a setting
// (environment, settings file, or the build's): when it does not answer, say so at once, with
// the address, where it came from and how to change it, rather than leave empty screens.

let server: ServerStatus | null = null;
const retryServer = h('button', { type: 'button', class: 'secondary', id: 'server-retry' });
retryServer.addEventListener('click', () => void checkServer());

function renderServer(): void {
  const s = server;
  serverBanner.hidden = !s?.problem;
  if (!s?.problem) {
    replace(serverBanner);
    return;
  }
  const file = s.settings_file;
  retryServer.textContent = t('server.retry');
  replace(serverBanner,
    h('p', { class: 'server-what', id: 'server-what' }, t('server.unreachable', { url: s.url })),
    h('p', null, t(`server.source.${s.source}` as MessageKey, { file })),
    s.settings_problem ? h('p', null, t('server.settings_problem', { problem: s.settings_problem })) : null,
    h('p', null, t('server.howto', { file })),
    h('p', { class: 'server-detail' }, t('server.detail', { problem: s.problem })),
    h('p', null, retryServer));
}

async function checkServer(): Promise<void> {
  if (!platform.serverStatus) return;
  const wasDown = Boolean(server?.problem);
  try {
    server = await platform.serverStatus();
  } catch (e) {
    console.error('server status', e);
    return;
  }
  renderServer();
  if (wasDown && !server.problem) {
    announce(t('server.back'));
    void platform.syncNow(true);
  }
}

langBtn.addEventListener('click', () => {
  setLang(lang() === 'fr' ? 'en' : 'fr');
  void renderChrome();
  renderServer();
  render(false);
  langBtn.focus();
});

// ---- router ----

let current: Screen | null = null;

/** Which item of the menu a route belongs to (as `routes.menuOf`, without loading it). */
function menuOf(path: string): 'report' | 'demarches' | 'mine' | 'account' {
  if (path === '/mine' || path.startsWith('/receipt') || path.startsWith('/request/') || path.startsWith('/filed/')) return 'mine';
  if (path.startsWith('/account')) return 'account';
  if (path.startsWith('/demarche')) return 'demarches';
  return 'report';
}

/** Shown while the portal's chunk arrives; the route is drawn again once it is there. */
function loadingScreen(): Screen {
  const wanted = location.hash;
  loadPortal()
    .then(() => {
      if (location.hash === wanted) render(true);
    })
    .catch(() => {
      if (location.hash !== wanted) return;
      replace(main, h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
        h('h1', { id: 'screen-title', tabindex: '-1' }, t('screen.unavailable'))));
    });
  return {
    title: t('screen.loading'),
    el: h('section', { class: 'screen', 'aria-busy': 'true', 'aria-labelledby': 'screen-title' },
      h('h1', { id: 'screen-title', tabindex: '-1' }, t('screen.loading'))),
  };
}

function go(hash: string): void {
  if (location.hash === hash) render(true);
  else location.hash = hash;
}

function screenFor(hash: string): Screen {
  const [rawPath, rawQuery = ''] = hash.replace(/^#/, '').split('?');
  const path = rawPath || '/';
  if (PORTAL_PATH.test(path)) {
    stopGps();
    if (!portal) return loadingScreen();
    const screen = portal.portalScreen(path, new URLSearchParams(rawQuery), go);
    if (screen) return screen;
  }
  const flow = ['/place', '/nearby', '/details'];
  if (flow.includes(path) && !draft.category) return redirect('#/');
  if ((path === '/nearby' || path === '/details') && !draft.place) return redirect('#/place');
  if (path === '/nearby' && !draft.nearby.length) return redirect('#/details');
  if (path === '/place') return placeScreen(go);
  if (path === '/nearby') return nearbyScreen(go);
  if (path === '/details') return detailsScreen(go);
  if (path === '/mine') {
    stopGps();
    return mineScreen();
  }
  const m = path.match(/^\/receipt\/([0-9a-f-]{36})$/);
  if (m) {
    stopGps();
    return receiptScreen(m[1]);
  }
  return categoryScreen(go);
}

function redirect(hash: string): Screen {
  history.replaceState(null, '', hash);
  return screenFor(hash);
}

function render(moveFocus: boolean): void {
  current?.cleanup?.();
  current = screenFor(location.hash);
  replace(main, current.el);
  document.title = `${current.title} — ${t('app.name')}`;
  const menu = menuOf(location.hash.replace(/^#/, '').split('?')[0] || '/');
  const items = { report: navReport, demarches: navDemarches, mine: navMine, account: navAccount };
  for (const [name, a] of Object.entries(items)) {
    if (name === menu) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (moveFocus) {
    const title = main.querySelector<HTMLElement>('#screen-title');
    (title ?? main).focus();
    window.scrollTo(0, 0);
  }
}

window.addEventListener('hashchange', () => {
  // The skip link's own target is not a route.
  if (!location.hash.startsWith('#/') && location.hash !== '') return;
  render(true);
});

window.addEventListener('online', () => {
  void renderChrome();
  void checkServer();
  announce(t('status.online'));
});
window.addEventListener('offline', () => {
  void renderChrome();
  announce(t('status.offline'));
});
platform.onOutbox((e) => {
  if (e.type !== 'sending') void renderChrome();
  // Something reached the server: it is back.
  if (e.type === 'sent' && server?.problem) void checkServer();
});

setLang(lang());
void renderChrome();
render(false);
platform.start();
void checkServer();

// ---- service worker (the app shell offline) ----
// Not inside the Tauri app: it ships its files, and a cached shell could only outlive an update.
if ('serviceWorker' in navigator && import.meta.env.PROD && !insideTauri()) {
  window.addEventListener('load', () => {
    navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((e) => console.warn('service worker', e));
  });
}
