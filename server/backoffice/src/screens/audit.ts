// The audit trail (admins): who read people's data or acted, when, on what and from where,
// newest first, with filters that stay in the address and a CSV export of the same view.
import { h, replace } from '@guichet/web/dom';
import * as api from '../api';
import { href, navigate, type Screen } from '../app';
import { formatDateTime, t } from '../i18n';
import { adminNav } from './admin';
import { block, errorText, labelled, screenTitle } from './forms';

const KINDS: api.TraceKind[] = ['read', 'action', 'security'];
const FILTERS = ['kind', 'target', 'from', 'to'] as const;

export function auditScreen(view: URLSearchParams): Screen {
  const title = t('audit.title');
  const kind = labelled('audit-kind', t('audit.kind'), h('select', null,
    h('option', { value: '' }, t('audit.kind.any')),
    KINDS.map((k) => h('option', { value: k, selected: view.get('kind') === k }, t(`audit.kind.${k}`)))));
  const target = labelled('audit-target', t('audit.target'), h('input', { type: 'text', value: view.get('target') ?? '', autocomplete: 'off' }), t('audit.target.hint'));
  const from = labelled('audit-from', t('audit.from'), h('input', { type: 'date', value: view.get('from') ?? '' }));
  const to = labelled('audit-to', t('audit.to'), h('input', { type: 'date', value: view.get('to') ?? '' }));
  const form = h('form', { id: 'audit-filters', class: 'filters' }, kind.el, target.el, from.el, to.el,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('audit.apply'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    const values = { kind: kind.control.value, target: target.control.value.trim(), from: from.control.value, to: to.control.value };
    for (const name of FILTERS) if (values[name]) q.set(name, values[name]);
    navigate(`admin/audit${q.size ? `?${q}` : ''}`, { focus: 'audit-list-h' });
  });

  const filters = new URLSearchParams();
  for (const name of FILTERS) {
    const v = view.get(name);
    if (v) filters.set(name, v);
  }
  const exportLink = h('a', { href: api.auditExportUrl(filters), download: '', class: 'button secondary', id: 'audit-export' }, t('audit.export'));
  const body = h('tbody');
  const more = h('button', { type: 'button', class: 'secondary', id: 'audit-more', hidden: true }, t('audit.more'));
  const state = h('p', { class: 'status', id: 'audit-status', role: 'status' }, t('queue.loading'));
  const tableEl = h('div', { class: 'table-wrap' }, h('table', { class: 'requests', id: 'audit' },
    h('caption', { class: 'visually-hidden' }, t('audit.caption')),
    h('thead', null, h('tr', null, [t('audit.at'), t('audit.actor'), t('audit.kind'), t('audit.action'), t('audit.target'), t('audit.detail'), t('audit.status'), t('audit.ip')]
      .map((c) => h('th', { scope: 'col' }, c)))),
    body));
  let before: number | null = null;
  let shown = 0;

  async function load(): Promise<void> {
    const q = new URLSearchParams(filters);
    if (before !== null) q.set('before', String(before));
    try {
      const page = await api.audit(q);
      if (shown === 0 && page.items.length === 0) {
        replace(body, h('tr', null, h('td', { colspan: 8 }, t('audit.none'))));
      }
      for (const tr of page.items) {
        body.append(h('tr', null,
          h('td', null, h('time', { datetime: tr.at }, formatDateTime(tr.at))),
          h('td', { class: 'wrap' }, tr.actor),
          h('td', null, t(`audit.kind.${tr.kind}`)),
          h('td', { class: 'wrap' }, h('code', null, tr.action)),
          h('td', null, tr.target && /^\d{4}-[A-Z]+-\d+$/.test(tr.target) ? h('a', { href: href(`requests/${encodeURIComponent(tr.target)}`), 'data-nav': '' }, tr.target) : (tr.target ?? '—')),
          h('td', { class: 'wrap' }, tr.detail ?? '—'),
          h('td', null, tr.status === null ? '—' : String(tr.status)),
          h('td', null, tr.ip ?? '—')));
      }
      shown += page.items.length;
      before = page.next_before;
      more.hidden = before === null;
      state.textContent = t('audit.count', { n: shown });
    } catch (e) {
      state.textContent = '';
      replace(body, h('tr', null, h('td', { colspan: 8, class: 'error', role: 'alert' }, errorText(e))));
    }
  }
  more.addEventListener('click', () => void load());
  void load();
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('admin/audit'),
      h('p', null, t('audit.intro')),
      block('audit-filter', t('audit.filters'), form),
      block('audit-list', t('audit.list'), h('div', { class: 'buttons' }, exportLink), state, tableEl, h('div', { class: 'buttons' }, more))),
  };
}
