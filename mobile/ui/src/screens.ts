// The screens. Report flow: 1 category → 2 place → 3 "already reported?" (only when something
// is near) → 4 photos and description → receipt. Plus "My reports".
import { ApiError, getCatalogue, getNearby, getRequest, type Demarche, type NearbyItem } from './api';
import type { MyRequest } from './db';
import { accountRequests, dropSession, session, type AccountRequest } from './account';
import { t as dt } from './demarches/i18n';
import { addressSearch, reverseGeocode } from '@guichet/web/address';
import { announce, h, replace } from '@guichet/web/dom';
import type * as Geo from '@guichet/web/geo';
import {
  categoryTitle, FALLBACK_CATEGORIES, formatAge, formatDateTime, formatDistance, formatNumber, formatTime, t,
} from './i18n';
import type { PlaceMap } from './map';
import { platform, type PendingEntry } from './platform';
import { acknowledgementSection } from './acknowledgement';
import { draft, gps, onGps, resetDraft, startGps, type Place } from './state';

export interface Screen {
  /** For document.title. */
  title: string;
  el: HTMLElement;
  /** Called when the screen is left (listeners, map, timers). */
  cleanup?: () => void;
}

export type Navigate = (hash: string) => void;

const MAX_PHOTOS = 5;
const MAX_DESCRIPTION = 2000;
const CATALOGUE_KEY = 'guichet.catalogue';

function heading(text: string): HTMLHeadingElement {
  return h('h1', { id: 'screen-title', tabindex: '-1' }, text);
}

/**
 * The step a screen is in the report flow: what, where, details. "Already reported?" is part
 * of "where" (it shows only when something is near), so the numbers never skip.
 */
function step(n: 1 | 2 | 3): HTMLElement {
  return h('p', { class: 'step' }, t('step', { n, total: 3 }));
}

function link(href: string, text: string, cls = 'button secondary'): HTMLAnchorElement {
  return h('a', { href, class: cls }, text);
}

// The communes (their outlines make most of the bytes) are needed from the place step on: they
// are fetched once the app has started, not before its first screen is drawn.
let geo: typeof Geo | null = null;
const geoReady = import('@guichet/web/geo').then((m) => {
  geo = m;
});
const communeAt = (lat: number, lon: number) => geo?.communeAt(lat, lon) ?? null;
// From the place step on, where the communes are loaded.
const uuid = (): string => (geo ? geo.uuid() : crypto.randomUUID());

function placeLabel(p: Place | null): string {
  if (!p) return '';
  if (draft.address.trim()) {
    const c = communeAt(p.lat, p.lon);
    return c ? `${draft.address.trim()}, ${c.name}` : draft.address.trim();
  }
  if (draft.foundAddress) return draft.foundAddress;
  const c = communeAt(p.lat, p.lon);
  const where = `${formatNumber(p.lat, 5)}, ${formatNumber(p.lon, 5)}`;
  return c ? `${c.name} (${where})` : where;
}

// ---------------------------------------------------------------- 1. category

function cachedCategories(): { list: Pick<Demarche, 'code' | 'title'>[]; fromCache: boolean } {
  try {
    const raw = localStorage.getItem(CATALOGUE_KEY);
    if (raw) return { list: JSON.parse(raw), fromCache: true };
  } catch {
    /* ignore */
  }
  return { list: FALLBACK_CATEGORIES, fromCache: true };
}

function incidentCategories(all: Demarche[]): Pick<Demarche, 'code' | 'title'>[] {
  return all
    .filter((d) => d.geolocated && d.group_code === 'signalement')
    .map((d) => ({ code: d.code, title: d.title }));
}

export function categoryScreen(go: Navigate): Screen {
  // The position is asked for at the place step, where the citizen sees why, not on arrival.
  const list = h('ul', { class: 'choices', role: 'list' });
  const note = h('p', { class: 'muted', id: 'cat-note' });
  let alive = true;

  const fill = (cats: Pick<Demarche, 'code' | 'title'>[]) => {
    const focused = (document.activeElement as HTMLElement | null)?.dataset?.code;
    replace(
      list,
      cats.map((c) =>
        h('li', null,
          h('button', {
            type: 'button',
            class: 'choice' + (draft.category?.code === c.code ? ' selected' : ''),
            'data-code': c.code,
            onclick: () => {
              if (draft.category?.code !== c.code) draft.nearby = [];
              draft.category = c;
              go('#/place');
            },
          }, categoryTitle(c.code, c.title)),
        ),
      ),
    );
    if (focused) list.querySelector<HTMLElement>(`[data-code="${CSS.escape(focused)}"]`)?.focus();
  };
  const cached = cachedCategories();
  fill(cached.list);
  getCatalogue()
    .then((all) => {
      const cats = incidentCategories(all);
      if (!cats.length) return;
      try {
        localStorage.setItem(CATALOGUE_KEY, JSON.stringify(cats));
      } catch {
        /* ignore */
      }
      if (alive && JSON.stringify(cats) !== JSON.stringify(cached.list)) fill(cats);
      note.textContent = '';
    })
    .catch(() => {
      if (alive) note.textContent = t('cat.offline');
    });

  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
    step(1),
    heading(t('cat.title')),
    h('p', null, t('cat.intro')),
    list,
    note,
    // Reporting comes first; every other démarche is one tap away.
    h('p', { class: 'more' }, h('a', { href: '#/demarches', id: 'all-demarches' }, t('cat.more'))),
  );
  return { title: t('cat.title'), el, cleanup: () => { alive = false; } };
}

