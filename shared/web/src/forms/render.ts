// The form renderer: one démarche's form, drawn from its definition (`GET /api/v1/catalogue/
// {code}` → `form`), for the citizen app (every démarche) and the back office (entry on a
// citizen's behalf). All 15 kinds, conditions (`when`), repeatable blocks, bounds shown in the
// hints, files with their types and sizes checked before upload, a geo point on a map (loaded
// only when such a field is shown) or typed in, and errors — the client's checks
// (`check.ts`) or the server's `errors[]` — shown at their fields by path, with a summary that
// links to each one.
//
// Accessible markup: every input has a label; hints and errors are tied with
// aria-describedby; groups (choices, addresses, points, block items) are fieldsets with a
// legend; a field in error has aria-invalid; the summary takes the focus.
import { addressSearch } from '../address.js';
import type { FieldError } from '../api.js';
import { h, replace } from '../dom.js';
import { formatBytes, formatDate, formatNumber, pick } from '../i18n.js';
import { checkAnswers, type Files } from './check.js';
import { boundDate, conditionHolds, type Field, type FormDefinition, maxItems, maxLength, todayIso } from './definition.js';
import { t, type FormKey } from './messages.js';
import './forms.css';

export interface FormOptions {
  /** Prefix of every element id, unique in the page. */
  idPrefix: string;
  /** Values to start from (a draft, or the request being completed). */
  initial?: Record<string, unknown>;
  /** Only these top-level fields are shown (a complement asks for some fields only). */
  only?: string[];
  /** Documents of the citizen's wallet, offered at each file field that accepts them. */
  wallet?: WalletDocument[];
  /** Files to start from, by field id (a draft's). */
  initialFiles?: Record<string, File[]>;
}

/** A document of the citizen's wallet (`GET /api/v1/citizen/me/documents`). */
export interface WalletDocument {
  id: number;
  label: string;
  filename: string;
  mime: string;
  bytes: number;
}

/** A wallet document put in a file field, as `POST /requests` takes it (`documents`). */
export interface DocumentRef {
  field: string;
  document_id: number;
}

export interface FormValue {
  data: Record<string, unknown>;
  /** Picked files by field id (only of the fields shown). */
  files: Record<string, File[]>;
  /** Wallet documents chosen for file fields (only of the fields shown). */
  documents: DocumentRef[];
}

export interface FormHandle {
  el: HTMLElement;
  value(): FormValue;
  /** Runs the client-side checks; shows and returns the errors (none: []). */
  check(): FieldError[];
  /** Shows errors (the server's, or the client's) at their fields; focuses the summary. */
  showErrors(errors: FieldError[]): void;
  clearErrors(): void;
  destroy(): void;
}

type Path = () => string;

interface Control {
  field: Field;
  path: Path;
  wrap: HTMLElement;
  /** What gets the focus for an error on this field. */
  focusEl(): HTMLElement;
  errorEl: HTMLElement;
  /** The value as sent, or undefined when nothing is given. Files: never in data. */
  value(): unknown;
  files?(): File[];
  /** The wallet documents chosen at a file field. */
  documents?(): WalletDocument[];
  /** Paths below this one (an address's `.text`, a point's `.lat`, a block's items). */
  sub?(path: string): { el: HTMLElement; focus: HTMLElement; error: HTMLElement } | null;
  items?: Group[];
  destroy?(): void;
}

/** Sibling fields: the top level, or one item of a block. */
interface Group {
  controls: Control[];
  /** The fieldset of a block item (null at the top level). */
  box: HTMLElement | null;
  legend: HTMLElement | null;
  errorEl: HTMLElement | null;
  index: number;
}

function idOf(prefix: string, path: string): string {
  return `${prefix}-${path.replace(/[^a-zA-Z0-9_-]+/g, '-')}`;
}

const FILE_CODES = new Set(['file-too-large', 'file-empty', 'file-type-not-allowed']);

function errorText(e: FieldError, field: Field | null): string {
  if (e.code === 'required' && field?.kind === 'boolean') return t('err.required.box');
  const key = `err.${e.code}` as FormKey;
  // File errors name the file (the client's checks give its name as the message).
  const known = t(key, FILE_CODES.has(e.code) ? { name: e.message } : {});
  return known !== key ? known : t('err.other', { message: e.message || e.code });
}

