// In-memory state of the report being made, and the GPS watch.
import type { Demarche, NearbyItem } from './api';
import { platform } from './platform';

export type PlaceSource = 'gps' | 'map' | 'commune' | 'address';

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
  /** What the citizen typed: an address or a landmark. */
  address: string;
  /** The address of the pin in the national address base, when one is near. */
  foundAddress: string | null;
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
    foundAddress: null,
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
let stopWatch: (() => void) | null = null;
const gpsListeners = new Set<() => void>();

export function onGps(l: () => void): () => void {
  gpsListeners.add(l);
  return () => gpsListeners.delete(l);
}

function gpsChanged(): void {
  for (const l of gpsListeners) l();
}

export function startGps(): void {
  if (stopWatch !== null) return;
  if (gps.status !== 'fix') gps.status = 'waiting';
  stopWatch = platform().watchPosition(
    (fix) => {
      gps.status = 'fix';
      gps.lat = fix.lat;
      gps.lon = fix.lon;
      gps.accuracy = fix.accuracy;
      gps.at = fix.at;
      gpsChanged();
    },
    (why) => {
      if (why === 'denied' || why === 'unsupported') {
        gps.status = why;
        stopGps();
      } else if (gps.status !== 'fix') {
        gps.status = 'unavailable';
      }
      gpsChanged();
    },
  );
}

export function stopGps(): void {
  stopWatch?.();
  stopWatch = null;
}