/** What the report says of its place: what was typed, and the pin's address when known. */
function reportAddress(): string {
  const typed = draft.address.trim();
  const found = draft.foundAddress;
  const both = typed && found ? `${typed} (${found})` : typed || found || '';
  return both.slice(0, 300);
}

// ---------------------------------------------------------------- 2. place

/** Pins closer than this share their address: GPS updates do not ask again. */
const SAME_ADDRESS_M = 15;

function metres(a: [number, number], b: [number, number]): number {
  const rad = Math.PI / 180;
  const x = (b[1] - a[1]) * rad * Math.cos(((a[0] + b[0]) / 2) * rad);
  const y = (b[0] - a[0]) * rad;
  return Math.hypot(x, y) * 6_371_000;
}

export function placeScreen(go: Navigate): Screen {
  if (!geo) {
    // Only when the place step is reached within moments of the start.
    void geoReady.then(() => go('#/place'));
    return { title: t('place.title'), el: h('section', { class: 'screen', 'aria-busy': 'true', 'aria-labelledby': 'screen-title' }, heading(t('place.title'))) };
  }
  const communes = geo.communes;
  startGps();
  const gpsText = h('p', { class: 'gps', id: 'gps-status' });
  const chosen = h('p', { class: 'chosen', id: 'place-chosen' });
  const addressLine = h('p', { class: 'place-address', id: 'place-address', hidden: true });
  const error = h('p', { class: 'error', id: 'place-error', hidden: true });
  const mapEl = h('div', { class: 'map', id: 'map' });
  let announcedFix = gps.status === 'fix';

  const communeSelect = h('select', { id: 'commune', name: 'commune', 'aria-describedby': 'place-error' },
    h('option', { value: '' }, t('place.commune.none')),
    communes.map((c) => h('option', { value: c.insee, selected: draft.communeInsee === c.insee }, c.name)),
  );
  const address = h('input', {
    id: 'address', name: 'address', type: 'text', autocomplete: 'street-address', maxlength: '300',
    value: draft.address, 'aria-describedby': 'address-hint place-error',
  });
  address.addEventListener('input', () => {
    draft.address = address.value;
    showChosen();
  });

  const showError = (msg: string | null, focus?: HTMLElement) => {
    error.hidden = !msg;
    error.textContent = msg ?? '';
    if (msg) {
      announce(msg);
      focus?.focus();
    }
  };

  const showGps = () => {
    switch (gps.status) {
      case 'fix':
        gpsText.textContent = t('place.gps.fix', {
          lat: formatNumber(gps.lat!, 5), lon: formatNumber(gps.lon!, 5), acc: formatNumber(Math.round(gps.accuracy!)),
        });
        if (gps.accuracy! > 100) gpsText.textContent += ' ' + t('place.gps.poor');
        break;
      case 'denied': gpsText.textContent = t('place.gps.denied'); break;
      case 'unavailable': gpsText.textContent = t('place.gps.unavailable'); break;
      case 'unsupported': gpsText.textContent = t('place.gps.unsupported'); break;
      default: gpsText.textContent = t('place.gps.waiting');
    }
    gpsText.dataset.status = gps.status;
    useGps.disabled = gps.status !== 'fix';
  };

  // The pin's address in words (Base Adresse Nationale), looked up once the pin rests.
  let lookupTimer: ReturnType<typeof setTimeout> | null = null;
  let lookupSeq = 0;
  let lookedUp: [number, number] | null = null;
  const showAddress = (text: string | null) => {
    addressLine.hidden = !text;
    addressLine.textContent = text ?? '';
  };
  const lookUpAddress = (announceIt: boolean) => {
    const p = draft.place;
    if (lookupTimer) clearTimeout(lookupTimer);
    if (!p || p.source === 'commune' || p.source === 'address') {
      lookupSeq++;
      if (p?.source !== 'address') draft.foundAddress = null;
      lookedUp = null;
      showAddress(draft.foundAddress ? t('place.address.found', { address: draft.foundAddress }) : null);
      return;
    }
    const at: [number, number] = [p.lat, p.lon];
    if (lookedUp && metres(lookedUp, at) < SAME_ADDRESS_M) return;
    draft.foundAddress = null;
    showChosen();
    if (navigator.onLine === false) {
      lookedUp = null;
      showAddress(t('place.address.offline'));
      return;
    }
    showAddress(t('place.address.looking'));
    const mine = ++lookupSeq;
    lookupTimer = setTimeout(() => {
      reverseGeocode(at[0], at[1])
        .then((hit) => {
          if (mine !== lookupSeq || destroyed) return;
          lookedUp = at;
          draft.foundAddress = hit?.label ?? null;
          showAddress(hit ? t('place.address.found', { address: hit.label }) : t('place.address.none'));
          showChosen();
          if (announceIt) announce(addressLine.textContent ?? '');
        })
        .catch(() => {
          if (mine !== lookupSeq || destroyed) return;
          lookedUp = null;
          showAddress(t('place.address.offline'));
        });
    }, 400);
  };

  const showChosen = () => {
    const p = draft.place;
    if (!p) chosen.textContent = t('place.chosen.none');
    else if (p.source === 'gps') chosen.textContent = t('place.chosen.gps', { acc: formatNumber(Math.round(p.accuracy_m ?? 0)) });
    else if (p.source === 'map') chosen.textContent = t('place.chosen.map');
    else if (p.source === 'address') chosen.textContent = t('place.chosen.address');
    else {
      const c = communes.find((x) => x.insee === draft.communeInsee);
      chosen.textContent = t('place.chosen.commune', { commune: c?.name ?? '' });
    }
    if (p) chosen.textContent += ` ${placeLabel(p)}`;
  };

  const fromGps = (recentre: boolean) => {
    if (gps.status !== 'fix') return;
    draft.place = { lat: gps.lat!, lon: gps.lon!, accuracy_m: Math.round(gps.accuracy! * 10) / 10, source: 'gps' };
    map?.setPin(gps.lat!, gps.lon!, gps.accuracy!, recentre);
    showChosen();
    lookUpAddress(false);
  };

  const useGps = h('button', {
    type: 'button', class: 'button secondary', id: 'use-gps',
    onclick: () => {
      draft.followGps = true;
      draft.communeInsee = '';
      communeSelect.value = '';
      fromGps(true);
      showError(null);
      if (gps.status === 'fix') announce(t('place.gps.found', { acc: formatNumber(Math.round(gps.accuracy!)) }));
    },
  }, t('place.useGps'));

  communeSelect.addEventListener('change', () => {
    draft.communeInsee = communeSelect.value;
    const c = communes.find((x) => x.insee === communeSelect.value);
    if (!c) return;
    draft.followGps = false;
    draft.place = { lat: c.town_hall[1], lon: c.town_hall[0], source: 'commune' };
    map?.setPin(c.town_hall[1], c.town_hall[0], null, true);
    lookUpAddress(false);
    showChosen();
    showError(null);
  });

  const search = addressSearch({
    id: 'address-search',
    label: t('place.search'),
    hint: t('place.search.hint'),
    near: () => (draft.place ? [draft.place.lat, draft.place.lon] : gps.status === 'fix' ? [gps.lat!, gps.lon!] : null),
    onPick: (hit) => {
      draft.followGps = false;
      draft.communeInsee = '';
      communeSelect.value = '';
      draft.place = { lat: hit.lat, lon: hit.lon, source: 'address' };
      draft.foundAddress = hit.label;
      map?.setPin(hit.lat, hit.lon, null, true);
      lookUpAddress(false);
      showChosen();
      showError(null);
      announce(t('place.address.picked', { address: hit.label }));
    },
  });

  const start: [number, number] | null = draft.place
    ? [draft.place.lat, draft.place.lon]
    : gps.status === 'fix' ? [gps.lat!, gps.lon!] : null;

  let map: PlaceMap | null = null;
  let destroyed = false;

  const onGpsUpdate = () => {
    showGps();
    if (gps.status === 'fix') {
      if (!announcedFix) {
        announcedFix = true;
        announce(t('place.gps.found', { acc: formatNumber(Math.round(gps.accuracy!)) }));
      }
      if (draft.followGps) fromGps(true);
    }
  };
  const offGps = onGps(onGpsUpdate);

  const continueBtn = h('button', {
    type: 'button', class: 'button primary', id: 'place-continue',
    onclick: async () => {
      const p = draft.place;
      if (!p) return showError(t('place.error.none'), useGps.disabled ? communeSelect : useGps);
      if (p.source === 'commune' && !draft.address.trim()) return showError(t('place.error.addressNeeded'), address);
      if (!communeAt(p.lat, p.lon)) return showError(t('place.error.outside'), communeSelect);
      showError(null);
      continueBtn.disabled = true;
      continueBtn.setAttribute('aria-busy', 'true');
      announce(t('place.checking'));
      let items: NearbyItem[] = [];
      try {
        if (navigator.onLine !== false) items = await getNearby(p.lat, p.lon, draft.category!.code, p.accuracy_m);
      } catch {
        items = []; // offline or slow: go on, the server decides about duplicates anyway
      }
      continueBtn.disabled = false;
      continueBtn.removeAttribute('aria-busy');
      draft.nearby = items;
      go(items.length ? '#/nearby' : '#/details');
    },
  }, t('continue'));

  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
    step(2),
    heading(t('place.title')),
    h('p', { class: 'muted' }, categoryTitle(draft.category!.code, draft.category!.title)),
    h('p', null, t('place.intro')),
    h('div', { class: 'gps-row' }, gpsText, useGps),
    search,
    mapEl,
    chosen,
    addressLine,
    h('fieldset', { class: 'alt-place' },
      h('legend', null, t('place.alt.title')),
      h('div', { class: 'field' }, h('label', { for: 'commune' }, t('place.commune')), communeSelect),
      h('div', { class: 'field' },
        h('label', { for: 'address' }, t('place.address')),
        h('p', { class: 'hint', id: 'address-hint' }, t('place.address.hint')),
        address,
      ),
    ),
    error,
    h('div', { class: 'actions sticky' }, link('#/', t('back')), continueBtn),
  );

  // Leaflet needs the element in the document to measure it; the map library is loaded only
  // here, where a map is shown.
  void import('./map').then(({ PlaceMap }) => {
    if (!mapEl.isConnected || destroyed) return;
    map = new PlaceMap(mapEl, {
      category: draft.category!.code,
      onPinMoved: (lat, lon) => {
        draft.followGps = false;
        draft.communeInsee = '';
        communeSelect.value = '';
        draft.place = { lat, lon, source: 'map' };
        map?.setPin(lat, lon, null, false);
        showChosen();
        showError(null);
        announce(t('place.moved') + ' ' + placeLabel(draft.place));
        // The address follows, said once it is known.
        lookUpAddress(true);
      },
    }, start);
    if (draft.place) map.setPin(draft.place.lat, draft.place.lon, draft.place.source === 'gps' ? draft.place.accuracy_m ?? null : null, false);
    else if (draft.followGps) fromGps(true);
  });

  showGps();
  showChosen();
  lookUpAddress(false);
  return {
    title: t('place.title'),
    el,
    cleanup: () => {
      destroyed = true;
      if (lookupTimer) clearTimeout(lookupTimer);
      offGps();
      map?.destroy();
    },
  };
}

