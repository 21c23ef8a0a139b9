// The form definition of a démarche as `GET /api/v1/catalogue/{code}` gives it (`form`), the
// types of shared/src/forms/definition.rs on the wire. Pure: no DOM.

export type Kind =
  | 'text'
  | 'long_text'
  | 'email'
  | 'phone'
  | 'integer'
  | 'decimal'
  | 'date'
  | 'datetime'
  | 'boolean'
  | 'choice'
  | 'multi_choice'
  | 'file'
  | 'address'
  | 'geo_point'
  | 'block';

export const KINDS: readonly Kind[] = [
  'text', 'long_text', 'email', 'phone', 'integer', 'decimal', 'date', 'datetime',
  'boolean', 'choice', 'multi_choice', 'file', 'address', 'geo_point', 'block',
];

/** A number, a date `YYYY-MM-DD`, or `today`, `today+N`, `today-N` (days), `today±Ny` (years). */
export type Bound = number | string;

export interface Rules {
  min_length?: number;
  max_length?: number;
  min?: Bound;
  max?: Bound;
  pattern?: string;
}

/** `equals`, `in` or `filled`: exactly one. */
export interface Condition {
  field: string;
  equals?: unknown;
  in?: unknown[];
  filled?: boolean;
}

export interface Choice {
  value: string;
  label: string;
  label_en: string;
}

export interface FileRules {
  max_bytes: number;
  mime: string[];
  max_files?: number;
}

export interface Field {
  id: string;
  kind: Kind;
  label: string;
  label_en: string;
  hint?: string | null;
  hint_en?: string | null;
  required?: boolean;
  personal?: boolean;
  when?: Condition | null;
  validation?: Rules | null;
  options?: Choice[];
  file?: FileRules | null;
  fields?: Field[];
  min_items?: number | null;
  max_items?: number | null;
}

export interface FormDefinition {
  fields: Field[];
}

/** Defaults of the server (shared/src/forms/mod.rs). */
export const DEFAULT_TEXT_MAX_CHARS = 300;
export const DEFAULT_LONG_TEXT_MAX_CHARS = 5000;
export const DEFAULT_MAX_ITEMS = 50;
export const MAX_EMAIL_CHARS = 254;
export const MAX_CITY_CHARS = 100;

export function maxLength(f: Field): number {
  return f.validation?.max_length ?? (f.kind === 'long_text' ? DEFAULT_LONG_TEXT_MAX_CHARS : DEFAULT_TEXT_MAX_CHARS);
}

export function maxItems(f: Field): number {
  if (f.kind === 'multi_choice') return Math.min(f.max_items ?? (f.options ?? []).length, (f.options ?? []).length);
  return f.max_items ?? DEFAULT_MAX_ITEMS;
}

/** A value counts as given unless it is null, blank, an empty array or an empty object. */
export function isGiven(v: unknown): boolean {
  if (v === null || v === undefined) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.values(v as object).some(isGiven);
  return true;
}

/** Whether a field is asked, given the value of the sibling its condition tests. */
export function conditionHolds(c: Condition, value: unknown): boolean {
  const given = isGiven(value);
  const matches = (wanted: unknown): boolean =>
    given && (value === wanted || (Array.isArray(value) && value.includes(wanted)));
  if (c.filled !== undefined && c.filled !== null) return given === c.filled;
  if (c.in) return c.in.some(matches);
  return matches(c.equals);
}

/** The day a `Bound` names on `today` (`YYYY-MM-DD`), or null for a number or a broken bound. */
export function boundDate(b: Bound | undefined, today: string): string | null {
  if (b === undefined || typeof b === 'number') return null;
  if (/^\d{4}-\d{2}-\d{2}$/.test(b)) return b;
  const m = /^today(?:([+-])(\d{1,5})([dy]?))?$/.exec(b);
  if (!m) return null;
  const [y, mo, d] = today.split('-').map(Number);
  const n = m[1] ? (m[1] === '-' ? -1 : 1) * Number(m[2]) : 0;
  let date: Date;
  if (m[3] === 'y') {
    date = new Date(Date.UTC(y + n, mo - 1, d));
    // 29 February of a year that has none: the 28th, as the server says.
    if (date.getUTCMonth() !== mo - 1) date = new Date(Date.UTC(y + n, mo - 1, d - 1));
  } else {
    date = new Date(Date.UTC(y, mo - 1, d + n));
  }
  return date.toISOString().slice(0, 10);
}

/** Today in the server's calendar sense: the local day of the browser. */
export function todayIso(now = new Date()): string {
  const p = (x: number) => String(x).padStart(2, '0');
  return `${now.getFullYear()}-${p(now.getMonth() + 1)}-${p(now.getDate())}`;
}
