// The back office's shell: skip link, header (navigation, search for the phone desk, language,
// the agent and log out), the main region where screens go, a polite live region, the
// keyboard shortcuts, and the live stream of my teams' requests when the server has it.
import './style.css';
import { announce, h, replace } from '@guichet/web/dom';
import * as api from './api';
import { BASE, href, session, setNavigator, type LiveEvent, type Screen } from './app';
import { lang, setLang, t } from './i18n';
import { detailScreen } from './screens/detail';
import { entryScreen } from './screens/entry';
import { loginScreen } from './screens/login';
import { agentsScreen, routingScreen, teamsScreen, templatesScreen, webhooksScreen } from './screens/admin';
import { auditScreen } from './screens/audit';
import { dashboardScreen } from './screens/dashboard';
import { demarcheEditor, demarchesScreen } from './screens/demarches';
import { mapScreen } from './screens/map';
import { mineScreen, queueScreen, searchScreen } from './screens/queue';

const root = document.getElementById('app')!;

const skip = h('a', { class: 'skip-link', href: '#main' });
skip.addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
  main.scrollIntoView();
});
const brand = h('a', { class: 'brand', href: BASE, 'data-nav': '' });
const navQueue = h('a', { href: BASE, 'data-nav': '', id: 'nav-queue' });
const navMine = h('a', { href: href('me'), 'data-nav': '', id: 'nav-mine' });
const navNew = h('a', { href: href('new'), 'data-nav': '', id: 'nav-new' });
const navMap = h('a', { href: href('map'), 'data-nav': '', id: 'nav-map' });
const navDash = h('a', { href: href('dashboard'), 'data-nav': '', id: 'nav-dashboard' });
const navTemplates = h('a', { href: href('templates'), 'data-nav': '', id: 'nav-templates' });
const navAdmin = h('a', { href: href('admin/agents'), 'data-nav': '', id: 'nav-admin' });
// The field view is a page (and an installable app) of its own: a plain link.
const navField = h('a', { href: href('field/'), id: 'nav-field' });
const navList = h('ul', null, [navQueue, navMap, navMine, navNew, navDash, navTemplates, navAdmin, navField].map((a) => h('li', null, a)));
const nav = h('nav', { id: 'nav' }, navList);
const searchInput = h('input', { type: 'search', id: 'search-q', name: 'q', autocomplete: 'off' });
const searchLabel = h('label', { for: 'search-q', class: 'visually-hidden' });
const searchBtn = h('button', { type: 'submit' });
const searchForm = h('form', { role: 'search', id: 'search', class: 'search', hidden: true }, searchLabel, searchInput, searchBtn);
const langBtn = h('button', { type: 'button', class: 'lang secondary', id: 'lang-toggle' });
const who = h('span', { class: 'who', id: 'who' });
const logoutBtn = h('button', { type: 'button', class: 'secondary', id: 'logout' });
const helpBtn = h('button', { type: 'button', class: 'secondary', id: 'help', 'aria-haspopup': 'dialog' });
const userBox = h('div', { class: 'user' }, who, helpBtn, logoutBtn);
const main = h('main', { id: 'main', tabindex: '-1' });
const live = h('div', { id: 'live', class: 'visually-hidden', role: 'status', 'aria-live': 'polite', 'aria-atomic': 'true' });
const helpList = h('ul');
const helpTitle = h('h2', { id: 'help-title' });
const helpClose = h('button', { type: 'button', class: 'secondary' });
const helpDialog = h('dialog', { id: 'help-dialog', 'aria-labelledby': 'help-title' }, helpTitle, helpList, helpClose);
helpClose.addEventListener('click', () => helpDialog.close());

replace(root,
  skip,
  h('header', { class: 'top' }, h('div', { class: 'bar' }, brand, searchForm, h('div', { class: 'tools' }, langBtn, userBox)), nav),
  main,
  live,
  helpDialog,
);

