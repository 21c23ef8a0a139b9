// The field view's service worker, registered with the scope /backoffice/field/ only: it never
// controls the rest of the back office. Built by vite.config.ts, which fills in the build's
// version and the files the field view needs (paths under /backoffice/).
// - The app shell (page, scripts, styles, icons) is precached, so the view opens offline.
// - Photos under /media/ (content-addressed, never changing) are kept in a cache of their own,
//   which the page also fills with the round's thumbnails as soon as the round is loaded.
// - The API is never touched: the page keeps the round and the details in IndexedDB, and its
//   outbox sends the actions made offline.
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const SHELL = `guichet-field-shell-${VERSION}`;
const MEDIA = 'guichet-field-media';
const MEDIA_MAX = 600;
const SCOPE = new URL(self.registration.scope);
const BASE = new URL('../', SCOPE);
const PAGE = 'field/index.html';
// Files that an operator may edit in place: network first, cache as fallback.
const NETWORK_FIRST = new Set([PAGE, 'config.js', 'field/manifest.webmanifest']);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(SHELL)
      .then((cache) => cache.addAll(PRECACHE.map((f) => new Request(new URL(f, BASE), { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('guichet-field-shell-') && k !== SHELL).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

/** The path under /backoffice/, or null for anything else. */
function relative(url) {
  return url.pathname.startsWith(BASE.pathname) ? url.pathname.slice(BASE.pathname.length) : null;
}

async function networkFirst(request, key) {
  try {
    const res = await fetch(request, { signal: AbortSignal.timeout(4000) });
    if (res.ok) return res;
    throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    const cached = await caches.match(new URL(key, BASE), { cacheName: SHELL });
    if (cached) return cached;
    throw e;
  }
}

async function cacheFirst(request, key) {
  const cached = await caches.match(new URL(key, BASE), { cacheName: SHELL });
  return cached || fetch(request);
}

async function media(request) {
  const cache = await caches.open(MEDIA);
  const cached = await cache.match(request, { ignoreSearch: true });
  if (cached) return cached;
  const res = await fetch(request);
  if (res.ok) {
    await cache.put(request, res.clone());
    // Oldest first: keep the cache to a phone's reasonable size.
    const keys = await cache.keys();
    await Promise.all(keys.slice(0, Math.max(0, keys.length - MEDIA_MAX)).map((k) => cache.delete(k)));
  }
  return res;
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== SCOPE.origin) return;
  if (url.pathname.startsWith('/media/')) {
    event.respondWith(media(req));
    return;
  }
  const rel = relative(url);
  if (rel === null) return;
  // The field view is one page (its screens are in the address's #fragment): every navigation
  // inside the scope gets it.
  if (req.mode === 'navigate') {
    if (url.pathname.startsWith(SCOPE.pathname)) event.respondWith(networkFirst(new Request(new URL(PAGE, BASE)), PAGE));
    return;
  }
  if (NETWORK_FIRST.has(rel)) event.respondWith(networkFirst(req, rel));
  else if (PRECACHE.includes(rel)) event.respondWith(cacheFirst(req, rel));
});