// ---------------------------------------------------------------- 3. already reported?

export function nearbyScreen(go: Navigate): Screen {
  const metoo = async (item: NearbyItem) => {
    const clientId = uuid();
    try {
      await platform().enqueueSupport({
        client_id: clientId,
        category: item.demarche.code,
        category_title: item.demarche.title,
        place_label: placeLabel(draft.place),
        request_number: item.request_number,
        email: draft.email.trim() || undefined,
      });
    } catch (e) {
      announce(t('error.storage', { error: String(e) }));
      return;
    }
    resetDraft();
    go(`#/receipt/${clientId}`);
  };

  const list = h('ul', { class: 'nearby', role: 'list' },
    draft.nearby.map((it) => {
      const titleId = `nb-${it.request_number}`;
      const count = it.report_count === 1 ? t('nearby.count.one') : t('nearby.count.many', { n: formatNumber(it.report_count) });
      return h('li', { class: 'card nearby-item', 'data-number': it.request_number },
        it.thumbnail_url
          ? h('img', { src: it.thumbnail_url, alt: t('nearby.photo', { number: it.request_number }), width: '96', height: '96', loading: 'lazy', class: 'thumb' })
          : h('div', { class: 'thumb none', 'aria-hidden': 'true' }, t('nearby.nophoto')),
        h('div', { class: 'nearby-body' },
          h('h2', { id: titleId }, categoryTitle(it.demarche.code, it.demarche.title)),
          h('p', { class: 'meta' },
            h('span', { class: 'distance' }, t('nearby.distance', { d: formatDistance(it.distance_m) })), ' · ',
            h('span', { class: 'age' }, formatAge(it.created_at)), ' · ',
            h('span', { class: 'count' }, count),
          ),
          h('p', { class: 'meta' }, `${it.status} · ${it.request_number}`),
          h('button', {
            type: 'button', class: 'button primary metoo',
            'aria-label': t('nearby.metoo.label', { number: it.request_number }),
            onclick: (e: Event) => {
              (e.currentTarget as HTMLButtonElement).disabled = true;
              void metoo(it);
            },
          }, t('nearby.metoo')),
        ),
      );
    }),
  );

  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
    step(2),
    heading(t('nearby.title')),
    h('p', null, t('nearby.intro')),
    list,
    h('div', { class: 'actions sticky' },
      link('#/place', t('back')),
      h('a', { href: '#/details', class: 'button primary', id: 'not-same' }, t('nearby.other')),
    ),
  );
  return { title: t('nearby.title'), el };
}

