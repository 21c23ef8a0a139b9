// The client-side checks of a form's answers, mirroring the server's (shared/src/forms/
// answers.rs and files.rs) so that most mistakes are shown before sending, at the same paths
// and with the same codes. The server stays the judge: its errors are shown the same way.
// Pure: no DOM, tested in Node.js (test/forms.test.ts).
import type { FieldError } from '../api.js';
import {
  boundDate,
  conditionHolds,
  type Field,
  type FormDefinition,
  isGiven,
  maxItems,
  maxLength,
  MAX_CITY_CHARS,
  MAX_EMAIL_CHARS,
} from './definition.js';

/** A file picked for a file field: what the checks need to know of it. */
export interface PickedFile {
  name: string;
  size: number;
  type: string;
}

export type Files = Record<string, PickedFile[]>;

/** Every broken rule of `data` (and the picked files), in the order of the definition. */
export function checkAnswers(def: FormDefinition, data: Record<string, unknown>, files: Files, today: string): FieldError[] {
  const errors: FieldError[] = [];
  checkFields(def.fields, data, 'data.', files, today, errors);
  return errors;
}

function err(errors: FieldError[], field: string, code: string, message = code): void {
  errors.push({ field, code, message });
}

function checkFields(fields: Field[], obj: Record<string, unknown>, prefix: string, files: Files, today: string, errors: FieldError[]): void {
  const seen: Record<string, unknown> = {};
  for (const f of fields) {
    if (f.when && !conditionHolds(f.when, seen[f.when.field])) continue;
    if (f.kind === 'file') {
      checkFiles(f, files[f.id] ?? [], errors);
      continue;
    }
    const path = prefix + f.id;
    const v = obj[f.id];
    seen[f.id] = v;
    if (!isGiven(v) || (f.kind === 'boolean' && v === false)) {
      if (f.required) err(errors, path, 'required');
      continue;
    }
    checkValue(f, v, path, files, today, errors);
  }
}

/** Characters other than tab and (in long text) line breaks that a text may not hold. */
function hasControl(s: string, multiline: boolean): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (multiline && (c === 10 || c === 9)) continue;
    if (c < 32 || c === 127 || (c >= 0x80 && c < 0xa0)) return true;
  }
  return false;
}

export function plausibleEmail(s: string): boolean {
  const at = s.lastIndexOf('@');
  if (at < 1 || at === s.length - 1) return false;
  const domain = s.slice(at + 1);
  return !/\s/.test(s) && domain.includes('.') && !domain.startsWith('.') && !domain.endsWith('.') && !domain.includes('..');
}

/**
 * The phone rule of the server (shared/src/forms/phone.rs), in short: E.164 (`+` and 8 to 15
 * digits) or a French number written nationally (ten digits starting with 0). Returns the
 * E.164 form, or null when the server would refuse it.
 */
export function normalisePhone(input: string): string | null {
  let s = input.trim().replace(/\(0\)/, '');
  if (/[^0-9+ .\-()\u00a0\u202f]/.test(s)) return null;
  const plus = s.startsWith('+');
  if (s.indexOf('+', 1) !== -1) return null;
  s = s.replace(/\D/g, '');
  if (!s) return null;
  let intl: string;
  if (plus) intl = s;
  else if (s.startsWith('00')) intl = s.slice(2);
  else if (s.startsWith('0') && s.length === 10) return `+33${s.slice(1)}`;
  else return null;
  if (intl.startsWith('0')) return null;
  if (intl.startsWith('33')) {
    const national = intl.slice(2).replace(/^0/, '');
    return national.length === 9 && !national.startsWith('0') ? `+33${national}` : null;
  }
  return intl.length >= 8 && intl.length <= 15 ? `+${intl}` : null;
}

