// How far and which way a stop is from the one before it, said in words and shown with an
// arrow turned to the bearing (the arrow is decoration: the words say it all).
import { h } from '@guichet/web/dom';
import { compassPoint } from './compass';
import { formatDistance, t } from './i18n';
import type { RoundStop } from './round-api';

export function legText(stop: RoundStop, first: boolean): string {
  const direction = t(`compass.${compassPoint(stop.bearing_deg)}`);
  return t(first ? 'round.distance.first' : 'round.distance.next', { distance: formatDistance(stop.distance_m), direction });
}

export function legLine(stop: RoundStop, first: boolean): HTMLElement {
  const arrow = h('span', { class: 'arrow', 'aria-hidden': 'true' }, '↑');
  // A style property set from script: the page's CSP allows no inline style attribute.
  arrow.style.transform = `rotate(${Math.round(stop.bearing_deg)}deg)`;
  return h('p', { class: 'leg' }, arrow, ' ', legText(stop, first));
}
