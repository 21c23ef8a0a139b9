// The place map: the shared base map (tiles when configured, else the communes' outlines), with
// the open incidents of the viewport from
// `/api/v1/incidents` (server clusters and single points) and the draggable pin.
import { baseMap, L, pinMarker } from '@guichet/web/map';
import { RENNES } from '@guichet/web/geo';
import { getIncidents } from './api';
import { formatNumber, t } from './i18n';

export interface PlaceMapOptions {
  category: string;
  onPinMoved: (lat: number, lon: number) => void;
}

export class PlaceMap {
  readonly map: L.Map;
  private pin: L.Marker;
  private accuracy: L.Circle | null = null;
  private incidents = L.layerGroup();
  private fetchSeq = 0;
  private fetchTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(el: HTMLElement, private opts: PlaceMapOptions, start: [number, number] | null) {
    this.map = baseMap(el, { center: start, label: t('place.map.label') });
    this.incidents.addTo(this.map);

    this.pin = pinMarker(start ?? RENNES, t('place.map.pin'), true);
    if (start) this.pin.addTo(this.map);
    this.pin.on('dragend', () => {
      const p = this.pin.getLatLng();
      this.opts.onPinMoved(p.lat, p.lng);
    });
    this.map.on('click', (e: L.LeafletMouseEvent) => {
      this.setPin(e.latlng.lat, e.latlng.lng, null, false);
      this.opts.onPinMoved(e.latlng.lat, e.latlng.lng);
    });
    this.map.on('moveend', () => this.scheduleIncidents());
    this.scheduleIncidents();
  }

  /** Puts the pin (and the accuracy circle when given) at a point; optionally centres on it. */
  setPin(lat: number, lon: number, accuracyM: number | null, recentre: boolean): void {
    const ll = L.latLng(lat, lon);
    this.pin.setLatLng(ll);
    if (!this.map.hasLayer(this.pin)) this.pin.addTo(this.map);
    if (accuracyM != null) {
      if (!this.accuracy) {
        this.accuracy = L.circle(ll, { radius: accuracyM, interactive: false, color: '#1d4ed8', weight: 1, fillOpacity: 0.12 }).addTo(this.map);
      } else {
        this.accuracy.setLatLng(ll).setRadius(accuracyM);
      }
    } else if (this.accuracy) {
      this.accuracy.remove();
      this.accuracy = null;
    }
    if (recentre) this.map.setView(ll, Math.max(this.map.getZoom(), accuracyM != null && accuracyM > 150 ? 15 : 17));
  }

  destroy(): void {
    if (this.fetchTimer) clearTimeout(this.fetchTimer);
    this.fetchSeq++;
    this.map.remove();
  }

  private scheduleIncidents(): void {
    if (this.fetchTimer) clearTimeout(this.fetchTimer);
    this.fetchTimer = setTimeout(() => void this.loadIncidents(), 300);
  }

  private async loadIncidents(): Promise<void> {
    if (navigator.onLine === false) return;
    const seq = ++this.fetchSeq;
    const b = this.map.getBounds();
    // The API refuses boxes over 5°; at our zoom levels that never happens, but clamp anyway.
    const c = b.getCenter();
    const halfLon = Math.min(2.4, (b.getEast() - b.getWest()) / 2);
    const halfLat = Math.min(2.4, (b.getNorth() - b.getSouth()) / 2);
    const bbox: [number, number, number, number] = [
      Math.max(-180, c.lng - halfLon), Math.max(-90, c.lat - halfLat),
      Math.min(180, c.lng + halfLon), Math.min(90, c.lat + halfLat),
    ];
    let fc: GeoJSON.FeatureCollection;
    try {
      fc = await getIncidents(bbox, Math.round(this.map.getZoom()), this.opts.category);
    } catch {
      return; // offline or server trouble: the map works without incidents
    }
    if (seq !== this.fetchSeq) return;
    this.incidents.clearLayers();
    for (const f of fc.features) {
      if (f.geometry?.type !== 'Point') continue;
      const [lon, lat] = f.geometry.coordinates;
      const p = (f.properties ?? {}) as Record<string, unknown>;
      if (p.kind === 'cluster') {
        const count = Number(p.count ?? p.point_count ?? 0);
        const size = count < 10 ? 30 : count < 100 ? 36 : 44;
        const m = L.marker([lat, lon], {
          keyboard: false,
          title: t('place.map.cluster', { n: formatNumber(count) }),
          icon: L.divIcon({
            html: `<span>${formatNumber(count)}</span>`,
            className: 'cluster-icon',
            iconSize: [size, size],
          }),
        });
        m.on('click', () => this.map.setView([lat, lon], Math.min(19, Number(p.expansion_zoom ?? this.map.getZoom() + 2))));
        this.incidents.addLayer(m);
      } else {
        const count = Number(p.report_count ?? 1);
        const m = L.circleMarker([lat, lon], {
          radius: count > 1 ? 9 : 7,
          color: '#fff',
          weight: 2,
          fillColor: p.phase === 'in_progress' ? '#b45309' : '#1e3a8a',
          fillOpacity: 0.95,
          bubblingMouseEvents: false,
        });
        m.bindTooltip(t('place.map.incident', { number: String(p.request_number ?? '') }));
        this.incidents.addLayer(m);
      }
    }
  }
}
