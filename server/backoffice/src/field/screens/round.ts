// The round as a list: order, number, démarche, place, how far and which way from the stop
// before, a thumbnail, and links handing the place to the phone's navigation. "Start from here"
// orders it again from the phone's position; the round loaded last is shown offline. Once
// loaded, every stop's detail and photo is kept on the phone. "Print" gives the round sheet
// (the print style sheet keeps the list: order, number, place, démarche, photo).
import { h, replace } from '@guichet/web/dom';
import { RENNES } from '@guichet/web/geo';
import * as api from '../../api';
import { field, go, screenHref, stopHref, type Screen } from '../app';
import { formatDate, formatDateTime, formatDistance, formatNumber, t } from '../i18n';
import { legLine } from '../leg';
import { geoUri, webMapUrl } from '../navigate';
import { keepCatalogue, keepForOffline } from '../offline';
import { outbox, pendingByRequest } from '../outbox';
import { currentPosition, PositionError } from '../position';
import { DEFAULT_ROUND_LIMIT, getRound, ROUND_LIMITS, type RoundFilters, type RoundStop } from '../round-api';
import { saved, type SavedRound } from '../store';

/** A round kept longer than this is loaded again when the screen opens with a network. */
const STALE_MS = 8 * 3600_000;

export function placeOf(s: RoundStop): string {
  return s.address ?? `${formatNumber(s.lat, 5)}, ${formatNumber(s.lon, 5)}`;
}

export function navLinks(s: RoundStop, order: number): HTMLElement {
  return h('p', { class: 'nav-links no-print' },
    h('a', { href: geoUri(s.lat, s.lon, s.request_number), class: 'button', 'aria-label': t('round.navigate.label', { n: order }) }, t('round.navigate')),
    h('a', { href: webMapUrl(s.lat, s.lon), class: 'button secondary', rel: 'noopener', target: '_blank', 'aria-label': t('round.navigate.web.label', { n: order }) }, t('round.navigate.web')));
}

function stopItem(s: RoundStop, i: number, pending: string[]): HTMLElement {
  const order = i + 1;
  const marks = [
    s.overdue ? h('span', { class: 'mark overdue' }, t('round.overdue')) : null,
    s.assigned_to_me ? h('span', { class: 'mark mine' }, t('round.mine')) : null,
    pending.includes('close') ? h('span', { class: 'mark pending' }, t('round.pending.close'))
      : pending.length ? h('span', { class: 'mark pending' }, t('round.pending.other', { n: pending.length })) : null,
  ].filter(Boolean);
  return h('li', { class: 'stop card' + (pending.includes('close') ? ' done' : ''), 'data-number': s.request_number },
    h('span', { class: 'order', 'aria-hidden': 'true' }, String(order)),
    h('div', { class: 'stop-body' },
      h('h3', null, h('a', { href: stopHref(s.request_number) }, t('round.stop', { n: order }), ' — ', s.request_number)),
      h('p', { class: 'demarche' }, s.demarche_title, ' · ', s.status_label),
      h('p', { class: 'place' }, placeOf(s)),
      legLine(s, i === 0),
      marks.length ? h('p', { class: 'marks' }, marks) : null,
      navLinks(s, order)),
    s.thumbnail_url
      ? h('img', { class: 'thumb', src: s.thumbnail_url, alt: t('round.photo', { number: s.request_number }), width: 96, height: 72 })
      : h('span', { class: 'thumb none' }, t('round.noPhoto')));
}