// ---------------------------------------------------------------- 4. photos and description

export function detailsScreen(go: Navigate): Screen {
  const previews = h('ul', { class: 'photos', 'aria-label': t('details.photo.list') });
  const photoMsg = h('p', { class: 'hint', id: 'photo-hint' }, t('details.photo.hint'));
  // Two doors: the camera, and the phone's photos (a picture taken before reaching the form).
  const camera = h('input', {
    id: 'photo-camera', type: 'file', accept: 'image/*', capture: 'environment',
    class: 'file-input', 'aria-describedby': 'photo-hint',
  });
  const cameraLabel = h('label', { for: 'photo-camera', class: 'button secondary file-label' }, t('details.photo.take'));
  const input = h('input', {
    id: 'photo-input', type: 'file', accept: 'image/*', multiple: true,
    class: 'file-input', 'aria-describedby': 'photo-hint',
  });
  const addLabel = h('label', { for: 'photo-input', class: 'button secondary file-label' }, t('details.photo.add'));

  const renderPhotos = () => {
    replace(previews, draft.photos.map((p, i) =>
      h('li', null,
        h('img', { src: p.url, alt: t('details.photo.alt', { n: i + 1 }), class: 'preview' }),
        h('button', {
          type: 'button', class: 'button small secondary',
          onclick: () => {
            URL.revokeObjectURL(p.url);
            draft.photos.splice(i, 1);
            renderPhotos();
            announce(t('details.photo.removed'));
            input.focus();
          },
        }, t('details.photo.remove', { n: i + 1 })),
      ),
    ));
    previews.hidden = draft.photos.length === 0;
    input.disabled = draft.photos.length >= MAX_PHOTOS;
    camera.disabled = input.disabled;
    addLabel.classList.toggle('disabled', input.disabled);
    cameraLabel.classList.toggle('disabled', input.disabled);
  };

  const addPhotos = async (from: HTMLInputElement) => {
    const files = [...(from.files ?? [])];
    from.value = '';
    for (const f of files) {
      if (draft.photos.length >= MAX_PHOTOS) {
        announce(t('details.photo.max'));
        break;
      }
      const blob = await platform().preparePhoto(f);
      draft.photos.push({ blob, url: URL.createObjectURL(blob) });
      renderPhotos();
      announce(t('details.photo.added', { n: draft.photos.length }));
    }
  };
  input.addEventListener('change', () => void addPhotos(input));
  camera.addEventListener('change', () => void addPhotos(camera));

  const counter = h('p', { class: 'hint', id: 'desc-count' });
  const description = h('textarea', {
    id: 'description', name: 'description', rows: '4', maxlength: String(MAX_DESCRIPTION),
    'aria-describedby': 'desc-hint desc-count',
  });
  description.value = draft.description;
  const updateCounter = () => {
    counter.textContent = t('details.chars', { n: formatNumber(MAX_DESCRIPTION - description.value.length) });
  };
  description.addEventListener('input', () => {
    draft.description = description.value;
    updateCounter();
  });
  updateCounter();

  const emailError = h('p', { class: 'error', id: 'email-error', hidden: true }, t('details.email.invalid'));
  const email = h('input', {
    id: 'email', name: 'email', type: 'email', autocomplete: 'email', value: draft.email, maxlength: '254',
    'aria-describedby': 'email-hint email-error',
  });
  email.addEventListener('input', () => {
    draft.email = email.value;
    emailError.hidden = true;
    email.removeAttribute('aria-invalid');
  });

  const send = h('button', {
    type: 'submit', class: 'button primary', id: 'send',
  }, t('details.send'));

  const form = h('form', {
    novalidate: true,
    onsubmit: async (e: Event) => {
      e.preventDefault();
      const mail = draft.email.trim();
      if (mail && !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(mail)) {
        emailError.hidden = false;
        email.setAttribute('aria-invalid', 'true');
        email.focus();
        announce(t('details.email.invalid'));
        return;
      }
      send.disabled = true;
      const p = draft.place!;
      const clientId = uuid();
      const address = reportAddress();
      const item = {
        category_title: draft.category!.title,
        place_label: placeLabel(p),
        report: {
          client_id: clientId,
          category: draft.category!.code,
          lat: Math.round(p.lat * 1e7) / 1e7,
          lon: Math.round(p.lon * 1e7) / 1e7,
          ...(p.source === 'gps' && p.accuracy_m != null ? { accuracy_m: Math.min(5000, p.accuracy_m) } : {}),
          description: draft.description.trim(),
          ...(address ? { address } : {}),
          observed_at: new Date().toISOString(),
          ...(mail ? { contact: { email: mail } } : {}),
        },
        photos: draft.photos.map((x) => x.blob),
      };
      try {
        await platform().enqueueReport(item); // resolves once it is on disk
      } catch (err) {
        send.disabled = false;
        announce(t('error.storage', { error: String(err) }));
        return;
      }
      sessionStorage.setItem(`guichet.t0.${clientId}`, String(draft.startedAt));
      resetDraft();
      go(`#/receipt/${clientId}`);
    },
  },
    h('div', { class: 'field' },
      h('div', { class: 'photo-doors' }, cameraLabel, camera, addLabel, input),
      photoMsg,
      previews,
    ),
    h('div', { class: 'field' },
      h('label', { for: 'description' }, t('details.description')),
      h('p', { class: 'hint', id: 'desc-hint' }, t('details.description.hint')),
      description,
      counter,
    ),
    h('div', { class: 'field' },
      h('label', { for: 'email' }, t('details.email')),
      h('p', { class: 'hint', id: 'email-hint' }, t('details.email.hint')),
      email,
      emailError,
    ),
    h('div', { class: 'actions sticky' },
      link(draft.nearby.length ? '#/nearby' : '#/place', t('back')),
      send,
    ),
  );

  renderPhotos();
  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
    step(3),
    heading(t('details.title')),
    h('p', { class: 'muted' }, t('details.summary', {
      category: categoryTitle(draft.category!.code, draft.category!.title),
      place: placeLabel(draft.place),
    })),
    form,
  );
  return { title: t('details.title'), el };
}