/** Bounds and formats said in the hint, so that nobody learns them from an error. */
function rulesHint(f: Field, today: string): string | null {
  const r = f.validation ?? {};
  const fmtDate = (b: string | number | undefined) => {
    const d = boundDate(b, today);
    return d ? formatDate(d + 'T12:00:00') : null;
  };
  switch (f.kind) {
    case 'text':
    case 'long_text':
      return r.min_length ? t('length.between', { min: r.min_length, max: maxLength(f) }) : t('length.max', { n: maxLength(f) });
    case 'integer':
    case 'decimal': {
      const min = typeof r.min === 'number' ? formatNumber(r.min, f.kind === 'decimal' ? 2 : 0) : null;
      const max = typeof r.max === 'number' ? formatNumber(r.max, f.kind === 'decimal' ? 2 : 0) : null;
      if (min && max) return t('number.between', { min, max });
      if (min) return t('number.min', { min });
      if (max) return t('number.max', { max });
      return null;
    }
    case 'date':
    case 'datetime': {
      const min = fmtDate(r.min), max = fmtDate(r.max);
      if (min && max) return t('date.between', { min, max });
      if (min) return t('date.min', { min });
      if (max) return t('date.max', { max });
      return null;
    }
    case 'phone':
      return t('phone.hint');
    case 'file': {
      const fr = f.file;
      if (!fr) return null;
      return t('file.rules', { n: fr.max_files ?? 1, size: formatBytes(fr.max_bytes), types: fr.mime.join(', ') });
    }
    case 'block':
      return t('block.count', { min: f.min_items ?? 0, max: maxItems(f) });
    case 'multi_choice':
      return f.min_items || f.max_items ? t('multi.count', { min: f.min_items ?? 0, max: maxItems(f) }) : null;
    default:
      return null;
  }
}

function parseNumber(s: string): number | string | undefined {
  const v = s.trim().replace(/\s|\u202f|\u00a0/g, '').replace(',', '.');
  if (!v) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && /^[-+]?(\d+\.?\d*|\.\d+)$/.test(v) ? n : s.trim();
}

/** `YYYY-MM-DDTHH:MM` of a datetime-local input → RFC 3339 with this browser's offset. */
export function localToRfc3339(v: string): string | undefined {
  if (!v) return undefined;
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) return v;
  const off = -d.getTimezoneOffset();
  const p = (x: number) => String(Math.floor(Math.abs(x))).padStart(2, '0');
  const sign = off >= 0 ? '+' : '-';
  const base = v.length === 16 ? `${v}:00` : v;
  return `${base}${sign}${p(off / 60)}:${p(off % 60)}`;
}

