// The démarches (admins): the catalogue, and one démarche's editor. The form's fields are
// edited in a form (labels in French and English, hints, required, options, order, block
// sub-fields alike); the rest of the stored entry (`GET /admin/demarches/{code}`) is JSON,
// parsed before anything is sent. Saving is
// `PUT /admin/demarches/{code}` with the whole entry, which makes a new revision; the server's
// errors are shown at the field their path names (`form.fields[2].options`…) and in a summary.
import { announce, h, replace } from '@guichet/web/dom';
import type { Field } from '@guichet/web/forms/definition';
import * as api from '../api';
import { href, type Screen } from '../app';
import { formatDateTime, formatNumber, t } from '../i18n';
import { editableEntry, optionLines, parseOptionLines } from '../demarche-entry';
import { adminNav } from './admin';
import { block, errorText, screenTitle } from './forms';

export function demarchesScreen(): Screen {
  const title = t('admin.demarches');
  const listBox = h('div', null, h('p', { class: 'status', role: 'status' }, t('queue.loading')));
  api.catalogue().then((cat) => {
    replace(listBox, h('div', { class: 'table-wrap' }, h('table', { class: 'requests', id: 'demarches' },
      h('caption', null, t('admin.dem.caption', { n: cat.length })),
      h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('admin.dem.code')), h('th', { scope: 'col' }, t('admin.dem.title')), h('th', { scope: 'col' }, t('admin.dem.group')), h('th', { scope: 'col' }, t('admin.dem.channels')))),
      h('tbody', null, cat.map((d) => h('tr', null,
        h('td', null, h('a', { href: href(`admin/demarches/${encodeURIComponent(d.code)}`), 'data-nav': '' }, d.code)),
        h('td', null, d.title), h('td', null, d.group), h('td', null, d.channels.join(', '))))))));
  }, (e) => replace(listBox, h('p', { class: 'error', role: 'alert' }, errorText(e))));
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('admin/demarches'), block('dem-list', t('admin.dem.list'), listBox)),
  };
}

type Editable = Field & Record<string, unknown>;

