// The round on a map: the starting point, the numbered stops and the path between them in
// order. Markers are buttons (Tab, Enter or Space) named after the stop; the same stops are
// listed as links under the map, for whoever does not use the map. Offline, the map shows the
// communes' outlines (and the tiles the phone still has in its browser cache).
import { h, replace } from '@guichet/web/dom';
import { field, go, screenHref, stopHref, type Screen } from '../app';
import { t } from '../i18n';
import { legText } from '../leg';
import { saved } from '../store';
import { placeOf } from './round';

export function mapScreen(): Screen {
  const title = t('map.title');
  const mapEl = h('div', { class: 'round-map', id: 'round-map' });
  const list = h('ol', { class: 'map-list', id: 'map-list' });
  const status = h('p', { class: 'status', id: 'map-status', role: 'status' });
  let alive = true;
  let cleanupMap: () => void = () => {};

  void Promise.all([saved.round(), import('@guichet/web/map')]).then(([r, { baseMap, L }]) => {
    if (!alive || !mapEl.isConnected) return;
    const stops = r && r.agent_id === field.me?.id ? r.round.stops : [];
    if (!r || !stops.length) status.textContent = t('round.empty');
    const origin: [number, number] | null = r ? [r.round.origin.lat, r.round.origin.lon] : null;
    const map = baseMap(mapEl, { center: origin, zoom: 15, label: t('map.label') });
    cleanupMap = () => map.remove();
    if (!r) return;
    const path: [number, number][] = [origin!, ...stops.map((s): [number, number] => [s.lat, s.lon])];
    L.polyline(path, { className: 'round-path', color: '#14532d', weight: 4, opacity: 0.8, dashArray: '8 6', interactive: false }).addTo(map);
    L.marker(origin!, {
      keyboard: false,
      interactive: false,
      title: t('map.start'),
      icon: L.divIcon({ html: '<span aria-hidden="true"></span>', className: 'start-icon', iconSize: [20, 20] }),
    }).addTo(map);
    stops.forEach((s, i) => {
      const label = t('map.marker', { n: i + 1, number: s.request_number, demarche: s.demarche_title });
      const m = L.marker([s.lat, s.lon], {
        keyboard: true,
        title: label,
        icon: L.divIcon({ html: `<span aria-hidden="true">${i + 1}</span>`, className: 'stop-icon' + (s.overdue ? ' overdue' : ''), iconSize: [34, 34] }),
        zIndexOffset: 1000 - i,
      }).addTo(map);
      const open = () => go(`stop/${encodeURIComponent(s.request_number)}`);
      m.on('click', open);
      m.on('keydown', (e: { originalEvent: KeyboardEvent }) => {
        const k = e.originalEvent.key;
        if (k !== 'Enter' && k !== ' ') return;
        e.originalEvent.preventDefault();
        open();
      });
    });
    map.fitBounds(L.latLngBounds(path).pad(0.15), { maxZoom: 17 });
    replace(list, stops.map((s, i) => h('li', null,
      h('a', { href: stopHref(s.request_number) }, t('round.stop', { n: i + 1 }), ' — ', s.request_number),
      ` — ${s.demarche_title}, ${placeOf(s)}. ${legText(s, i === 0)}.`)));
  });

  return {
    title,
    el: h('section', { class: 'round-map-screen' },
      h('h1', { id: 'screen-title', tabindex: '-1' }, title),
      h('div', { class: 'buttons' }, h('a', { href: screenHref(''), class: 'button secondary', id: 'map-list-link' }, t('map.asList'))),
      h('p', { class: 'hint', id: 'map-hint' }, t('map.hint')),
      status,
      mapEl,
      h('section', { 'aria-labelledby': 'map-list-title' }, h('h2', { id: 'map-list-title' }, t('round.list')), list)),
    cleanup: () => {
      alive = false;
      cleanupMap();
    },
  };
}