export function renderForm(def: FormDefinition, opts: FormOptions): FormHandle {
  const today = todayIso();
  const prefix = opts.idPrefix;
  const initial = opts.initial ?? {};
  let nextItem = 0;
  const summary = h('div', { class: 'form-errors', id: `${prefix}-errors`, tabindex: '-1', hidden: true });
  const body = h('div', { class: 'form-fields' });
  const el = h('div', { class: 'guichet-form' }, summary, body);

  // ---- one field ----

  /** `idPath`: the path at creation, with block items numbered once (ids never move). */
  function fieldControl(f: Field, path: Path, init: unknown, idPath = path()): Control {
    const baseId = idOf(prefix, idPath);
    const hintText = [pick(f.hint ?? '', f.hint_en), rulesHint(f, today)].filter((x) => x).join(' ');
    const hintEl = hintText ? h('p', { class: 'hint', id: `${baseId}-hint` }, hintText) : null;
    const errorEl = h('p', { class: 'field-error', id: `${baseId}-error`, hidden: true });
    const describedBy = [hintEl ? `${baseId}-hint` : null, `${baseId}-error`].filter(Boolean).join(' ');
    const labelText = (text: string) => [
      text,
      ' ',
      h('span', { class: f.required ? 'req' : 'opt' }, `(${f.required ? t('required') : t('optional')})`),
    ];
    const wrap = h('div', { class: `form-field kind-${f.kind}`, 'data-field': f.id });
    const label = pick(f.label, f.label_en);
    const aria = (input: HTMLElement) => {
      input.setAttribute('aria-describedby', describedBy);
      if (f.required) input.setAttribute('aria-required', 'true');
    };
    const str = (v: unknown) => (typeof v === 'string' ? v : typeof v === 'number' ? String(v) : '');

    switch (f.kind) {
      case 'text':
      case 'email':
      case 'phone':
      case 'integer':
      case 'decimal':
      case 'date':
      case 'datetime':
      case 'long_text': {
        const attrs: Record<string, unknown> = { id: baseId, name: f.id };
        let input: HTMLInputElement | HTMLTextAreaElement;
        if (f.kind === 'long_text') {
          input = h('textarea', { ...attrs, rows: 5, maxlength: maxLength(f) });
        } else {
          const type = { text: 'text', email: 'email', phone: 'tel', integer: 'text', decimal: 'text', date: 'date', datetime: 'datetime-local' }[f.kind];
          input = h('input', {
            ...attrs,
            type,
            inputmode: f.kind === 'integer' ? 'numeric' : f.kind === 'decimal' ? 'decimal' : undefined,
            autocomplete: f.kind === 'email' ? 'email' : f.kind === 'phone' ? 'tel' : undefined,
            maxlength: f.kind === 'text' ? maxLength(f) : undefined,
            min: f.kind === 'date' ? boundDate(f.validation?.min, today) ?? undefined : undefined,
            max: f.kind === 'date' ? boundDate(f.validation?.max, today) ?? undefined : undefined,
          });
        }
        aria(input);
        if (init !== undefined && init !== null) input.value = f.kind === 'datetime' ? str(init).slice(0, 16) : str(init);
        wrap.append(h('label', { for: baseId }, labelText(label)), hintEl ?? '', errorEl, input);
        return {
          field: f, path, wrap, errorEl,
          focusEl: () => input,
          value: () => {
            const v = input.value;
            if (f.kind === 'integer' || f.kind === 'decimal') return parseNumber(v);
            if (f.kind === 'datetime') return localToRfc3339(v);
            return v.trim() ? v : undefined;
          },
        };
      }
      case 'boolean': {
        const input = h('input', { type: 'checkbox', id: baseId, name: f.id, checked: init === true });
        aria(input);
        wrap.append(h('div', { class: 'check' }, input, h('label', { for: baseId }, labelText(label))), hintEl ?? '', errorEl);
        return { field: f, path, wrap, errorEl, focusEl: () => input, value: () => input.checked };
      }
      case 'choice':
      case 'multi_choice': {
        const options = f.options ?? [];
        const multi = f.kind === 'multi_choice';
        if (!multi && options.length > 6) {
          const select = h('select', { id: baseId, name: f.id },
            h('option', { value: '' }, t('choice.none')),
            options.map((o) => h('option', { value: o.value, selected: init === o.value }, pick(o.label, o.label_en))));
          aria(select);
          wrap.append(h('label', { for: baseId }, labelText(label)), hintEl ?? '', errorEl, select);
          return { field: f, path, wrap, errorEl, focusEl: () => select, value: () => select.value || undefined };
        }
        const inputs = options.map((o, i) => {
          const oid = `${baseId}-${i}`;
          const checked = multi ? Array.isArray(init) && init.includes(o.value) : init === o.value;
          const input = h('input', { type: multi ? 'checkbox' : 'radio', id: oid, name: `${baseId}-opt`, value: o.value, checked });
          return { input, row: h('div', { class: 'check' }, input, h('label', { for: oid }, pick(o.label, o.label_en))) };
        });
        const fs = h('fieldset', { class: 'choices', 'aria-describedby': describedBy },
          h('legend', null, labelText(label)), hintEl ?? '', errorEl, inputs.map((x) => x.row));
        wrap.append(fs);
        return {
          field: f, path, wrap, errorEl,
          focusEl: () => inputs.find((x) => x.input.checked)?.input ?? inputs[0]?.input ?? fs,
          value: () => {
            const picked = inputs.filter((x) => x.input.checked).map((x) => x.input.value);
            if (multi) return picked.length ? picked : undefined;
            return picked[0];
          },
        };
      }
      case 'file': {
        const rules = f.file;
        const input = h('input', {
          type: 'file', id: baseId, name: f.id,
          multiple: (rules?.max_files ?? 1) > 1,
          accept: rules?.mime.join(',') || undefined,
        });
        aria(input);
        const kept = opts.initialFiles?.[f.id];
        if (kept?.length) {
          // A file input takes files only from a DataTransfer; without one, they are picked again.
          try {
            const transfer = new DataTransfer();
            for (const file of kept) transfer.items.add(file);
            input.files = transfer.files;
          } catch {
            /* an older browser */
          }
        }
        wrap.append(h('label', { for: baseId }, labelText(label)), hintEl ?? '', errorEl, input);
        // The wallet's documents this field accepts: chosen instead of (or with) a new file.
        const usable = (opts.wallet ?? []).filter((d) => (!rules?.mime.length || rules.mime.includes(d.mime)) && (!rules?.max_bytes || d.bytes <= rules.max_bytes));
        const boxes = usable.map((d, i) => {
          const bid = `${baseId}-wallet-${i}`;
          const box = h('input', { type: 'checkbox', id: bid, value: String(d.id), 'data-document': String(d.id) });
          return { d, box, row: h('div', { class: 'check' }, box, h('label', { for: bid }, t('wallet.item', { label: d.label, name: d.filename, size: formatBytes(d.bytes) }))) };
        });
        if (boxes.length) {
          wrap.append(h('fieldset', { class: 'choices wallet-choices' },
            h('legend', null, t('wallet.choose', { label })), boxes.map((b) => b.row)));
        }
        return {
          field: f, path, wrap, errorEl, focusEl: () => input,
          value: () => undefined,
          files: () => [...(input.files ?? [])],
          documents: () => boxes.filter((b) => b.box.checked).map((b) => b.d),
        };
      }
      case 'address': {
        const a = (typeof init === 'string' ? { text: init } : (init ?? {})) as Record<string, unknown>;
        const part = (name: 'text' | 'postcode' | 'city', key: FormKey, autocomplete: string) => {
          const pid = `${baseId}-${name}`;
          const perr = h('p', { class: 'field-error', id: `${pid}-error`, hidden: true });
          const input = h('input', {
            type: 'text', id: pid, name: `${f.id}.${name}`, autocomplete,
            inputmode: name === 'postcode' ? 'numeric' : undefined,
            maxlength: name === 'postcode' ? 5 : name === 'city' ? 100 : 300,
            'aria-describedby': `${pid}-error`,
          });
          if (name === 'text' && f.required) input.setAttribute('aria-required', 'true');
          input.value = str(a[name]);
          const row = h('div', { class: `part part-${name}` }, h('label', { for: pid }, t(key)), perr, input);
          return { input, row, perr };
        };
        const parts = {
          text: part('text', 'address.text', 'street-address'),
          postcode: part('postcode', 'address.postcode', 'postal-code'),
          city: part('city', 'address.city', 'address-level2'),
        };
        const fs = h('fieldset', { class: 'address', 'aria-describedby': describedBy },
          h('legend', null, labelText(label)), hintEl ?? '', errorEl, parts.text.row, h('div', { class: 'row' }, parts.postcode.row, parts.city.row));
        wrap.append(fs);
        return {
          field: f, path, wrap, errorEl, focusEl: () => parts.text.input,
          value: () => {
            const out: Record<string, string> = {};
            for (const [k, p] of Object.entries(parts)) if (p.input.value.trim()) out[k] = p.input.value;
            return Object.keys(out).length ? out : undefined;
          },
          sub: (p) => {
            const m = /\.(text|postcode|city)$/.exec(p);
            const x = m ? parts[m[1] as 'text' | 'postcode' | 'city'] : null;
            return x ? { el: x.row, focus: x.input, error: x.perr } : null;
          },
        };
      }
      case 'geo_point': {
        const g = (init ?? {}) as Record<string, unknown>;
        const coord = (name: 'lat' | 'lon') => {
          const pid = `${baseId}-${name}`;
          const perr = h('p', { class: 'field-error', id: `${pid}-error`, hidden: true });
          const input = h('input', { type: 'text', id: pid, name: `${f.id}.${name}`, inputmode: 'decimal', 'aria-describedby': `${pid}-error` });
          if (f.required) input.setAttribute('aria-required', 'true');
          input.value = typeof g[name] === 'number' ? String(g[name]) : '';
          const row = h('div', { class: `part part-${name}` }, h('label', { for: pid }, t(name === 'lat' ? 'geo.lat' : 'geo.lon')), perr, input);
          return { input, row, perr };
        };
        const lat = coord('lat'), lon = coord('lon');
        const mapEl = h('div', { class: 'form-map', id: `${baseId}-map` });
        const geoHint = h('p', { class: 'hint', id: `${baseId}-geohint` }, t('geo.hint'));
        let destroyMap: (() => void) | null = null;
        let movePin: ((la: number, lo: number) => void) | null = null;
        const num = (i: HTMLInputElement) => parseNumber(i.value);
        // An address from the national address base places the pin.
        const search = addressSearch({
          id: `${baseId}-address`,
          label: t('geo.search'),
          hint: t('geo.search.hint'),
          near: () => {
            const la = num(lat.input), lo = num(lon.input);
            return typeof la === 'number' && typeof lo === 'number' ? [la, lo] : null;
          },
          onPick: (hit) => {
            lat.input.value = hit.lat.toFixed(6);
            lon.input.value = hit.lon.toFixed(6);
            movePin?.(hit.lat, hit.lon);
          },
        });
        const fs = h('fieldset', { class: 'geo-point', 'aria-describedby': `${describedBy} ${baseId}-geohint` },
          h('legend', null, labelText(label)), hintEl ?? '', geoHint, errorEl, search, mapEl, h('div', { class: 'row' }, lat.row, lon.row));
        wrap.append(fs);
        // The map library is loaded only when a form with a place is shown.
        const mountMap = async () => {
          const { baseMap, pinMarker } = await import('../map.js');
          if (!mapEl.isConnected || destroyMap) return;
          const la = num(lat.input), lo = num(lon.input);
          const start: [number, number] | null = typeof la === 'number' && typeof lo === 'number' ? [la, lo] : null;
          const map = baseMap(mapEl, { center: start, label: t('geo.map', { label }) });
          const pin = pinMarker(start ?? [0, 0], t('geo.pin'), true);
          if (start) pin.addTo(map);
          const set = (la2: number, lo2: number) => {
            lat.input.value = la2.toFixed(6);
            lon.input.value = lo2.toFixed(6);
          };
          pin.on('dragend', () => {
            const p = pin.getLatLng();
            set(p.lat, p.lng);
          });
          map.on('click', (e) => {
            pin.setLatLng(e.latlng);
            if (!map.hasLayer(pin)) pin.addTo(map);
            set(e.latlng.lat, e.latlng.lng);
          });
          movePin = (la2, lo2) => {
            pin.setLatLng([la2, lo2]);
            if (!map.hasLayer(pin)) pin.addTo(map);
            map.panTo([la2, lo2]);
          };
          destroyMap = () => map.remove();
        };
        const onTyped = () => {
          const la = num(lat.input), lo = num(lon.input);
          if (typeof la === 'number' && typeof lo === 'number' && Math.abs(la) <= 90 && Math.abs(lo) <= 180) movePin?.(la, lo);
        };
        lat.input.addEventListener('change', onTyped);
        lon.input.addEventListener('change', onTyped);
        // Leaflet needs the element in the page and laid out: wait until it has a size (a
        // field hidden by its condition has none).
        const observer = typeof ResizeObserver === 'function'
          ? new ResizeObserver((entries) => {
            if (entries.some((e) => e.contentRect.width > 0)) {
              observer?.disconnect();
              void mountMap();
            }
          })
          : null;
        observer?.observe(mapEl);
        return {
          field: f, path, wrap, errorEl, focusEl: () => lat.input,
          value: () => {
            const la = num(lat.input), lo = num(lon.input);
            if (la === undefined && lo === undefined) return undefined;
            return { lat: la ?? null, lon: lo ?? null };
          },
          sub: (p) => {
            const x = p.endsWith('.lat') ? lat : p.endsWith('.lon') ? lon : null;
            return x ? { el: x.row, focus: x.input, error: x.perr } : null;
          },
          destroy: () => {
            observer?.disconnect();
            destroyMap?.();
          },
        };
      }
      case 'block': {
        const list = h('div', { class: 'block-items' });
        const items: Group[] = [];
        const addBtn = h('button', { type: 'button', class: 'secondary block-add', id: `${baseId}-add` }, t('block.add', { label }));
        const fs = h('fieldset', { class: 'block', 'aria-describedby': describedBy },
          h('legend', null, labelText(label)), hintEl ?? '', errorEl, list, addBtn);
        wrap.append(fs);
        const ctl: Control = {
          field: f, path, wrap, errorEl, items,
          focusEl: () => items[0]?.controls[0]?.focusEl() ?? addBtn,
          value: () => {
            const out = items.map((g) => groupData(g));
            return out.length ? out : undefined;
          },
          sub: (p) => {
            const m = /\[(\d+)\]$/.exec(p);
            const g = m ? items[Number(m[1])] : null;
            return g && g.box && g.errorEl ? { el: g.box, focus: g.controls[0]?.focusEl() ?? g.box, error: g.errorEl } : null;
          },
          destroy: () => items.forEach((g) => g.controls.forEach((c) => c.destroy?.())),
        };
        const renumber = () => {
          items.forEach((g, i) => {
            g.index = i;
            if (g.legend) g.legend.textContent = t('block.item', { label, n: i + 1 });
            const rm = g.box?.querySelector<HTMLButtonElement>('button.block-remove');
            if (rm) rm.textContent = t('block.remove', { label, n: i + 1 });
          });
          addBtn.disabled = items.length >= maxItems(f);
        };
        const addItem = (values: Record<string, unknown>, announceIt: boolean) => {
          const legend = h('legend', null);
          const itemError = h('p', { class: 'field-error', hidden: true });
          const g: Group = { controls: [], box: null, legend, errorEl: itemError, index: items.length };
          const itemPath = () => `${path()}[${g.index}]`;
          const uid = nextItem++;
          g.controls = (f.fields ?? []).map((sf) => fieldControl(sf, () => `${itemPath()}.${sf.id}`, values[sf.id], `${idPath}[${uid}].${sf.id}`));
          const rm = h('button', { type: 'button', class: 'secondary block-remove' });
          const box = h('fieldset', { class: 'block-item' }, legend, itemError, g.controls.map((c) => c.wrap), rm);
          g.box = box;
          rm.addEventListener('click', () => {
            const n = items.indexOf(g);
            g.controls.forEach((c) => c.destroy?.());
            items.splice(n, 1);
            box.remove();
            renumber();
            status(t('block.removed', { label, n: n + 1 }));
            (items[Math.min(n, items.length - 1)]?.controls[0]?.focusEl() ?? addBtn).focus();
          });
          items.push(g);
          list.append(box);
          renumber();
          updateVisibility(g);
          if (announceIt) {
            status(t('block.added', { label, n: items.length }));
            g.controls[0]?.focusEl().focus();
          }
        };
        addBtn.addEventListener('click', () => addItem({}, true));
        const start = Array.isArray(init) ? (init as Record<string, unknown>[]) : [];
        start.forEach((v) => addItem(v ?? {}, false));
        if (!start.length && (f.required || (f.min_items ?? 0) > 0)) {
          for (let i = 0; i < Math.max(1, f.min_items ?? 0); i++) addItem({}, false);
        }
        return ctl;
      }
    }
  }

  // ---- groups, conditions, values ----

  function groupData(g: Group): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const c of g.controls) {
      if (c.wrap.hidden || c.field.kind === 'file') continue;
      const v = c.value();
      if (v !== undefined) out[c.field.id] = v;
    }
    return out;
  }

  /** Shows the fields whose condition holds on the values of their earlier siblings. */
  function updateVisibility(g: Group): void {
    const seen: Record<string, unknown> = g === top ? { ...initial } : {};
    for (const c of g.controls) {
      const shown = !c.field.when || conditionHolds(c.field.when, seen[c.field.when.field]);
      c.wrap.hidden = !shown;
      if (shown) seen[c.field.id] = c.value();
      else delete seen[c.field.id];
      c.items?.forEach(updateVisibility);
    }
  }

  const live = h('p', { class: 'visually-hidden', role: 'status', 'aria-live': 'polite' });
  el.append(live);
  function status(msg: string): void {
    live.textContent = '';
    setTimeout(() => (live.textContent = msg), 30);
  }

  const top: Group = { controls: [], box: null, legend: null, errorEl: null, index: 0 };
  const fields = opts.only ? def.fields.filter((f) => opts.only!.includes(f.id)) : def.fields;
  top.controls = fields.map((f) => fieldControl(f, () => (f.kind === 'file' ? `files.${f.id}` : `data.${f.id}`), initial[f.id]));
  body.append(...top.controls.map((c) => c.wrap));
  updateVisibility(top);
  const onChange = () => updateVisibility(top);
  body.addEventListener('change', onChange);
  body.addEventListener('input', onChange);

  // ---- errors ----

  function allControls(g: Group, out: Control[] = []): Control[] {
    for (const c of g.controls) {
      if (c.wrap.hidden) continue;
      out.push(c);
      c.items?.forEach((i) => allControls(i, out));
    }
    return out;
  }

  interface Target { field: Field | null; focus: HTMLElement; error: HTMLElement; invalid: HTMLElement[] }

  function targetOf(path: string, controls: Control[]): Target | null {
    const byPath = new Map(controls.map((c) => [c.path(), c]));
    let p = path;
    for (;;) {
      const c = byPath.get(p);
      if (c) {
        if (p !== path && c.sub) {
          const s = c.sub(path);
          if (s) return { field: c.field, focus: s.focus, error: s.error, invalid: [s.focus] };
        }
        const focus = c.focusEl();
        return { field: c.field, focus, error: c.errorEl, invalid: [focus] };
      }
      const cut = Math.max(p.lastIndexOf('.'), p.lastIndexOf('['));
      if (cut <= 0) return null;
      p = p.slice(0, cut);
    }
  }

  function clearErrors(): void {
    summary.hidden = true;
    replace(summary);
    for (const e of el.querySelectorAll<HTMLElement>('.field-error')) {
      e.hidden = true;
      e.textContent = '';
    }
    for (const e of el.querySelectorAll('[aria-invalid]')) e.removeAttribute('aria-invalid');
    for (const e of el.querySelectorAll('.has-error')) e.classList.remove('has-error');
  }

  function showErrors(errors: FieldError[]): void {
    clearErrors();
    if (!errors.length) return;
    const controls = allControls(top);
    const links: HTMLElement[] = [];
    for (const e of errors) {
      const target = targetOf(e.field, controls);
      const text = errorText(e, target?.field ?? null);
      if (target) {
        target.error.hidden = false;
        target.error.textContent = target.error.textContent ? `${target.error.textContent} ${text}` : text;
        for (const i of target.invalid) i.setAttribute('aria-invalid', 'true');
        target.error.closest('.form-field')?.classList.add('has-error');
        const name = target.field ? pick(target.field.label, target.field.label_en) : e.field;
        const a = h('a', { href: `#${target.focus.id}` }, `${name} : ${text}`);
        a.addEventListener('click', (ev) => {
          ev.preventDefault();
          target.focus.focus();
        });
        links.push(h('li', null, a));
      } else {
        links.push(h('li', null, text));
      }
    }
    replace(summary,
      h('p', { class: 'form-errors-title' }, errors.length === 1 ? t('summary.one') : t('summary.many', { n: errors.length })),
      h('ul', null, links));
    summary.hidden = false;
    summary.focus();
  }

  function value(): FormValue {
    const data = groupData(top);
    const files: Record<string, File[]> = {};
    const documents: DocumentRef[] = [];
    for (const c of top.controls) {
      if (c.wrap.hidden || !c.files) continue;
      const picked = c.files();
      if (picked.length) files[c.field.id] = picked;
      for (const d of c.documents?.() ?? []) documents.push({ field: c.field.id, document_id: d.id });
    }
    return { data, files, documents };
  }

  return {
    el,
    value,
    check() {
      const v = value();
      const picked: Files = {};
      for (const [k, list] of Object.entries(v.files)) picked[k] = list.map((f) => ({ name: f.name, size: f.size, type: f.type }));
      // Wallet documents count as the field's files for its rules (count, type, size).
      for (const c of top.controls) {
        if (c.wrap.hidden) continue;
        for (const d of c.documents?.() ?? []) (picked[c.field.id] ??= []).push({ name: d.filename, size: d.bytes, type: d.mime });
      }
      const shownDef = { fields };
      // Fields of the definition not shown (a complement) keep their values for conditions.
      const data = { ...(opts.only ? initial : {}), ...v.data };
      const errors = checkAnswers(shownDef, data, picked, today).filter((e) => !opts.only || opts.only.some((id) => e.field === `data.${id}` || e.field.startsWith(`data.${id}.`) || e.field.startsWith(`data.${id}[`) || e.field === `files.${id}`));
      showErrors(errors);
      return errors;
    },
    showErrors,
    clearErrors,
    destroy() {
      body.removeEventListener('change', onChange);
      body.removeEventListener('input', onChange);
      top.controls.forEach((c) => c.destroy?.());
    },
  };
}

