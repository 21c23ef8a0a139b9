// The 43 communes of Rennes Métropole, bundled (src/data/communes.json, made by
// scripts/communes.mjs from assets/): offline base map, commune list, service-area check.
import communesData from './data/communes.json';

export interface Commune {
  insee: string;
  name: string;
  town_hall: [number, number]; // [lon, lat]
  geometry: { type: 'Polygon' | 'MultiPolygon'; coordinates: number[][][] | number[][][][] };
}

export const communes = communesData as unknown as Commune[];

export const RENNES: [number, number] = [48.1113, -1.68]; // [lat, lon]

function inRing(lon: number, lat: number, ring: number[][]): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > lat !== yj > lat && lon < ((xj - xi) * (lat - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function inPolygon(lon: number, lat: number, rings: number[][][]): boolean {
  if (!rings.length || !inRing(lon, lat, rings[0])) return false;
  for (let k = 1; k < rings.length; k++) if (inRing(lon, lat, rings[k])) return false;
  return true;
}

export function communeAt(lat: number, lon: number): Commune | null {
  for (const c of communes) {
    const polys = c.geometry.type === 'Polygon'
      ? [c.geometry.coordinates as number[][][]]
      : (c.geometry.coordinates as number[][][][]);
    if (polys.some((p) => inPolygon(lon, lat, p))) return c;
  }
  return null;
}

/** Bounds of the service area: [[south, west], [north, east]]. */
export function serviceBounds(): [[number, number], [number, number]] {
  let s = 90, w = 180, n = -90, e = -180;
  const visit = (c: unknown): void => {
    if (typeof (c as number[])[0] === 'number') {
      const [x, y] = c as number[];
      s = Math.min(s, y); n = Math.max(n, y); w = Math.min(w, x); e = Math.max(e, x);
    } else (c as unknown[]).forEach(visit);
  };
  communes.forEach((c) => visit(c.geometry.coordinates));
  return [[s, w], [n, e]];
}

export function communesGeoJSON(): GeoJSON.FeatureCollection {
  return {
    type: 'FeatureCollection',
    features: communes.map((c) => ({
      type: 'Feature',
      properties: { name: c.name, insee: c.insee },
      geometry: c.geometry as GeoJSON.Geometry,
    })),
  };
}

export function uuid(): string {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}
