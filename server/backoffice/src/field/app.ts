// What the field view's screens share: the agent (read from the server, or the one kept on the
// phone when offline), navigation between screens (in the address's #fragment: the view is
// one page, which its service worker serves offline), and the screen shape.
import type { Me } from '../api';

export interface Screen {
  title: string;
  el: HTMLElement;
  cleanup?: () => void;
}

export const field: { me: Me | null } = { me: null };

/** The address of a screen: `#/`, `#/map`, `#/stop/2026-SIG-000012`… */
export function screenHref(path: string): string {
  return `#/${path.replace(/^\//, '')}`;
}

export function stopHref(number: string): string {
  return screenHref(`stop/${encodeURIComponent(number)}`);
}

export function go(path: string): void {
  const target = screenHref(path);
  if (location.hash === target) window.dispatchEvent(new HashChangeEvent('hashchange'));
  else location.hash = target;
}
