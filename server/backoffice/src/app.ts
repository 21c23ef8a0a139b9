// What every screen shares: the signed-in agent, which optional endpoints the server has, and
// navigation between real paths under /backoffice/ (the server serves the app's page for any
// of them, so every view has an address that can be shared).
import type { Me } from './api';

export const BASE = import.meta.env.BASE_URL.replace(/\/?$/, '/');

/** Endpoints that arrive with later server versions: the features that need them show only then. */
export interface Features {
  search: boolean;
  counts: boolean;
  events: boolean;
  trackingCode: boolean;
}

/** A change to a request of my teams; `resync`: too much was missed, read the view again. */
export interface LiveEvent {
  number: string;
  phase: string;
  team_id: number | null;
  resync?: boolean;
}

export interface Screen {
  title: string;
  el: HTMLElement;
  cleanup?: () => void;
  /** A key pressed outside form fields; true when the screen used it. */
  onKey?: (e: KeyboardEvent) => boolean;
  /** A request of my teams was filed or changed. */
  onLive?: (e: LiveEvent) => void;
}

export const session: { me: Me | null; features: Features } = {
  me: null,
  features: { search: false, counts: false, events: false, trackingCode: false },
};

type Navigate = (path: string, opts?: { replace?: boolean; focus?: string }) => void;
let navigateImpl: Navigate = () => {};

export function setNavigator(n: Navigate): void {
  navigateImpl = n;
}

/** Goes to a path of the app (`requests/2026-SIG-000001`, `?team=voirie`…). */
export function navigate(path: string, opts?: { replace?: boolean; focus?: string }): void {
  navigateImpl(path, opts);
}

/** The address of a path of the app. */
export function href(path: string): string {
  return BASE + path.replace(/^\//, '');
}

export function requestHref(number: string): string {
  return href(`requests/${encodeURIComponent(number)}`);
}
