// Addresses from the Base Adresse Nationale, as the server serves them (`/api/v1/geocode/…`):
// the address of a pin, and an address search field that places it. The field is an ARIA 1.2
// combobox: a labelled input, a listbox of suggestions, arrow keys, Enter and Escape, and the
// number of suggestions said through the live region.
import { ApiError, call } from './api.js';
import { announce, h, replace } from './dom.js';
import { translator } from './i18n.js';
import './address.css';

export interface AddressHit {
  label: string;
  kind: 'address' | 'street';
  lat: number;
  lon: number;
  city: string;
}

const t = translator(
  {
    'search.none': 'Aucune adresse trouvée.',
    'search.count': '{n} adresses proposées ; flèches haut et bas pour choisir.',
    'search.one': '1 adresse proposée ; flèche bas pour la choisir.',
    'search.failed': 'La recherche d’adresse ne répond pas ; placez l’épingle sur la carte.',
  },
  {
    'search.none': 'No address found.',
    'search.count': '{n} addresses suggested; up and down arrows to choose.',
    'search.one': '1 address suggested; down arrow to choose it.',
    'search.failed': 'The address search is not answering; place the pin on the map.',
  },
);

/** The nearest known address within 150 m of a point, or null when there is none. */
export async function reverseGeocode(lat: number, lon: number): Promise<AddressHit | null> {
  const q = new URLSearchParams({ lat: lat.toFixed(6), lon: lon.toFixed(6) });
  try {
    return (await call<AddressHit>(`/geocode/reverse?${q}`, {}, { timeoutMs: 5000 })).body;
  } catch (e) {
    if (e instanceof ApiError && e.status === 404) return null;
    throw e;
  }
}

/** Addresses and streets matching what was typed, those near `near` first. */
export async function searchAddresses(text: string, near: [number, number] | null): Promise<AddressHit[]> {
  const q = new URLSearchParams({ q: text, limit: '6' });
  if (near) {
    q.set('lat', near[0].toFixed(5));
    q.set('lon', near[1].toFixed(5));
  }
  return (await call<{ results: AddressHit[] }>(`/geocode/search?${q}`, {}, { timeoutMs: 5000 })).body.results;
}

export interface AddressSearchOptions {
  /** Prefix of the ids: `{id}` (the input), `{id}-list`, `{id}-hint`. */
  id: string;
  label: string;
  hint: string;
  /** Where to look first (the pin), when known. */
  near: () => [number, number] | null;
  onPick: (hit: AddressHit) => void;
}

/** The address search field: a label, a hint, the combobox and its listbox. */
export function addressSearch(opts: AddressSearchOptions): HTMLElement {
  const listId = `${opts.id}-list`;
  const input = h('input', {
    id: opts.id, type: 'text', role: 'combobox', autocomplete: 'off', spellcheck: 'false', maxlength: '200',
    'aria-autocomplete': 'list', 'aria-expanded': 'false', 'aria-controls': listId,
    'aria-describedby': `${opts.id}-hint`,
  });
  const list = h('ul', { id: listId, role: 'listbox', class: 'address-list', 'aria-label': opts.label, hidden: true });
  let hits: AddressHit[] = [];
  let active = -1;
  let seq = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;

  const close = () => {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  };
  const highlight = (i: number) => {
    active = i;
    list.querySelectorAll('[role=option]').forEach((o, j) => o.setAttribute('aria-selected', String(j === i)));
    if (i >= 0) {
      input.setAttribute('aria-activedescendant', `${listId}-${i}`);
      list.querySelector(`#${listId}-${i}`)?.scrollIntoView({ block: 'nearest' });
    } else {
      input.removeAttribute('aria-activedescendant');
    }
  };
  const pick = (i: number) => {
    const hit = hits[i];
    if (!hit) return;
    input.value = hit.label;
    close();
    opts.onPick(hit);
  };
  const show = (found: AddressHit[]) => {
    hits = found;
    replace(list, found.map((hit, i) =>
      h('li', {
        id: `${listId}-${i}`, role: 'option', 'aria-selected': 'false',
        // Before the input's blur, so that a tap picks.
        onmousedown: (e: Event) => e.preventDefault(),
        onclick: () => pick(i),
      }, hit.label),
    ));
    active = -1;
    list.hidden = found.length === 0;
    input.setAttribute('aria-expanded', String(found.length > 0));
    announce(found.length === 0 ? t('search.none') : found.length === 1 ? t('search.one') : t('search.count', { n: found.length }));
  };
  const search = async () => {
    const text = input.value.trim();
    const mine = ++seq;
    if (text.length < 3) {
      hits = [];
      close();
      return;
    }
    try {
      const found = await searchAddresses(text, opts.near());
      if (mine === seq) show(found);
    } catch {
      if (mine === seq) {
        close();
        announce(t('search.failed'));
      }
    }
  };

  input.addEventListener('input', () => {
    if (timer) clearTimeout(timer);
    timer = setTimeout(() => void search(), 250);
  });
  input.addEventListener('keydown', (e: KeyboardEvent) => {
    const open = !list.hidden && hits.length > 0;
    if (e.key === 'ArrowDown') {
      e.preventDefault();
      if (!open && hits.length) {
        list.hidden = false;
        input.setAttribute('aria-expanded', 'true');
      }
      if (hits.length) highlight((active + 1) % hits.length);
    } else if (e.key === 'ArrowUp' && open) {
      e.preventDefault();
      highlight(active <= 0 ? hits.length - 1 : active - 1);
    } else if (e.key === 'Enter' && open && active >= 0) {
      e.preventDefault();
      pick(active);
    } else if (e.key === 'Escape' && open) {
      e.preventDefault();
      close();
    }
  });
  input.addEventListener('blur', () => close());

  return h('div', { class: 'field address-search' },
    h('label', { for: opts.id }, opts.label),
    h('p', { class: 'hint', id: `${opts.id}-hint` }, opts.hint),
    h('div', { class: 'combobox' }, input, list),
  );
}