function renderChrome(): void {
  document.documentElement.lang = lang();
  skip.textContent = t('skip');
  brand.textContent = t('app.name');
  nav.setAttribute('aria-label', t('nav.label'));
  navQueue.textContent = t('nav.queue');
  navMine.textContent = t('nav.mine');
  navNew.textContent = t('nav.new');
  navMap.textContent = t('nav.map');
  navDash.textContent = t('nav.dashboard');
  navTemplates.textContent = t('nav.templates');
  navAdmin.textContent = t('nav.admin');
  navField.textContent = t('nav.field');
  searchLabel.textContent = t('search.label');
  searchInput.placeholder = t('search.placeholder');
  searchBtn.textContent = t('search.submit');
  const other = lang() === 'fr' ? 'en' : 'fr';
  langBtn.textContent = t('lang.switch');
  langBtn.setAttribute('lang', other);
  langBtn.setAttribute('aria-label', t('lang.switch.label'));
  logoutBtn.textContent = t('user.logout');
  helpBtn.textContent = t('shortcuts.open');
  helpTitle.textContent = t('shortcuts.title');
  helpClose.textContent = t('shortcuts.close');
  replace(helpList, (['shortcuts.jk', 'shortcuts.enter', 'shortcuts.x', 'shortcuts.a', 'shortcuts.r', 'shortcuts.slash', 'shortcuts.help'] as const).map((k) => h('li', null, t(k))));
  const me = session.me;
  nav.hidden = !me;
  userBox.hidden = !me;
  searchForm.hidden = !me || !session.features.search;
  who.textContent = me ? t('user.who', { name: me.name, role: t(`role.${me.role}`) }) : '';
  navNew.parentElement!.hidden = !me || me.role === 'field';
  const supervising = me?.role === 'supervisor' || me?.role === 'admin';
  navDash.parentElement!.hidden = !supervising;
  navTemplates.parentElement!.hidden = !supervising;
  navAdmin.parentElement!.hidden = me?.role !== 'admin';
}

langBtn.addEventListener('click', () => {
  setLang(lang() === 'fr' ? 'en' : 'fr');
  renderChrome();
  render(false);
  langBtn.focus();
});

helpBtn.addEventListener('click', () => helpDialog.showModal());

logoutBtn.addEventListener('click', async () => {
  try {
    await api.logout();
  } catch {
    /* the session may be gone already */
  }
  session.me = null;
  stopLive();
  renderChrome();
  navigate('login', { replace: true });
  announce(t('logout.done'));
});

searchForm.addEventListener('submit', (e) => {
  e.preventDefault();
  const q = searchInput.value.trim();
  if (q) navigate(`search?${new URLSearchParams({ q })}`);
});

// ---- router ----

let current: Screen | null = null;