// ---------------------------------------------------------------- receipt

function receiptDetails(r: MyRequest): HTMLElement {
  const rc = r.receipt;
  return h('dl', { class: 'receipt' },
    h('dt', null, t('receipt.number')), h('dd', { class: 'number', id: 'receipt-number' }, rc.request_number),
    h('dt', null, t('receipt.tracking')), h('dd', { class: 'tracking' }, rc.tracking_code),
    h('dt', null, t('receipt.status')), h('dd', null, rc.status),
    h('dt', null, t('receipt.count')), h('dd', { class: 'count', id: 'receipt-count' }, formatNumber(rc.report_count)),
  );
}

export function receiptScreen(clientId: string): Screen {
  const title = heading(t('receipt.title.pending'));
  const body = h('div', { class: 'receipt-body' });
  let lastState = '';

  const render = async () => {
    const sent = await platform().sentRequest(clientId);
    const pending = sent ? undefined : await platform().pendingEntry(clientId);
    let state: string;
    if (sent) {
      state = 'sent';
      title.textContent = sent.kind === 'support' ? t('receipt.title.metoo') : t('receipt.title.sent');
      replace(body,
        sent.receipt.deduplicated && sent.kind === 'report' ? h('p', { id: 'receipt-joined' }, t('receipt.dedup')) : null,
        sent.kind === 'support' ? h('p', { id: 'receipt-joined' }, t('receipt.metoo.joined', { number: sent.request_number })) : null,
        receiptDetails(sent),
        acknowledgementSection(sent.receipt.acknowledgement, sent.receipt.photos),
      );
      if (lastState !== 'sent') {
        announce(t('receipt.announce.sent', { number: sent.request_number }));
        const t0 = Number(sessionStorage.getItem(`guichet.t0.${clientId}`));
        if (t0) {
          // Read by the end-to-end test: time from opening the app to a sent report.
          document.body.dataset.lastReportMs = String(Date.now() - t0);
          sessionStorage.removeItem(`guichet.t0.${clientId}`);
        }
      }
    } else if (pending) {
      state = pending.failed ? 'failed' : 'pending';
      title.textContent = pending.failed ? t('receipt.title.failed') : t('receipt.title.pending');
      let msg: string;
      if (pending.failed) msg = t('mine.failed', { error: pending.failed.message });
      else if (navigator.onLine === false) msg = t('receipt.pending.offline');
      else if (pending.attempts > 0 && platform().sendingId() !== clientId) msg = t('receipt.pending.retry', { error: pending.last_error ?? '' });
      else msg = t('receipt.pending.online');
      replace(body, h('p', { class: pending.failed ? 'error' : 'pending-note', id: 'receipt-pending' }, msg));
      if (lastState === '') announce(t('receipt.announce.saved'));
    } else {
      state = 'gone';
      replace(body, h('p', null, t('mine.empty')));
    }
    lastState = state;
  };

  const off = platform().onOutbox(() => void render());
  const onNet = () => void render();
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  void render();

  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
    title,
    body,
    h('div', { class: 'actions' },
      link('#/mine', t('receipt.mine')),
      h('a', { href: '#/', class: 'button primary', id: 'new-report', onclick: () => resetDraft() }, t('receipt.new')),
    ),
  );
  return {
    title: t('receipt.title.sent'),
    el,
    cleanup: () => {
      off();
      window.removeEventListener('online', onNet);
      window.removeEventListener('offline', onNet);
    },
  };
}

