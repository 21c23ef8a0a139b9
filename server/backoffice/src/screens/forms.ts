// Small form helpers for the administration screens: a labelled field with its hint and its
// error tied by aria-describedby, and the server's field errors (`errors[].field`) shown at
// their fields with a focused summary linking to them.
import { h, replace } from '@guichet/web/dom';
import * as api from '../api';
import { t } from '../i18n';

export interface FieldBox {
  el: HTMLElement;
  control: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;
  error: HTMLElement;
}

export function labelled(id: string, label: string, control: FieldBox['control'], hint?: string): FieldBox {
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  control.setAttribute('aria-describedby', [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' '));
  return { el: h('div', { class: 'form-field' }, h('label', { for: id }, label), hintEl, control, error), control, error };
}

export function errorText(e: unknown): string {
  if (e instanceof api.ApiError) return e.status === 401 ? t('error.unauthenticated') : t('error.generic', { message: e.message });
  return t('error.network');
}

/**
 * Shows an error: each field error at the field its path starts with (`teams[1]` → `teams`),
 * the rest in the summary, which takes the focus.
 */
export function showErrors(summary: HTMLElement, fields: Record<string, FieldBox>, e: unknown): void {
  for (const f of Object.values(fields)) {
    f.error.hidden = true;
    f.control.removeAttribute('aria-invalid');
  }
  const items: HTMLElement[] = [];
  const list = e instanceof api.ApiError ? (e.errors.length ? e.errors : e.field ? [{ field: e.field, code: e.code, message: e.message }] : []) : [];
  for (const fe of list) {
    const key = Object.keys(fields).find((k) => fe.field === k || fe.field.startsWith(`${k}[`) || fe.field.startsWith(`${k}.`));
    const text = `${fe.message}${fe.code ? ` (${fe.code})` : ''}`;
    if (key) {
      const f = fields[key];
      f.error.textContent = text;
      f.error.hidden = false;
      f.control.setAttribute('aria-invalid', 'true');
      items.push(h('li', null, h('a', { href: `#${f.control.id}` }, `${fe.field} : ${text}`)));
    } else items.push(h('li', null, `${fe.field} : ${text}`));
  }
  replace(summary, h('h2', null, t('form.errors')), h('p', null, errorText(e)), items.length ? h('ul', null, items) : null);
  summary.hidden = false;
  summary.focus();
}

export function clearErrors(summary: HTMLElement, fields: Record<string, FieldBox>): void {
  summary.hidden = true;
  for (const f of Object.values(fields)) {
    f.error.hidden = true;
    f.control.removeAttribute('aria-invalid');
  }
}

export function errorSummary(id: string): HTMLElement {
  const el = h('div', { class: 'form-errors', id, tabindex: '-1', role: 'alert', hidden: true });
  el.addEventListener('click', (ev) => {
    const a = (ev.target as Element).closest('a[href^="#"]');
    if (!a) return;
    ev.preventDefault();
    document.getElementById(a.getAttribute('href')!.slice(1))?.focus();
  });
  return el;
}

/** A section with an h2, for the screens' blocks. */
export function block(id: string, heading: string, ...children: (Node | null)[]): HTMLElement {
  return h('section', { class: 'card', 'aria-labelledby': `${id}-h` }, h('h2', { id: `${id}-h` }, heading), children);
}

export function screenTitle(title: string): HTMLElement {
  return h('h1', { id: 'screen-title', tabindex: '-1' }, title);
}
