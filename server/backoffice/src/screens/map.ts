// The queue on a map (`GET /agent/map`): the queue's filters (the same form, the same query
// string), the server's clusters below zoom 16 and the requests from then on, private ones of
// my teams included. A cluster zooms to where it splits; a request opens. Markers are
// keyboard-reachable buttons (Tab, Enter); the list of the same view is one link away, and the
// requests in sight are also listed under the map. Where the map looks is kept in the URL
// (`at=`), so that a reload, a bookmark or a shared link opens the same place.
import { h, replace } from '@guichet/web/dom';
import * as api from '../api';
import { href, navigate, requestHref, type Screen } from '../app';
import { formatNumber, t } from '../i18n';
import { apiParams, mapViewOf, PHASES, withMapView } from '../queue-params';
import { filterForm } from './queue';

export function mapScreen(view: URLSearchParams): Screen {
  const title = t('map.title');
  const { form } = filterForm(view, 'map', 'map-status');
  const status = h('p', { class: 'status', id: 'map-status', role: 'status' }, t('queue.loading'));
  const mapEl = h('div', { class: 'queue-map', id: 'queue-map' });
  const inSight = h('ul', { class: 'map-list', id: 'map-list' });
  const q = view.toString();
  const listLink = h('a', { href: href(q ? `?${q}` : ''), 'data-nav': '', class: 'button secondary', id: 'map-list-link' }, t('map.asList'));
  const filters = apiParams(view);
  let alive = true;
  let cleanupMap: () => void = () => {};

  void import('@guichet/web/map').then(({ baseMap, L }) => {
    if (!alive || !mapEl.isConnected) return;
    const at = mapViewOf(view);
    const map = baseMap(mapEl, { label: t('map.label'), ...(at ? { center: [at.lat, at.lon] as [number, number], zoom: at.zoom } : {}) });
    cleanupMap = () => map.remove();
    const layer = L.layerGroup().addTo(map);
    let seq = 0;
    // After a cluster pressed from the keyboard, the focus goes to the first marker of the new
    // view (the pressed one is gone).
    let refocus = false;
    /** A marker is a button: the mouse's click, and Enter or Space from the keyboard. */
    const activate = (m: ReturnType<typeof L.marker>, run: (fromKeyboard: boolean) => void) => {
      m.on('click', () => run(false));
      m.on('keydown', (e: { originalEvent: KeyboardEvent }) => {
        const k = e.originalEvent.key;
        if (k !== 'Enter' && k !== ' ') return;
        e.originalEvent.preventDefault();
        run(true);
      });
    };
    async function load(): Promise<void> {
      const mine = ++seq;
      const b = map.getBounds();
      status.textContent = t('queue.loading');
      try {
        const fc = await api.queueMap([b.getWest(), b.getSouth(), b.getEast(), b.getNorth()], map.getZoom(), filters);
        if (mine !== seq || !alive) return;
        layer.clearLayers();
        const items: HTMLElement[] = [];
        let requests = 0;
        let total = 0;
        for (const f of fc.features) {
          const [lon, lat] = f.geometry.coordinates;
          const p = f.properties;
          if (p.kind === 'cluster') {
            total += p.count;
            const label = t('map.cluster', { n: formatNumber(p.count) });
            const size = p.count < 10 ? 34 : p.count < 100 ? 42 : 50;
            const m = L.marker([lat, lon], {
              keyboard: true,
              title: label,
              icon: L.divIcon({ html: `<span aria-hidden="true">${formatNumber(p.count)}</span>`, className: 'cluster-icon', iconSize: [size, size] }),
            });
            activate(m, (kb) => {
              refocus = kb;
              map.setView([lat, lon], Math.min(p.expansion_zoom, map.getMaxZoom()));
            });
            layer.addLayer(m);
          } else {
            requests += 1;
            total += 1;
            const phase = (PHASES as readonly string[]).includes(p.phase) ? t(`phase.${p.phase as (typeof PHASES)[number]}`) : p.phase;
            const label = t('map.request', { number: p.request_number, phase }) + (p.overdue ? ` — ${t('queue.overdueMark')}` : '');
            const m = L.marker([lat, lon], {
              keyboard: true,
              title: label,
              icon: L.divIcon({ html: '<span aria-hidden="true"></span>', className: `request-icon phase-${p.phase}${p.overdue ? ' overdue' : ''}`, iconSize: [22, 22] }),
            });
            activate(m, () => navigate(`requests/${encodeURIComponent(p.request_number)}`));
            layer.addLayer(m);
            items.push(h('li', null, h('a', { href: requestHref(p.request_number), 'data-nav': '' }, p.request_number), ` — ${phase}${p.overdue ? ` — ${t('queue.overdueMark')}` : ''}`));
          }
        }
        replace(inSight, items);
        // What the view shows now (the journeys wait on it; a screen reader hears the status).
        mapEl.dataset.zoom = String(map.getZoom());
        if (refocus) {
          refocus = false;
          (mapEl.querySelector<HTMLElement>('.leaflet-marker-icon') ?? mapEl).focus();
        }
        status.textContent = total ? t('map.shown', { n: formatNumber(total) }) + (requests ? '' : ` ${t('map.zoomHint')}`) : t('queue.empty');
      } catch (e) {
        if (mine !== seq) return;
        status.textContent = e instanceof api.ApiError ? t('error.generic', { message: e.message }) : t('error.network');
      }
    }
    map.on('moveend', () => {
      const c = map.getCenter();
      // Replaced, not pushed: panning is not a step the back button should walk through.
      if (alive) history.replaceState(history.state, '', `${location.pathname}?${withMapView(view, { lat: c.lat, lon: c.lng, zoom: map.getZoom() })}`);
      void load();
    });
    void load();
  });

  return {
    title,
    el: h('section', { class: 'queue queue-map-screen' },
      h('h1', { id: 'screen-title', tabindex: '-1' }, title),
      form,
      h('div', { class: 'buttons view-links' }, listLink),
      h('p', { class: 'hint', id: 'map-hint' }, t('map.hint')),
      status,
      mapEl,
      h('section', { 'aria-labelledby': 'map-list-title' }, h('h2', { id: 'map-list-title' }, t('map.inSight')), inSight)),
    cleanup: () => {
      alive = false;
      cleanupMap();
    },
  };
}