// ---------------------------------------------------------------- my reports

function pendingItem(it: PendingEntry, rerender: () => void): HTMLElement {
  const date = formatDateTime(it.created_at);
  const title = it.kind === 'support' ? t('mine.metoo', { number: it.request_number ?? '' }) : categoryTitle(it.category, it.category_title);
  let state: string;
  if (it.failed) state = t('mine.failed', { error: it.failed.message });
  else if (platform().sendingId() === it.client_id) state = t('status.sending');
  else if (it.attempts > 0) state = `${t('mine.attempts', { n: it.attempts, error: it.last_error ?? '' })} ${navigator.onLine === false ? t('net.offline') : t('mine.nextTry', { time: formatTime(it.next_attempt_at) })}`;
  else state = navigator.onLine === false ? t('net.offline') : t('status.sending');
  return h('li', { class: 'card pending' + (it.failed ? ' failed' : ''), 'data-client-id': it.client_id },
    h('h3', null, title),
    it.place_label ? h('p', { class: 'meta' }, it.place_label) : null,
    h('p', { class: 'meta' }, t('mine.saved', { date }), it.photo_count ? ` · ${t('mine.photos')} : ${it.photo_count}` : ''),
    h('p', { class: it.failed ? 'error' : 'pending-note' }, state),
    h('div', { class: 'actions compact' },
      !it.failed ? h('button', { type: 'button', class: 'button small secondary', onclick: () => void platform().syncNow(true) }, t('mine.retry')) : null,
      it.failed ? h('button', {
        type: 'button', class: 'button small secondary', 'aria-label': t('mine.delete.label', { date }),
        onclick: async () => { await platform().discard(it.client_id); rerender(); },
      }, t('mine.delete')) : null,
    ),
  );
}

