// The field teams' view: a phone-first page of its own under /backoffice/field/, installable as
// its own app (manifest and service worker scoped to field/ only). The shell: skip link, header
// (navigation with the outbox's counts, language, log out), the offline and session banners,
// the main region, a polite live region; the router on the address's #fragment; the agent
// (from the server, or the one kept on the phone when offline); the outbox started as them.
import '../style.css';
import './field.css';
import { announce, h, replace } from '@guichet/web/dom';
import * as api from '../api';
import { loginScreen } from '../screens/login';
import { field, go, screenHref, type Screen } from './app';
import { lang, setLang, t } from './i18n';
import { outbox, outboxCounts } from './outbox';
import { incidentScreen } from './screens/incident';
import { mapScreen } from './screens/map';
import { outboxScreen } from './screens/outbox';
import { roundScreen } from './screens/round';
import { stopScreen } from './screens/stop';
import { saved } from './store';

const root = document.getElementById('app')!;

const skip = h('a', { class: 'skip-link', href: '#main' });
skip.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
  main.scrollIntoView();
});
const brand = h('a', { class: 'brand', href: screenHref('') });
const navRound = h('a', { href: screenHref(''), id: 'nav-round' });
const navMap = h('a', { href: screenHref('map'), id: 'nav-map' });
const navNew = h('a', { href: screenHref('new'), id: 'nav-new' });
const navOutbox = h('a', { href: screenHref('outbox'), id: 'nav-outbox' });
const navBack = h('a', { href: '../', id: 'nav-backoffice' });
const nav = h('nav', { id: 'nav' }, h('ul', null, [navRound, navMap, navNew, navOutbox, navBack].map((a) => h('li', null, a))));
const langBtn = h('button', { type: 'button', class: 'lang secondary', id: 'lang-toggle' });
const logoutBtn = h('button', { type: 'button', class: 'secondary', id: 'logout' });
const offlineBanner = h('p', { class: 'banner offline', id: 'offline-banner', hidden: true });
const sessionBanner = h('p', { class: 'banner session', id: 'session-banner', hidden: true });
const main = h('main', { id: 'main', tabindex: '-1' });
const live = h('div', { id: 'live', class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });

replace(root,
  skip,
  h('header', { class: 'top' }, h('div', { class: 'bar' }, brand, h('div', { class: 'tools' }, langBtn, logoutBtn)), nav),
  offlineBanner,
  sessionBanner,
  main,
  live,
);

async function renderChrome(): Promise<void> {
  document.documentElement.lang = lang();
  skip.textContent = t('skip');
  brand.textContent = t('app.name');
  nav.setAttribute('aria-label', t('nav.label'));
  navRound.textContent = t('nav.round');
  navMap.textContent = t('nav.map');
  navNew.textContent = t('nav.new');
  navBack.textContent = t('nav.backoffice');
  const { pending, conflicts } = await outboxCounts();
  const counts = [pending ? t('nav.outbox.pending', { n: pending }) : '', conflicts ? t('nav.outbox.conflicts', { n: conflicts }) : ''].filter(Boolean).join(', ');
  replace(navOutbox, t('nav.outbox'), counts ? [' ', h('span', { class: 'badge' + (conflicts ? ' conflict' : ''), id: 'outbox-badge' }, counts)] : null);
  const other = lang() === 'fr' ? 'en' : 'fr';
  langBtn.textContent = t('lang.switch');
  langBtn.setAttribute('lang', other);
  langBtn.setAttribute('aria-label', t('lang.switch.label'));
  logoutBtn.textContent = t('user.logout');
  nav.hidden = logoutBtn.hidden = !field.me;
  offlineBanner.textContent = t('net.offline');
  offlineBanner.hidden = navigator.onLine !== false;
  sessionBanner.hidden = !(field.me && outbox.paused());
  replace(sessionBanner, t('session.ended'), ' ', h('a', { href: screenHref('login') }, t('session.login')));
}

// ---- router ----

let current: Screen | null = null;

function routePath(): string {
  return decodeURIComponent(location.hash.replace(/^#\/?/, ''));
}

function message(title: string, text: string): Screen {
  return { title, el: h('section', null, h('h1', { id: 'screen-title', tabindex: '-1' }, title), h('p', null, text)) };
}

function screenFor(path: string): Screen {
  if (!field.me || path === 'login') {
    if (!field.me && navigator.onLine === false) return message(t('app.name'), t('session.offlineFirst'));
    return loginScreen(async (me) => {
      await startAs(me);
      go('');
    });
  }
  if (path === 'map') return mapScreen();
  if (path === 'new') return incidentScreen();
  if (path === 'outbox') return outboxScreen();
  const m = /^stop\/(.+)$/.exec(path);
  if (m) return stopScreen(m[1]);
  return roundScreen();
}

function render(moveFocus: boolean): void {
  current?.cleanup?.();
  const path = routePath();
  current = screenFor(path);
  replace(main, current.el);
  document.title = `${current.title} — ${t('app.name')}`;
  for (const [a, on] of [[navRound, path === ''], [navMap, path === 'map'], [navNew, path === 'new'], [navOutbox, path === 'outbox']] as const) {
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (moveFocus) {
    (main.querySelector<HTMLElement>('#screen-title') ?? main).focus();
    window.scrollTo(0, 0);
  }
}

window.addEventListener('hashchange', () => {
  // The skip link's own target is not a screen.
  if (location.hash === '#main') return;
  render(true);
});

// ---- session ----

async function startAs(me: api.Me): Promise<void> {
  field.me = me;
  await saved.setMe(me);
  await outbox.startAs(me.id);
  void renderChrome();
}

langBtn.addEventListener('click', () => {
  setLang(lang() === 'fr' ? 'en' : 'fr');
  void renderChrome();
  render(false);
  langBtn.focus();
});

logoutBtn.addEventListener('click', async () => {
  try {
    await api.logout();
  } catch {
    /* offline, or the session ended already */
  }
  outbox.stop();
  field.me = null;
  // The round was this agent's; their waiting actions stay, and go out at their next login.
  await saved.forgetMe();
  await saved.forgetWork();
  await renderChrome();
  go('login');
  announce(t('user.logout'));
});

window.addEventListener('online', () => {
  void renderChrome();
  announce(t('net.online'));
});
window.addEventListener('offline', () => {
  void renderChrome();
  announce(t('net.offlineSaid'));
});
outbox.onEvent((e) => {
  if (e.type === 'sending') return;
  void renderChrome();
  if (e.type === 'paused') announce(t('session.ended'));
});

// ---- start ----

setLang(lang());
try {
  field.me = await api.me();
} catch (e) {
  // Offline (or the server out of reach): work with the round kept for the agent last here.
  field.me = e instanceof api.ApiError ? null : await saved.me();
}
if (field.me) await startAs(field.me);
await renderChrome();
render(false);

// ---- service worker: this view offline, and nothing else of the back office ----
if ('serviceWorker' in navigator && import.meta.env.PROD) {
  const register = () => navigator.serviceWorker.register('./sw.js', { scope: './' }).catch((e) => console.warn('service worker', e));
  // The start above awaited the server: the page may have finished loading meanwhile.
  if (document.readyState === 'complete') void register();
  else window.addEventListener('load', () => void register());
}
