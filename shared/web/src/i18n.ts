// The language of both web apps and the formatting that follows it. French first, English
// available: the language is the one saved by a toggle, else the first of navigator.languages
// that we have, else French. Each app (and each shared module) keeps its own messages and gets
// a `t` for them from `translator`, so a dictionary lives beside the code that uses it.

export type Lang = 'fr' | 'en';
export type Vars = Record<string, string | number>;

const STORAGE_KEY = 'guichet.lang';

function initialLang(): Lang {
  try {
    const saved = globalThis.localStorage?.getItem(STORAGE_KEY);
    if (saved === 'fr' || saved === 'en') return saved;
  } catch {
    /* storage may be disabled */
  }
  const nav = globalThis.navigator;
  const prefs = nav?.languages?.length ? nav.languages : [nav?.language ?? 'fr'];
  for (const p of prefs) {
    const base = (p || '').toLowerCase().split('-')[0];
    if (base === 'fr' || base === 'en') return base;
  }
  return 'fr';
}

let current: Lang = initialLang();

export function lang(): Lang {
  return current;
}

/** Sets the language, remembers it on this device, and says it on `<html lang>`. */
export function setLang(l: Lang): void {
  current = l;
  try {
    globalThis.localStorage?.setItem(STORAGE_KEY, l);
  } catch {
    /* ignore */
  }
  if (globalThis.document) document.documentElement.lang = l;
}

/** Fills `{name}` placeholders; an unknown one is left as it is, so a missing var shows. */
export function fill(s: string, vars: Vars = {}): string {
  return s.replace(/\{(\w+)\}/g, (_, k: string) => (k in vars ? String(vars[k]) : `{${k}}`));
}

/**
 * A `t` for one dictionary: the English one must have every French key (the type says so),
 * and a key missing at run time falls back to French, then to the key itself.
 */
export function translator<K extends string>(fr: Record<K, string>, en: Record<K, string>): (key: K, vars?: Vars) => string {
  const dicts: Record<Lang, Record<K, string>> = { fr, en };
  return (key, vars = {}) => fill(dicts[current][key] ?? fr[key] ?? key, vars);
}

/** The text of the current language among two (labels of the catalogue: `label`, `label_en`). */
export function pick(frText: string, enText: string | null | undefined): string {
  return current === 'en' && enText ? enText : frText;
}

export function locale(): string {
  return current === 'en' ? 'en-GB' : 'fr-FR';
}

export function formatNumber(n: number, digits = 0): string {
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits, minimumFractionDigits: digits }).format(n);
}

export function formatDistance(m: number): string {
  if (m < 1000) return `${formatNumber(Math.round(m))} m`;
  return `${formatNumber(m / 1000, 1)} km`;
}

export function formatAge(iso: string, now = Date.now()): string {
  const then = Date.parse(iso);
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto' });
  const s = Math.round((then - now) / 1000);
  const abs = Math.abs(s);
  if (abs < 60) return current === 'en' ? 'just now' : 'à l’instant';
  if (abs < 3600) return rtf.format(Math.round(s / 60), 'minute');
  if (abs < 86400) return rtf.format(Math.round(s / 3600), 'hour');
  if (abs < 86400 * 60) return rtf.format(Math.round(s / 86400), 'day');
  return rtf.format(Math.round(s / (86400 * 30)), 'month');
}

export function formatDateTime(iso: string | number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium', timeStyle: 'short' }).format(new Date(iso));
}

export function formatDate(iso: string | number): string {
  return new Intl.DateTimeFormat(locale(), { dateStyle: 'medium' }).format(new Date(iso));
}

export function formatTime(ms: number): string {
  return new Intl.DateTimeFormat(locale(), { timeStyle: 'short' }).format(new Date(ms));
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${formatNumber(n)} ${current === 'en' ? 'B' : 'o'}`;
  if (n < 1024 * 1024) return `${formatNumber(n / 1024, 0)} ${current === 'en' ? 'KB' : 'ko'}`;
  return `${formatNumber(n / (1024 * 1024), 1)} ${current === 'en' ? 'MB' : 'Mo'}`;
}