function sentItem(r: MyRequest): HTMLElement {
  const v = r.view;
  const status = v?.status_label ?? r.receipt.status;
  const count = v?.report_count ?? r.receipt.report_count;
  const timeline = v?.timeline ?? [];
  const photos = v?.photos ?? r.receipt.photos;
  return h('li', { class: 'card sent', 'data-number': r.request_number, 'data-client-id': r.client_id },
    h('h3', null,
      h('a', { href: `#/request/${encodeURIComponent(r.request_number)}`, 'aria-label': dt('mine.open', { number: r.request_number }) },
        h('span', { class: 'number' }, r.request_number)),
      ' — ', categoryTitle(r.category, r.category_title)),
    r.kind === 'support' ? h('p', { class: 'meta' }, t('mine.metoo.note')) : null,
    h('dl', { class: 'facts' },
      h('dt', null, t('receipt.status')), h('dd', { class: 'status' }, status),
      r.kind !== 'request' ? [h('dt', null, t('receipt.count')), h('dd', { class: 'count' }, formatNumber(count))] : null,
      h('dt', null, t('receipt.tracking')), h('dd', { class: 'tracking' }, r.tracking_code),
      h('dt', null, t('mine.filed', { date: '' }).replace(/\s*$/, '')), h('dd', null, formatDateTime(r.filed_at)),
    ),
    r.place_label ? h('p', { class: 'meta' }, r.place_label) : null,
    photos.length
      ? h('ul', { class: 'thumbs', 'aria-label': t('mine.photos') },
        photos.map((p, i) => h('li', null, h('img', { src: p.thumbnail_url, alt: t('details.photo.alt', { n: i + 1 }), width: '72', height: '72', loading: 'lazy' }))))
      : null,
    timeline.length
      ? [
        h('h4', null, t('mine.timeline')),
        h('ol', { class: 'timeline' },
          timeline.map((ev) => h('li', null,
            h('time', { datetime: ev.at }, formatDateTime(ev.at)), ' — ',
            h('span', { class: 'label' }, ev.label),
            ev.message ? h('p', { class: 'message' }, ev.message) : null,
          )),
        ),
      ]
      : h('p', { class: 'meta' }, v ? '' : t('mine.statusUnknown')),
  );
}

