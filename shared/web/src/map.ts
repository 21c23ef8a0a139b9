// The base map both apps use: Leaflet, with a tile layer only when one is configured. Without
// tiles it still shows the communes' outlines (bundled), so it works offline and on a closed
// network. Its own controls speak the page's language (Leaflet's are English only), and the
// pin is one drawing everywhere.
import L from 'leaflet';
import 'leaflet/dist/leaflet.css';
import { config } from './config.js';
import { communesGeoJSON, RENNES, serviceBounds } from './geo.js';
import { translator } from './i18n.js';

const t = translator(
  {
    'zoom.in': 'Zoomer',
    'zoom.out': 'Dézoomer',
  },
  {
    'zoom.in': 'Zoom in',
    'zoom.out': 'Zoom out',
  },
);

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

  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, { maxZoom: 19, attribution: config.tileAttribution }).addTo(map);
  } else {
    container.classList.add('no-tiles');
    L.geoJSON(communesGeoJSON(), {
      interactive: false,
      style: { color: '#475569', weight: 1.5, opacity: 0.9, fillColor: '#f1f5f9', fillOpacity: 0.85 },
    }).addTo(map);
  }
  return map;
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