export function demarcheEditor(code: string): Screen {
  const title = t('admin.dem.edit', { code });
  const body = h('div', null, h('p', { class: 'status', role: 'status' }, t('queue.loading')));
  const summary = h('div', { class: 'form-errors', id: 'dem-errors', tabindex: '-1', role: 'alert', hidden: true });
  const result = h('p', { class: 'action-result', id: 'dem-result', tabindex: '-1', hidden: true });
  const fieldsBox = h('div', { id: 'dem-fields' });
  const restArea = h('textarea', { id: 'dem-rest', rows: 18, spellcheck: 'false', class: 'code', 'aria-describedby': 'dem-rest-hint dem-rest-error', 'data-path': '' });
  const restError = h('p', { class: 'field-error', id: 'dem-rest-error', hidden: true });
  const revBox = h('div', { id: 'dem-revisions' });
  let fields: Editable[] = [];
  /** What the stored form holds besides its fields, sent back as it was. */
  let formRest: Record<string, unknown> = {};
  /** A field's dotted id path (`block.sub`) → the prefix of its inputs' ids. */
  const prefixOf = new Map<string, string>();

  summary.addEventListener('click', (ev) => {
    const a = (ev.target as Element).closest('a[href^="#"]');
    if (!a) return;
    ev.preventDefault();
    document.getElementById(a.getAttribute('href')!.slice(1))?.focus();
  });

  /** Reads the inputs back into `fields` (before a move or a save). */
  function collect(list: Editable[], prefix: string): void {
    list.forEach((f, i) => {
      const id = `${prefix}-${i}`;
      const v = (k: string) => (document.getElementById(`${id}-${k}`) as HTMLInputElement | HTMLTextAreaElement | null)?.value ?? '';
      f.label = v('label');
      f.label_en = v('label_en');
      f.hint = v('hint').trim() || null;
      f.hint_en = v('hint_en').trim() || null;
      f.required = (document.getElementById(`${id}-required`) as HTMLInputElement | null)?.checked ?? false;
      if (f.kind === 'choice' || f.kind === 'multi_choice') f.options = parseOptions(v('options'), `${id}-options`);
      if (f.fields) collect(f.fields as Editable[], id);
    });
  }

  function parseOptions(text: string, inputId: string): Field['options'] {
    const r = parseOptionLines(text);
    if ('badLine' in r) throw new EditError(inputId, t('admin.dem.options.invalid', { n: r.badLine }));
    return r.options;
  }

  function renderFields(list: Editable[], prefix: string, path: string, depth: number, idPath = ''): HTMLElement {
    return h('ol', { class: 'field-list' }, list.map((f, i) => {
      const id = `${prefix}-${i}`;
      const p = `${path}[${i}]`;
      prefixOf.set(`${idPath}${f.id}`, id);
      const text = (k: string, label: string, value: string | null | undefined, area = false) => {
        const ctl = area
          ? h('textarea', { id: `${id}-${k}`, rows: 4, 'data-path': `${p}.${k}`, 'aria-describedby': `${id}-${k}-error` + (k === 'options' ? ` ${id}-options-hint` : '') }, value ?? '')
          : h('input', { type: 'text', id: `${id}-${k}`, value: value ?? '', 'data-path': `${p}.${k}`, 'aria-describedby': `${id}-${k}-error` });
        return h('div', { class: 'form-field' }, h('label', { for: `${id}-${k}` }, label),
          k === 'options' ? h('p', { class: 'hint', id: `${id}-options-hint` }, t('admin.dem.options.hint')) : null,
          ctl, h('p', { class: 'field-error', id: `${id}-${k}-error`, hidden: true }));
      };
      const up = h('button', { type: 'button', class: 'secondary', id: `${id}-up`, disabled: i === 0, 'aria-label': t('admin.dem.up', { id: f.id }) }, '↑');
      const down = h('button', { type: 'button', class: 'secondary', id: `${id}-down`, disabled: i === list.length - 1, 'aria-label': t('admin.dem.down', { id: f.id }) }, '↓');
      const move = (d: number, focusId: string) => {
        try {
          collect(fields, 'f');
        } catch (e) {
          showLocal(e);
          return;
        }
        const [x] = list.splice(i, 1);
        list.splice(i + d, 0, x);
        redraw();
        const target = document.getElementById(focusId) as HTMLButtonElement | null;
        (target && !target.disabled ? target : document.getElementById(`${prefix}-${i + d}-label`))?.focus();
        announce(t('admin.dem.moved', { id: f.id, n: i + d + 1 }));
      };
      up.addEventListener('click', () => move(-1, `${prefix}-${i - 1}-up`));
      down.addEventListener('click', () => move(1, `${prefix}-${i + 1}-down`));
      const choice = f.kind === 'choice' || f.kind === 'multi_choice';
      return h('li', null, h('fieldset', { class: 'field-edit', id: `${id}-box` },
        h('legend', null, t('admin.dem.field', { id: f.id, kind: f.kind })),
        h('div', { class: 'buttons tight' }, up, down),
        h('div', { class: 'filter-grid' },
          text('label', t('admin.dem.label'), f.label),
          text('label_en', t('admin.dem.label_en'), f.label_en),
          text('hint', t('admin.dem.hint'), f.hint),
          text('hint_en', t('admin.dem.hint_en'), f.hint_en as string | null | undefined)),
        h('div', { class: 'check' }, h('input', { type: 'checkbox', id: `${id}-required`, checked: !!f.required, 'data-path': `${p}.required` }), h('label', { for: `${id}-required` }, t('admin.dem.required'))),
        choice ? text('options', t('admin.dem.options'), optionLines(f.options), true) : null,
        f.fields && depth < 3 ? h('div', { class: 'sub-fields' }, h('p', null, t('admin.dem.subfields')), renderFields(f.fields as Editable[], id, `${p}.fields`, depth + 1, `${idPath}${f.id}.`)) : null));
    }));
  }

  function redraw(): void {
    prefixOf.clear();
    replace(fieldsBox, renderFields(fields, 'f', 'form.fields', 0));
  }

  function clearMarks(): void {
    summary.hidden = true;
    for (const el of body.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    for (const el of body.querySelectorAll<HTMLElement>('.field-error')) el.hidden = true;
  }

  function mark(inputId: string, message: string): HTMLElement | null {
    const input = document.getElementById(inputId);
    const err = document.getElementById(`${inputId}-error`);
    if (!input) return null;
    input.setAttribute('aria-invalid', 'true');
    if (err) {
      err.textContent = message;
      err.hidden = false;
    }
    return input;
  }

  function showSummary(items: { text: string; target: string | null }[], lead: string): void {
    replace(summary, h('h2', null, t('form.errors')), h('p', null, lead),
      h('ul', null, items.map((x) => h('li', null, x.target ? h('a', { href: `#${x.target}` }, x.text) : x.text))));
    summary.hidden = false;
    summary.focus();
  }

  function showLocal(e: unknown): void {
    if (!(e instanceof EditError)) throw e;
    clearMarks();
    mark(e.inputId, e.message);
    showSummary([{ text: e.message, target: e.inputId }], t('admin.dem.notSent'));
  }

  /** The server's errors: at the input whose path is the longest prefix of the error's. */
  function showServer(e: unknown): void {
    clearMarks();
    const list = e instanceof api.ApiError ? (e.errors.length ? e.errors : e.field ? [{ field: e.field, code: e.code, message: e.message }] : []) : [];
    const inputs = [...body.querySelectorAll<HTMLElement>('[data-path]')];
    // The form's problems come as one `form` error, "<code>: id: problem; other.id: problem".
    const split = list.flatMap((fe) => {
      if (fe.field !== 'form') return [fe];
      const msg = fe.message.startsWith(`${code}: `) ? fe.message.slice(code.length + 2) : fe.message;
      return msg.split('; ').map((m) => ({ ...fe, message: m }));
    });
    const items = split.map((fe) => {
      const named = fe.field === 'form' ? /^([a-z][a-z0-9_.]*): (.*)$/.exec(fe.message) : null;
      const prefix = named ? prefixOf.get(named[1]) : undefined;
      if (prefix) {
        const what = /option/i.test(named![2]) && document.getElementById(`${prefix}-options`) ? 'options' : /hint/i.test(named![2]) ? 'hint' : 'label';
        const targetId = `${prefix}-${what}`;
        const text = `${named![1]} : ${named![2]}${fe.code ? ` (${fe.code})` : ''}`;
        mark(targetId, text);
        return { text, target: targetId };
      }
      let best: HTMLElement | null = null;
      for (const el of inputs) {
        const p = el.dataset.path!;
        if (p && (fe.field === p || fe.field.startsWith(`${p}.`) || fe.field.startsWith(`${p}[`)) && (!best || p.length > best.dataset.path!.length)) best = el;
      }
      // Not a field of the form editor: the JSON of the rest.
      const target = best ?? restArea;
      const text = `${fe.field} : ${fe.message}${fe.code ? ` (${fe.code})` : ''}`;
      mark(target.id, text);
      return { text, target: target.id };
    });
    showSummary(items, errorText(e));
  }

  async function load(focusResult?: string): Promise<void> {
    try {
      const [stored, rules, revs] = await Promise.all([api.demarcheEntry(code), api.routingRules().catch(() => []), api.revisions(code).catch(() => [])]);
      const team = rules.find((r) => r.demarche === code && !r.zone)?.team ?? null;
      const editable = editableEntry(stored, team);
      fields = structuredClone(editable.fields as Editable[]);
      formRest = editable.form;
      restArea.value = JSON.stringify(editable.rest, null, 2);
      redraw();
      replace(revBox, h('div', { class: 'table-wrap' }, h('table', { class: 'requests', id: 'revisions' },
        h('caption', null, t('admin.dem.revisions')),
        h('thead', null, h('tr', null, h('th', { scope: 'col' }, t('admin.dem.revision')), h('th', { scope: 'col' }, t('admin.dem.title')), h('th', { scope: 'col' }, t('admin.dem.date')), h('th', { scope: 'col' }, t('admin.dem.requests')))),
        h('tbody', null, (revs as { revision: number; title: string; created_at: string; requests: number }[]).map((r) => h('tr', null,
          h('td', null, String(r.revision)), h('td', null, r.title), h('td', null, formatDateTime(r.created_at)), h('td', null, formatNumber(r.requests))))))));
      replace(body, form);
      if (focusResult) {
        result.textContent = focusResult;
        result.hidden = false;
        result.focus();
      }
    } catch (e) {
      replace(body, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }

  const save = h('button', { type: 'submit', id: 'dem-save' }, t('admin.dem.save'));
  const form = h('form', { id: 'dem-form', novalidate: true }, summary, result,
    h('section', { class: 'card', 'aria-labelledby': 'dem-fields-h' }, h('h2', { id: 'dem-fields-h' }, t('admin.dem.fields')), fieldsBox),
    h('section', { class: 'card', 'aria-labelledby': 'dem-rest-h' }, h('h2', { id: 'dem-rest-h' }, t('admin.dem.rest')),
      h('div', { class: 'form-field' }, h('label', { for: 'dem-rest' }, t('admin.dem.rest.label')), h('p', { class: 'hint', id: 'dem-rest-hint' }, t('admin.dem.rest.hint')), restArea, restError)),
    h('div', { class: 'buttons' }, save),
    h('section', { class: 'card', 'aria-labelledby': 'dem-rev-h' }, h('h2', { id: 'dem-rev-h' }, t('admin.dem.revisions')), revBox));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearMarks();
    result.hidden = true;
    let entry: Record<string, unknown>;
    try {
      collect(fields, 'f');
      let rest: unknown;
      try {
        rest = JSON.parse(restArea.value);
      } catch (err) {
        throw new EditError('dem-rest', t('admin.dem.json.invalid', { message: (err as Error).message }));
      }
      if (!rest || typeof rest !== 'object' || Array.isArray(rest)) throw new EditError('dem-rest', t('admin.dem.json.object'));
      entry = { ...(rest as Record<string, unknown>), form: { ...formRest, fields } };
    } catch (err) {
      showLocal(err);
      return;
    }
    save.disabled = true;
    try {
      const r = await api.saveDemarche(code, entry);
      await load(r.changed ? t('admin.dem.saved', { n: r.revision }) : t('admin.dem.unchanged', { n: r.revision }));
    } catch (err) {
      showServer(err);
    } finally {
      save.disabled = false;
    }
  });

  void load();
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('admin/demarches'),
      h('p', null, h('a', { href: href('admin/demarches'), 'data-nav': '' }, t('admin.dem.back'))), body),
  };
}

class EditError extends Error {
  constructor(public inputId: string, message: string) {
    super(message);
  }
}