export function roundScreen(): Screen {
  const title = t('round.title');
  const status = h('p', { class: 'status', id: 'round-status', role: 'status' });
  const ready = h('p', { class: 'status no-print', id: 'offline-ready' });
  const startHere = h('button', { type: 'button', id: 'start-here', 'aria-describedby': 'start-here-hint' }, t('round.startHere'));
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'refresh' }, t('round.refresh'));
  const print = h('button', { type: 'button', class: 'secondary', id: 'print' }, t('round.print'));
  const mapLink = h('a', { href: screenHref('map'), class: 'button secondary', id: 'round-map-link' }, t('round.asMap'));
  const sheetTitle = h('p', { class: 'print-only sheet-title' });
  // Filters: each change loads the round again from the same starting point.
  const mineOnly = h('input', { type: 'checkbox', id: 'filter-mine' });
  const overdueOnly = h('input', { type: 'checkbox', id: 'filter-overdue' });
  const limit = h('select', { id: 'filter-limit' },
    ROUND_LIMITS.map((n) => h('option', { value: String(n), selected: n === DEFAULT_ROUND_LIMIT }, String(n))));
  const filters = (): RoundFilters => ({ mine: mineOnly.checked, overdue: overdueOnly.checked, limit: Number(limit.value) });
  const showFilters = (f: RoundFilters | undefined) => {
    mineOnly.checked = !!f?.mine;
    overdueOnly.checked = !!f?.overdue;
    limit.value = String(f?.limit ?? DEFAULT_ROUND_LIMIT);
  };
  const filterBox = h('fieldset', { class: 'round-filters no-print' },
    h('legend', null, t('round.filters')),
    h('div', { class: 'check' }, mineOnly, h('label', { for: 'filter-mine' }, t('round.filter.mine'))),
    h('div', { class: 'check' }, overdueOnly, h('label', { for: 'filter-overdue' }, t('round.filter.overdue'))),
    h('div', { class: 'field' }, h('label', { for: 'filter-limit' }, t('round.filter.limit')), limit));
  const list = h('ol', { class: 'stops', id: 'stops', 'aria-labelledby': 'stops-title' });
  let alive = true;
  let busy = false;

  async function show(r: SavedRound, fresh: boolean): Promise<void> {
    const waiting = await pendingByRequest();
    if (!alive) return;
    const at = formatDateTime(r.loaded_at);
    const narrowed = !!(r.filters?.mine || r.filters?.overdue);
    showFilters(r.filters);
    const parts = [
      r.round.stops.length ? t('round.summary', { n: r.round.stops.length, total: formatDistance(r.round.total_m) }) : t(narrowed ? 'round.emptyFiltered' : 'round.empty'),
      r.from === 'gps' ? t('round.from.gps', { at }) : t('round.from.city', { at }),
      r.round.truncated ? t('round.truncated', { n: r.round.stops.length }) : '',
      !fresh && navigator.onLine === false ? t('round.offlineStale') : '',
    ];
    status.textContent = parts.filter(Boolean).join(' ');
    sheetTitle.textContent = `${t('round.sheet', { date: formatDate(r.loaded_at) })} — ${field.me?.name ?? ''}`;
    replace(list, r.round.stops.map((s, i) => stopItem(s, i, (waiting.get(s.request_number) ?? []).map((a) => a.kind))));
    print.disabled = !r.round.stops.length;
    if (!fresh) {
      const kept = await saved.detailNumbers();
      const n = r.round.stops.filter((s) => kept.has(s.request_number)).length;
      ready.textContent = r.round.stops.length ? (n === r.round.stops.length ? t('round.savedAll', { n }) : t('round.saved', { done: n, n: r.round.stops.length })) : '';
    }
  }

  /**
   * Loads the round: `here` from the phone's position (nothing without one), `same` from the
   * origin of the round kept, `first` from the phone's position or else the city centre.
   */
  async function load(from: 'here' | 'same' | 'first'): Promise<void> {
    const me = field.me;
    if (busy || !me) return;
    busy = true;
    startHere.disabled = refresh.disabled = mineOnly.disabled = overdueOnly.disabled = limit.disabled = true;
    const chosen = filters();
    try {
      const before = await saved.round();
      let origin = before?.round.origin ?? { lat: RENNES[0], lon: RENNES[1] };
      let kind: SavedRound['from'] = before?.from ?? 'city';
      if (from !== 'same' || !before) {
        status.textContent = t('round.locating');
        try {
          const fix = await currentPosition();
          origin = { lat: fix.lat, lon: fix.lon };
          kind = 'gps';
        } catch (e) {
          if (from === 'here') {
            status.textContent = t(`gps.${e instanceof PositionError ? e.why : 'unavailable'}`);
            return;
          }
          origin = { lat: RENNES[0], lon: RENNES[1] };
          kind = 'city';
        }
      }
      status.textContent = t('round.loading');
      const round = await getRound(origin, chosen);
      const r: SavedRound = { key: 'current', agent_id: me.id, loaded_at: Date.now(), from: kind, round, filters: chosen };
      await saved.saveRound(r);
      if (!alive) return;
      await show(r, true);
      ready.textContent = t('round.saved', { done: 0, n: round.stops.length });
      void keepCatalogue();
      const kept = await keepForOffline(round, me.id, (done) => {
        if (alive) ready.textContent = t('round.saved', { done, n: round.stops.length });
      });
      if (alive) ready.textContent = kept === round.stops.length ? t('round.savedAll', { n: kept }) : t('round.saved', { done: kept, n: round.stops.length });
    } catch (e) {
      // The session ended: log in again (the round kept stays on the phone meanwhile).
      if (e instanceof api.ApiError && e.status === 401) return go('login');
      const message = e instanceof api.ApiError ? (e.status === 403 ? t('error.forbidden') : e.message) : t('error.network');
      status.textContent = t('round.error', { message });
    } finally {
      busy = false;
      startHere.disabled = refresh.disabled = mineOnly.disabled = overdueOnly.disabled = limit.disabled = false;
    }
  }

  startHere.addEventListener('click', () => void load('here'));
  refresh.addEventListener('click', () => void load('same'));
  print.addEventListener('click', () => window.print());
  for (const control of [mineOnly, overdueOnly, limit]) control.addEventListener('change', () => void load('same'));

  void (async () => {
    const r = await saved.round();
    if (!alive) return;
    if (r && r.agent_id === field.me?.id) {
      await show(r, false);
      if (navigator.onLine !== false && Date.now() - r.loaded_at > STALE_MS) void load('first');
    } else if (navigator.onLine !== false) {
      void load('first');
    } else {
      status.textContent = t('session.offlineFirst');
    }
  })();

  // A stop that left the round, an action queued or sent, the network lost or back: show it.
  const reshow = () => void saved.round().then((r) => {
    if (r && r.agent_id === field.me?.id && alive && !busy) void show(r, false);
  });
  const off = outbox.onEvent((e) => {
    if (e.type !== 'sending') reshow();
  });
  window.addEventListener('online', reshow);
  window.addEventListener('offline', reshow);

  return {
    title,
    el: h('section', { class: 'round' },
      h('h1', { id: 'screen-title', tabindex: '-1' }, title),
      sheetTitle,
      status,
      ready,
      h('p', { class: 'hint no-print', id: 'start-here-hint' }, t('round.startHere.hint')),
      h('div', { class: 'buttons no-print' }, startHere, refresh, mapLink, print),
      filterBox,
      h('h2', { id: 'stops-title', class: 'visually-hidden' }, t('round.list')),
      list),
    cleanup: () => {
      alive = false;
      off();
      window.removeEventListener('online', reshow);
      window.removeEventListener('offline', reshow);
    },
  };
}
