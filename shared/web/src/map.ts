// The base map both apps use: Leaflet, with the tiles the server names (`GET /api/v1/map`,
// `GUICHET_MAP_TILES`) and their credit, over the communes' outlines (bundled), so that it still
// works offline, on a closed network, or when the tile server does not answer: then a message
// says so over the map. Its own controls speak the page's language (Leaflet's are English
// only), and the pin is one drawing everywhere. Only the screens that show a map import this
// module (dynamic `import()`), so Leaflet never weighs on the others.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { call } from './api.js';
import { config } from './config.js';
import { communesGeoJSON, RENNES, serviceBounds } from './geo.js';
import { lang, translator } from './i18n.js';

const t = translator(
  {
    'zoom.in': 'Zoomer',
    'zoom.out': 'Dézoomer',
    'tiles.failed': 'Le fond de carte ne se charge pas : seules les limites des communes sont dessinées. L’épingle et les signalements restent utilisables.',
  },
  {
    'zoom.in': 'Zoom in',
    'zoom.out': 'Zoom out',
    'tiles.failed': 'The background map is not loading: only the communes’ outlines are drawn. The pin and the reports still work.',
  },
);

/** The background tiles and their credit. */
export interface MapTiles {
  url: string;
  attribution: string | null;
  attribution_url: string | null;
}

const TILES_KEY = 'guichet.map.tiles';
const tilesByLang = new Map<string, Promise<MapTiles | null>>();

/**
 * The tiles to draw: `tileUrl` of config.js when an operator set one there, else the server's
 * (remembered on the device, so that an offline start keeps them).
 */
export function mapTiles(): Promise<MapTiles | null> {
  if (config.tileUrl) {
    return Promise.resolve({ url: config.tileUrl, attribution: config.tileAttribution || null, attribution_url: null });
  }
  const key = `${TILES_KEY}.${lang()}`;
  let p = tilesByLang.get(key);
  if (!p) {
    p = call<{ tiles: MapTiles | null }>('/map', {}, { timeoutMs: 5000 })
      .then(({ body }) => {
        try {
          localStorage.setItem(key, JSON.stringify(body.tiles));
        } catch {
          /* storage may be full or disabled */
        }
        return body.tiles;
      })
      .catch(() => {
        tilesByLang.delete(key);
        try {
          return JSON.parse(localStorage.getItem(key) ?? 'null') as MapTiles | null;
        } catch {
          return null;
        }
      });
    tilesByLang.set(key, p);
  }
  return p;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** The credit as Leaflet shows it (HTML): the text, linked when the server gives a link. */
function credit(tiles: MapTiles): string {
  const text = escapeHtml(tiles.attribution ?? '');
  if (!text || !tiles.attribution_url || !/^https?:\/\//.test(tiles.attribution_url)) return text;
  return `<a href="${escapeHtml(tiles.attribution_url)}" rel="noopener" target="_blank">${text}</a>`;
}

export const PIN_SVG =
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 44" width="32" height="44" aria-hidden="true" focusable="false">' +
  '<path d="M16 1C7.7 1 1 7.7 1 16c0 11 15 27 15 27s15-16 15-27C31 7.7 24.3 1 16 1z" fill="#b91c1c" stroke="#fff" stroke-width="2"/>' +
  '<circle cx="16" cy="16" r="5.5" fill="#fff"/></svg>';

export interface BaseMapOptions {
  /** [lat, lon]; the middle of Rennes when absent. */
  center?: [number, number] | null;
  zoom?: number;
  /** What the map is, for screen readers (the container is a labelled region). */
  label: string;
}

/** A map of the service area in `el`: zoom controls in the page's language, tiles or outlines. */
export function baseMap(el: HTMLElement, opts: BaseMapOptions): L.Map {
  const bounds = L.latLngBounds(serviceBounds());
  const map = L.map(el, {
    center: opts.center ?? RENNES,
    zoom: opts.zoom ?? (opts.center ? 17 : 13),
    minZoom: 10,
    maxZoom: 19,
    maxBounds: bounds.pad(0.3),
    zoomSnap: 1,
    tapTolerance: 20,
    zoomControl: false,
  });
  L.control.zoom({ zoomInTitle: t('zoom.in'), zoomOutTitle: t('zoom.out') }).addTo(map);
  const container = map.getContainer();
  container.setAttribute('role', 'region');
  container.setAttribute('aria-label', opts.label);

  // Leaflet's own prefix links to its site in English; the tiles' credit is what is owed.
  map.attributionControl.setPrefix(false);

  // The outlines are drawn filled until tiles show, and again when they fail.
  const filled = { fillColor: '#f1f5f9', fillOpacity: 0.85 };
  const outlines = L.geoJSON(communesGeoJSON(), {
    interactive: false,
    style: { color: '#475569', weight: 1.5, opacity: 0.9, ...filled },
  }).addTo(map);
  container.classList.add('no-tiles');
  void mapTiles().then((tiles) => {
    // The map may have been left meanwhile.
    if (!tiles || !container.isConnected) return;
    addTiles(map, tiles, outlines, filled);
  });
  return map;
}

function addTiles(map: L.Map, tiles: MapTiles, outlines: L.GeoJSON, filled: L.PathOptions): void {
  const container = map.getContainer();
  const notice = L.DomUtil.create('p', 'map-notice', container);
  notice.id = `${container.id || 'map'}-tiles-failed`;
  notice.setAttribute('role', 'status');
  notice.hidden = true;
  // A tap on the message is not a tap on the map (which would move the pin).
  L.DomEvent.disableClickPropagation(notice);
  let loaded = 0;
  const layer = L.tileLayer(tiles.url, {
    maxZoom: 19,
    attribution: credit(tiles),
  });
  layer.on('tileload', () => {
    loaded += 1;
    if (!notice.hidden) notice.hidden = true;
    container.classList.remove('no-tiles');
    outlines.setStyle({ fillOpacity: 0 });
  });
  layer.on('tileerror', () => {
    // A tile missing among loaded ones is a hole, not a failure of the whole background.
    if (loaded > 0) return;
    notice.textContent = t('tiles.failed');
    notice.hidden = false;
    container.classList.add('no-tiles');
    outlines.setStyle(filled);
  });
  layer.addTo(map);
}

/** The pin: keyboard-reachable when draggable, with a title said by screen readers. */
export function pinMarker(at: [number, number], title: string, draggable: boolean): L.Marker {
  return L.marker(at, {
    draggable,
    autoPan: draggable,
    keyboard: draggable,
    title,
    alt: title,
    icon: L.divIcon({ html: PIN_SVG, className: 'pin-icon', iconSize: [32, 44], iconAnchor: [16, 43] }),
    zIndexOffset: 1000,
  });
}

export { L };
