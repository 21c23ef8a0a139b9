// Guichet service worker: keeps the app shell so the app opens offline.
// Built by vite.config.ts, which fills in the build's version and its list of files.
// It never touches the API or the photos: those go straight to the network, and the outbox
// (IndexedDB, in the page) takes care of offline reports.
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = `guichet-shell-${VERSION}`;
const SCOPE = new URL(self.registration.scope);
// Files that an operator may edit in place: network first, cache as fallback.
const NETWORK_FIRST = new Set(['', 'index.html', 'config.js', 'manifest.webmanifest']);

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches
      .open(CACHE)
      .then((cache) => cache.addAll(PRECACHE.map((f) => new Request(new URL(f, SCOPE), { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('guichet-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

function relative(url) {
  return url.pathname.startsWith(SCOPE.pathname) ? url.pathname.slice(SCOPE.pathname.length) : null;
}

async function networkFirst(request, cacheKey) {
  try {
    const res = await fetch(request, { signal: AbortSignal.timeout(4000) });
    if (res.ok) return res;
    throw new Error(`HTTP ${res.status}`);
  } catch (e) {
    const cached = await caches.match(new URL(cacheKey, SCOPE), { cacheName: CACHE });
    if (cached) return cached;
    throw e;
  }
}

async function cacheFirst(request, cacheKey) {
  const cached = await caches.match(new URL(cacheKey, SCOPE), { cacheName: CACHE });
  return cached || fetch(request);
}

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== SCOPE.origin) return;
  const rel = relative(url);
  if (rel === null) return;
  // The app is a single page at the scope's root; other pages of the site are not ours.
  if (req.mode === 'navigate') {
    if (rel === '' || rel === 'index.html') event.respondWith(networkFirst(req, 'index.html'));
    return;
  }
  if (NETWORK_FIRST.has(rel)) {
    event.respondWith(networkFirst(req, rel));
  } else if (PRECACHE.includes(rel)) {
    event.respondWith(cacheFirst(req, rel));
  }
});