function routePath(): string {
  const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname.replace(/^\//, '');
  return p.replace(/\/+$/, '');
}

function screenFor(path: string, params: URLSearchParams): Screen {
  if (!session.me || path === 'login') {
    if (session.me) return redirect('');
    return loginScreen(async (me) => {
      session.me = me;
      await afterLogin();
      const next = params.get('next');
      navigate(next && next.startsWith(BASE) ? next.slice(BASE.length) : '', { replace: true });
    });
  }
  const m = /^requests\/(.+)$/.exec(path);
  if (m) return detailScreen(decodeURIComponent(m[1]), params);
  if (path === 'me') return mineScreen();
  if (path === 'search') return searchScreen(params.get('q') ?? '');
  if (path === 'new') return entryScreen(params);
  if (path === '' || path === 'index.html') return queueScreen(params);
  if (path === 'map') return mapScreen(params);
  const role = session.me.role;
  const supervising = role === 'supervisor' || role === 'admin';
  if (path === 'dashboard' && supervising) return dashboardScreen();
  if (path === 'templates' && supervising) return templatesScreen();
  if (role === 'admin') {
    if (path === 'admin' || path === 'admin/agents') return agentsScreen();
    if (path === 'admin/teams') return teamsScreen();
    if (path === 'admin/routing') return routingScreen();
    if (path === 'admin/webhooks') return webhooksScreen();
    if (path === 'admin/audit') return auditScreen(params);
    if (path === 'admin/demarches') return demarchesScreen();
    const d = /^admin\/demarches\/(.+)$/.exec(path);
    if (d) return demarcheEditor(decodeURIComponent(d[1]));
  }
  return notFound();
}

function notFound(): Screen {
  const title = t('notfound.title');
  return {
    title,
    el: h('section', null,
      h('h1', { id: 'screen-title', tabindex: '-1' }, title),
      h('p', null, h('a', { href: BASE, 'data-nav': '' }, t('notfound.back')))),
  };
}

function redirect(path: string): Screen {
  history.replaceState(null, '', href(path));
  return screenFor(routePath(), new URLSearchParams(location.search));
}

function render(moveFocus: boolean, focusId?: string): void {
  current?.cleanup?.();
  const path = routePath();
  if (!session.me && path !== 'login') {
    const next = location.pathname + location.search;
    history.replaceState(null, '', href(`login${next !== BASE ? `?${new URLSearchParams({ next })}` : ''}`));
  }
  current = screenFor(routePath(), new URLSearchParams(location.search));
  replace(main, current.el);
  document.title = `${current.title} — ${t('app.name')}`;
  const p = routePath();
  for (const [a, on] of [[navQueue, p === '' || p.startsWith('requests')], [navMap, p === 'map'], [navMine, p === 'me'], [navNew, p === 'new'], [navDash, p === 'dashboard'], [navTemplates, p === 'templates'], [navAdmin, p.startsWith('admin')]] as const) {
    if (on) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (p === 'search') searchInput.value = new URLSearchParams(location.search).get('q') ?? '';
  if (moveFocus) {
    const target = (focusId && document.getElementById(focusId)) || main.querySelector<HTMLElement>('#screen-title') || main;
    target.focus();
    if (!focusId) window.scrollTo(0, 0);
  }
}

function navigate(path: string, opts: { replace?: boolean; focus?: string } = {}): void {
  const url = path.startsWith('?') ? BASE + path : href(path);
  if (opts.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render(true, opts.focus);
}
setNavigator(navigate);

window.addEventListener('popstate', () => render(true));

// Links inside the app change the view without reloading the page.
document.addEventListener('click', (e) => {
  const a = (e.target as Element | null)?.closest?.('a[data-nav]') as HTMLAnchorElement | null;
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const url = new URL(a.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(BASE)) return;
  e.preventDefault();
  history.pushState(null, '', url.pathname + url.search);
  render(true);
});

// ---- keyboard shortcuts: not while typing, never with a modifier ----

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey || !session.me) return;
  const target = e.target as HTMLElement | null;
  if (target?.closest('input, textarea, select, [contenteditable="true"], dialog[open]')) return;
  if (e.key === '?') {
    e.preventDefault();
    helpDialog.showModal();
    return;
  }
  if (e.key === '/' && session.features.search) {
    e.preventDefault();
    searchInput.focus();
    return;
  }
  if (current?.onKey?.(e)) e.preventDefault();
});

// ---- live updates (server-sent events) ----

let stream: EventSource | null = null;

function startLive(): void {
  if (stream || !session.features.events) return;
  // The browser resumes with Last-Event-ID by itself after a dropped connection.
  stream = new EventSource(`/api/v1/agent/events`, { withCredentials: true });
  stream.addEventListener('resync', () => current?.onLive?.({ number: '', phase: '', team_id: null, resync: true }));
  stream.addEventListener('request', (ev) => {
    try {
      const data = JSON.parse((ev as MessageEvent<string>).data) as LiveEvent;
      current?.onLive?.(data);
    } catch {
      /* not ours */
    }
  });
}

function stopLive(): void {
  stream?.close();
  stream = null;
}

async function afterLogin(): Promise<void> {
  const [search, counts, events, trackingCode] = await Promise.all([
    api.routeExists('/agent/search?q=0&limit=1'),
    api.routeExists('/agent/requests/counts'),
    // An event stream never ends: only its headers are read, then it is dropped.
    fetch('/api/v1/agent/events', { headers: { Accept: 'text/event-stream' }, signal: AbortSignal.timeout(5000) })
      .then(async (r) => {
        const ok = r.ok && (r.headers.get('content-type') ?? '').startsWith('text/event-stream');
        await r.body?.cancel();
        return ok;
      })
      .catch(() => false),
    api.routeExists('/agent/requests/0/tracking-code'),
  ]);
  session.features = { search, counts, events, trackingCode };
  renderChrome();
  startLive();
}

// ---- start ----

setLang(lang());
renderChrome();
try {
  session.me = await api.me();
  await afterLogin();
} catch {
  session.me = null;
}
renderChrome();
render(false);
