// In-memory state of the report being made, and the GPS watch.
import type { Demarche, NearbyItem } from './api';

export type PlaceSource = 'gps' | 'map' | 'commune';

export interface Place {
  lat: number;
  lon: number;
  accuracy_m?: number;
  source: PlaceSource;
}

export interface DraftPhoto {
  blob: Blob;
  url: string;
}

export interface Draft {
  category: Pick<Demarche, 'code' | 'title'> | null;
  place: Place | null;
  /** The pin follows the GPS until the user moves it or picks a commune. */
  followGps: boolean;
  communeInsee: string;
  address: string;
  nearby: NearbyItem[];
  photos: DraftPhoto[];
  description: string;
  email: string;
  /** When the app was opened or the last report was filed: the start of "time to report". */
  startedAt: number;
}

function emptyDraft(): Draft {
  return {
    category: null,
    place: null,
    followGps: true,
    communeInsee: '',
    address: '',
    nearby: [],
    photos: [],
    description: '',
    email: '',
    startedAt: Date.now(),
  };
}

export let draft: Draft = emptyDraft();

export function resetDraft(): void {
  for (const p of draft.photos) URL.revokeObjectURL(p.url);
  draft = emptyDraft();
}

// ---- GPS ----

export type GpsStatus = 'idle' | 'waiting' | 'fix' | 'denied' | 'unavailable' | 'unsupported';

export interface GpsState {
  status: GpsStatus;
  lat?: number;
  lon?: number;
  accuracy?: number;
  at?: number;
}

export const gps: GpsState = { status: 'idle' };
let watchId: number | null = null;
const gpsListeners = new Set<() => void>();

export function onGps(l: () => void): () => void {
  gpsListeners.add(l);
  return () => gpsListeners.delete(l);
}

function gpsChanged(): void {
  for (const l of gpsListeners) l();
}

export function startGps(): void {
  if (watchId !== null) return;
  if (!('geolocation' in navigator)) {
    gps.status = 'unsupported';
    gpsChanged();
    return;
  }
  if (gps.status !== 'fix') gps.status = 'waiting';
  watchId = navigator.geolocation.watchPosition(
    (pos) => {
      gps.status = 'fix';
      gps.lat = pos.coords.latitude;
      gps.lon = pos.coords.longitude;
      gps.accuracy = pos.coords.accuracy;
      gps.at = pos.timestamp;
      gpsChanged();
    },
    (err) => {
      if (err.code === err.PERMISSION_DENIED) {
        gps.status = 'denied';
        stopGps();
      } else if (gps.status !== 'fix') {
        gps.status = 'unavailable';
      }
      gpsChanged();
    },
    { enableHighAccuracy: true, maximumAge: 10000, timeout: 30000 },
  );
}

export function stopGps(): void {
  if (watchId !== null) navigator.geolocation.clearWatch(watchId);
  watchId = null;
}