function checkValue(f: Field, v: unknown, path: string, files: Files, today: string, errors: FieldError[]): void {
  const rules = f.validation ?? {};
  switch (f.kind) {
    case 'text':
    case 'long_text': {
      if (typeof v !== 'string') return err(errors, path, 'wrong-type');
      const s = v.trim();
      const n = [...s].length;
      if (hasControl(s, f.kind === 'long_text')) return err(errors, path, 'control-characters');
      if (rules.min_length !== undefined && n < rules.min_length) return err(errors, path, 'too-short');
      if (n > maxLength(f)) return err(errors, path, 'too-long');
      if (rules.pattern) {
        let re: RegExp | null = null;
        try {
          re = new RegExp(`^(?:${rules.pattern})$`, 'u');
        } catch {
          re = null; // a pattern JavaScript cannot read: the server checks it
        }
        if (re && !re.test(s)) return err(errors, path, 'invalid-format');
      }
      return;
    }
    case 'email': {
      if (typeof v !== 'string') return err(errors, path, 'wrong-type');
      const s = v.trim();
      if ([...s].length > MAX_EMAIL_CHARS) return err(errors, path, 'too-long');
      if (!plausibleEmail(s)) return err(errors, path, 'invalid-email');
      return;
    }
    case 'phone':
      if (typeof v !== 'string') return err(errors, path, 'wrong-type');
      if (normalisePhone(v) === null) return err(errors, path, 'invalid-phone');
      return;
    case 'integer':
    case 'decimal': {
      if (typeof v !== 'number' || !Number.isFinite(v)) return err(errors, path, 'wrong-type');
      if (f.kind === 'integer' && !Number.isInteger(v)) return err(errors, path, 'wrong-type');
      if (typeof rules.min === 'number' && v < rules.min) return err(errors, path, 'out-of-range');
      if (typeof rules.max === 'number' && v > rules.max) return err(errors, path, 'out-of-range');
      return;
    }
    case 'date':
    case 'datetime': {
      if (typeof v !== 'string') return err(errors, path, 'wrong-type');
      const day = f.kind === 'date' ? v : v.slice(0, 10);
      const valid = f.kind === 'date'
        ? /^\d{4}-\d{2}-\d{2}$/.test(v) && !Number.isNaN(Date.parse(v))
        : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(v) && !Number.isNaN(Date.parse(v));
      if (!valid) return err(errors, path, 'invalid-date');
      const min = boundDate(rules.min, today);
      const max = boundDate(rules.max, today);
      if (min && day < min) return err(errors, path, 'out-of-range');
      if (max && day > max) return err(errors, path, 'out-of-range');
      return;
    }
    case 'boolean':
      if (typeof v !== 'boolean') err(errors, path, 'wrong-type');
      return;
    case 'choice':
      if (!(f.options ?? []).some((o) => o.value === v)) err(errors, path, 'not-an-option');
      return;
    case 'multi_choice': {
      if (!Array.isArray(v)) return err(errors, path, 'wrong-type');
      v.forEach((x, i) => {
        if (!(f.options ?? []).some((o) => o.value === x)) err(errors, `${path}[${i}]`, 'not-an-option');
        else if (v.indexOf(x) !== i) err(errors, `${path}[${i}]`, 'duplicate-value');
      });
      itemCount(f, v.length, path, errors);
      return;
    }
    case 'address': {
      const a = (typeof v === 'string' ? { text: v } : v) as Record<string, unknown>;
      const text = typeof a.text === 'string' ? a.text.trim() : '';
      if (!text) err(errors, `${path}.text`, 'required');
      else if ([...text].length > DEFAULT_ADDRESS_CHARS) err(errors, `${path}.text`, 'too-long');
      const pc = typeof a.postcode === 'string' ? a.postcode.trim() : '';
      if (pc && !/^\d{5}$/.test(pc)) err(errors, `${path}.postcode`, 'invalid-format');
      const city = typeof a.city === 'string' ? a.city.trim() : '';
      if ([...city].length > MAX_CITY_CHARS) err(errors, `${path}.city`, 'too-long');
      return;
    }
    case 'geo_point': {
      const p = v as Record<string, unknown>;
      const lat = p.lat, lon = p.lon;
      if (typeof lat !== 'number' || !Number.isFinite(lat)) err(errors, `${path}.lat`, 'required');
      else if (Math.abs(lat) > 90) err(errors, `${path}.lat`, 'out-of-range');
      if (typeof lon !== 'number' || !Number.isFinite(lon)) err(errors, `${path}.lon`, 'required');
      else if (Math.abs(lon) > 180) err(errors, `${path}.lon`, 'out-of-range');
      return;
    }
    case 'block': {
      if (!Array.isArray(v)) return err(errors, path, 'wrong-type');
      itemCount(f, v.length, path, errors);
      v.forEach((item, i) => {
        checkFields(f.fields ?? [], (item ?? {}) as Record<string, unknown>, `${path}[${i}].`, files, today, errors);
      });
      return;
    }
    case 'file':
      return;
  }
}

/** The server's cap on an address's text (shared/src/forms/answers.rs). */
const DEFAULT_ADDRESS_CHARS = 300;

function itemCount(f: Field, n: number, path: string, errors: FieldError[]): void {
  if (f.min_items != null && n < f.min_items) err(errors, path, 'too-few-items');
  else if (n > maxItems(f)) err(errors, path, 'too-many-items');
}

/** Whether a media type is accepted: exact (`application/pdf`) or a family (`image/*`). */
export function acceptsMime(allowed: string[], mime: string): boolean {
  const m = mime.trim().toLowerCase();
  return allowed.some((a) => (a.endsWith('/*') ? m.startsWith(a.slice(0, -1)) && m.length > a.length - 1 : a === m));
}

function checkFiles(f: Field, picked: PickedFile[], errors: FieldError[]): void {
  const path = `files.${f.id}`;
  const rules = f.file;
  if (!picked.length) {
    if (f.required) err(errors, path, 'required');
    return;
  }
  if (!rules) return;
  if (picked.length > (rules.max_files ?? 1)) return err(errors, path, 'too-many-files');
  for (const p of picked) {
    if (p.size === 0) return err(errors, path, 'file-empty', p.name);
    if (p.size > rules.max_bytes) return err(errors, path, 'file-too-large', p.name);
    // The browser's guess from the name; the server reads the bytes. An unknown type is left
    // to the server rather than refused here.
    if (p.type && !acceptsMime(rules.mime, p.type)) return err(errors, path, 'file-type-not-allowed', p.name);
  }
}
