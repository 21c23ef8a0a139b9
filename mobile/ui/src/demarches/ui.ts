// Small pieces the démarche and account screens share: the focused title, a labelled input
// whose error is tied to it and announced, and a status line for what an action did.
import { announce, h } from '@guichet/web/dom';

export function heading(text: string): HTMLHeadingElement {
  return h('h1', { id: 'screen-title', tabindex: '-1' }, text);
}

export interface TextField {
  row: HTMLElement;
  input: HTMLInputElement;
  /** Shows (or clears, with null) the field's error; focuses the field when shown. */
  error(msg: string | null): void;
}

export function textField(id: string, label: string, attrs: Record<string, unknown> = {}, hint?: string): TextField {
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errorEl = h('p', { class: 'error', id: `${id}-error`, hidden: true });
  const input = h('input', {
    id, name: id, type: 'text', ...attrs,
    'aria-describedby': [hintEl ? `${id}-hint` : null, `${id}-error`].filter(Boolean).join(' '),
  });
  const row = h('div', { class: 'field' }, h('label', { for: id }, label), hintEl, input, errorEl);
  return {
    row,
    input,
    error(msg) {
      errorEl.hidden = !msg;
      errorEl.textContent = msg ?? '';
      if (msg) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      } else {
        input.removeAttribute('aria-invalid');
      }
    },
  };
}

/** A line that says what happened (role=status, or alert for failures), and the live region too. */
export function statusLine(id: string): { el: HTMLElement; say(msg: string, failure?: boolean): void; clear(): void } {
  const el = h('p', { id, hidden: true });
  return {
    el,
    say(msg, failure = false) {
      el.hidden = false;
      el.className = failure ? 'error' : 'done';
      el.setAttribute('role', failure ? 'alert' : 'status');
      el.textContent = msg;
      if (!failure) announce(msg);
    },
    clear() {
      el.hidden = true;
      el.textContent = '';
    },
  };
}