/** The requests of the account that this device did not file (or whose receipt it lost). */
function accountItem(r: AccountRequest): HTMLElement {
  return h('li', { class: 'card sent', 'data-number': r.number },
    h('h3', null,
      h('a', { href: `#/request/${encodeURIComponent(r.number)}`, 'aria-label': dt('mine.open', { number: r.number }) },
        h('span', { class: 'number' }, r.number)),
      ' — ', r.demarche_title),
    h('dl', { class: 'facts' },
      h('dt', null, t('receipt.status')), h('dd', { class: 'status' }, r.status_label),
      h('dt', null, t('mine.filed', { date: '' }).replace(/\s*$/, '')), h('dd', null, formatDateTime(r.created_at))),
  );
}

export function mineScreen(): Screen {
  const pendingList = h('ul', { class: 'list', role: 'list', id: 'pending-list' });
  const sentList = h('ul', { class: 'list', role: 'list', id: 'sent-list' });
  const accountList = h('ul', { class: 'list', role: 'list', id: 'account-list' });
  const accountSection = h('section', { 'aria-labelledby': 'account-title', hidden: true },
    h('h2', { id: 'account-title' }, dt('mine.account')), accountList);
  const loginNote = h('p', { class: 'muted', hidden: true }, h('a', { href: '#/account' }, dt('mine.login')));
  let onAccount: AccountRequest[] = [];
  const pendingSection = h('section', { 'aria-labelledby': 'pending-title' },
    h('h2', { id: 'pending-title' }, t('mine.pending')), pendingList);
  const sentSection = h('section', { 'aria-labelledby': 'sent-title' },
    h('h2', { id: 'sent-title' }, t('mine.sent')), sentList);
  const empty = h('p', { hidden: true }, t('mine.empty'));
  let alive = true;

  const render = async () => {
    const [pend, sent] = await Promise.all([platform().pendingEntries(), platform().sentRequests()]);
    if (!alive) return;
    replace(pendingList, pend.map((it) => pendingItem(it, () => void render())));
    replace(sentList, sent.map(sentItem));
    const here = new Set(sent.map((r) => r.request_number));
    const elsewhere = onAccount.filter((r) => !here.has(r.number));
    replace(accountList, elsewhere.map(accountItem));
    pendingSection.hidden = pend.length === 0;
    sentSection.hidden = sent.length === 0;
    accountSection.hidden = elsewhere.length === 0;
    loginNote.hidden = session() !== null;
    empty.hidden = pend.length + sent.length + elsewhere.length > 0;
  };

  const refresh = async (say: boolean) => {
    const sent = await platform().sentRequests();
    let ok = true;
    try {
      onAccount = await accountRequests();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) dropSession();
      else ok = false;
    }
    for (const r of sent) {
      try {
        r.view = await getRequest(r.request_number, r.tracking_code);
        r.view_at = new Date().toISOString();
        await platform().saveView(r);
      } catch (e) {
        if (!(e instanceof ApiError)) {
          ok = false;
          break;
        }
      }
    }
    await render();
    if (say) announce(ok ? t('mine.refreshed') : t('mine.refresh.failed'));
  };

  // A report that leaves the outbox while this screen is open: fetch its public view.
  const off = platform().onOutbox((e) => {
    if (e.type === 'sent') {
      void getRequest(e.mine.request_number, e.mine.tracking_code)
        .then(async (view) => {
          const r = (await platform().sentRequest(e.mine.client_id)) ?? e.mine;
          await platform().saveView({ ...r, view, view_at: new Date().toISOString() });
        })
        .catch(() => undefined)
        .finally(() => void render());
    }
    void render();
  });
  const onNet = () => void render();
  window.addEventListener('online', onNet);
  window.addEventListener('offline', onNet);
  void render().then(() => {
    if (navigator.onLine !== false) void refresh(false);
  });

  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
    heading(t('mine.title')),
    h('div', { class: 'actions compact' },
      h('button', { type: 'button', class: 'button secondary', id: 'refresh', onclick: () => void refresh(true) }, t('mine.refresh')),
      link('#/', t('receipt.new'), 'button primary'),
    ),
    empty,
    pendingSection,
    sentSection,
    accountSection,
    loginNote,
  );
  return {
    title: t('mine.title'),
    el,
    cleanup: () => {
      alive = false;
      off();
      window.removeEventListener('online', onNet);
      window.removeEventListener('offline', onNet);
    },
  };
}
