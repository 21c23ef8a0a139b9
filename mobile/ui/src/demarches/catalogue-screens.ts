// The catalogue (by group, and a search) and a démarche's page: what it is for, who may file,
// what to prepare (derived from its form), the expected delay, the privacy notice, and the
// way into its form.
import { announce, h, replace } from '@guichet/web/dom';
import { formatBytes, formatNumber, pick } from '@guichet/web/i18n';
import { ApiError, type Demarche, type DemarcheDefinition, type PrivacyNotice } from '../api';
import { session } from '../account';
import { t as appT } from '../i18n';
import { insideTauri } from '../platform';
import type { Navigate, Screen } from '../screens';
import { draft as reportDraft } from '../state';
import { cachedCatalogue, loadCatalogue, loadDefinition } from './catalogue';
import { readDraft } from './drafts';
import { toPrepare, typeNames } from './facts';
import { t } from './i18n';
import { byGroup, search } from './search';
import { heading } from './ui';

/** The channel this app files with; démarches that offer neither are not listed. */
export function channel(): 'app' | 'web' {
  return insideTauri() ? 'app' : 'web';
}

function offered(d: Demarche): boolean {
  return !d.channels || d.channels.includes(channel()) || d.channels.includes('web');
}

/** Incident categories are filed by the report flow, with the position and photos. */
export function isIncident(d: Pick<Demarche, 'geolocated' | 'group_code'>): boolean {
  return d.geolocated && d.group_code === 'signalement';
}

/**
 * The catalogue as this language shows it (and searches it): titles, groups and descriptions
 * in English when asked.
 */
function shown(list: Demarche[]): Demarche[] {
  return list.map((d) => ({
    ...d,
    title: pick(d.title, d.title_en),
    group: pick(d.group, d.group_en),
    description: descriptionOf(d),
  }));
}

function demarcheLink(d: Demarche): HTMLElement {
  return h('li', null,
    h('a', { href: `#/demarche/${encodeURIComponent(d.code)}`, class: 'demarche-link', 'data-code': d.code },
      h('span', { class: 'demarche-title' }, d.title),
      d.auth === 'account' ? h('span', { class: 'tag' }, t('cat.account')) : null,
    ),
  );
}

export function catalogueScreen(): Screen {
  const list = h('div', { id: 'catalogue' });
  const note = h('p', { class: 'muted', id: 'catalogue-note' }, t('cat.loading'));
  const count = h('p', { id: 'search-count', role: 'status', class: 'muted' });
  const input = h('input', {
    id: 'search', name: 'q', type: 'search', autocomplete: 'off',
    'aria-describedby': 'search-hint search-count', 'aria-controls': 'catalogue',
  });
  let all: Demarche[] = shown((cachedCatalogue() ?? []).filter(offered));
  let alive = true;

  const render = () => {
    const q = input.value.trim();
    if (!q) {
      count.textContent = '';
      replace(list, byGroup(all).map((g) =>
        h('section', { class: 'group', 'aria-labelledby': `group-${g.code}` },
          h('h2', { id: `group-${g.code}` }, g.title),
          h('ul', { class: 'demarches', role: 'list' }, g.items.map(demarcheLink)))));
      return;
    }
    const found = search(all, q);
    count.textContent = found.length === 0 ? t('cat.results.none', { q }) : found.length === 1 ? t('cat.results.one') : t('cat.results.many', { n: formatNumber(found.length) });
    replace(list, found.length
      ? h('section', { 'aria-labelledby': 'results-title' },
        h('h2', { id: 'results-title' }, t('cat.results.title')),
        h('ul', { class: 'demarches', role: 'list' }, found.map(demarcheLink)))
      : null);
  };
  input.addEventListener('input', render);

  if (all.length) {
    note.textContent = '';
    render();
  }
  loadCatalogue()
    .then((fresh) => {
      if (!alive) return;
      all = shown(fresh.filter(offered));
      note.textContent = '';
      render();
    })
    .catch(() => {
      if (alive) note.textContent = all.length ? t('cat.kept') : t('cat.offline');
    });

  const el = h('section', { class: 'screen', 'aria-labelledby': 'screen-title' },
    heading(t('cat.title')),
    h('p', null, t('cat.intro')),
    h('div', { class: 'field search' },
      h('label', { for: 'search' }, t('cat.search')),
      h('p', { class: 'hint', id: 'search-hint' }, t('cat.search.hint')),
      input,
      count,
    ),
    note,
    list,
  );
  return { title: t('cat.title'), el, cleanup: () => { alive = false; } };
}

/** Loads a definition into a screen's body, or says why it cannot. */
export function withDefinition(code: string, body: HTMLElement, show: (def: DemarcheDefinition) => void): () => void {
  let alive = true;
  replace(body, h('p', { role: 'status' }, t('page.loading')));
  loadDefinition(code)
    .then((def) => {
      if (alive) show(def);
    })
    .catch((e) => {
      if (!alive) return;
      const msg = e instanceof ApiError && e.status === 404 ? t('page.notFound') : t('page.unavailable', { error: e instanceof Error ? e.message : String(e) });
      replace(body, h('p', { class: 'error', role: 'alert' }, msg));
      announce(msg);
    });
  return () => { alive = false; };
}

export function titleOf(def: DemarcheDefinition): string {
  return pick(def.title, def.title_en);
}

/** What the démarche is for, in the language shown (French when it has no English). */
export function descriptionOf(d: Pick<Demarche, 'description' | 'description_en'>): string {
  return pick(d.description, d.description_en);
}

function prepareSection(def: DemarcheDefinition): HTMLElement {
  const p = toPrepare(def.form);
  const label = (x: { label: string; label_en: string }) => pick(x.label, x.label_en);
  const parts: HTMLElement[] = [];
  if (p.answers.length) {
    parts.push(h('p', null, t('page.prepare.answers')), h('ul', { id: 'prepare-answers' }, p.answers.map((a) =>
      h('li', null, label(a), a.items?.length ? ` (${t('page.prepare.items', { list: a.items.map(label).join(', ') })})` : ''))));
  }
  if (p.conditional.length) {
    parts.push(h('p', null, t('page.prepare.conditional', { list: p.conditional.map(label).join(', ') })));
  }
  if (p.files.length) {
    parts.push(h('p', null, t('page.prepare.files')), h('ul', { id: 'prepare-files' }, p.files.map((f) =>
      h('li', null, t('page.prepare.file', {
        label: label(f),
        types: typeNames(f.mime),
        size: formatBytes(f.max_bytes),
        count: f.max_files > 1 ? t('page.prepare.file.count', { n: f.max_files }) : '',
      }) + (f.required ? '' : t('page.prepare.file.optional'))))));
  }
  if (!parts.length) parts.push(h('p', null, t('page.prepare.none')));
  return h('section', { 'aria-labelledby': 'prepare-title' }, h('h2', { id: 'prepare-title' }, t('page.prepare')), parts);
}

function privacySection(def: DemarcheDefinition): HTMLElement {
  const n: PrivacyNotice = def.privacy ?? {};
  const text = (k: 'controller' | 'legal_basis' | 'recipients' | 'retention' | 'rights') => pick(n[k] ?? '', n[`${k}_en`]);
  const rows: [string, string][] = [
    [t('page.privacy.purpose'), t('page.privacy.purpose.text', { title: titleOf(def), description: descriptionOf(def) })],
    [t('page.privacy.controller'), text('controller')],
    [t('page.privacy.legal_basis'), text('legal_basis')],
    [t('page.privacy.recipients'), text('recipients')],
    [t('page.privacy.retention'), text('retention')],
    [t('page.privacy.rights'), text('rights')],
  ];
  return h('section', { 'aria-labelledby': 'privacy-title', id: 'privacy' },
    h('h2', { id: 'privacy-title' }, t('page.privacy')),
    h('dl', { class: 'facts privacy' }, rows.filter(([, v]) => v).map(([k, v]) => [h('dt', null, k), h('dd', null, v)])));
}

export function demarcheScreen(code: string, go: Navigate): Screen {
  const body = h('div');
  const title = heading(t('page.loading'));
  const el = h('section', { class: 'screen demarche-page', 'aria-labelledby': 'screen-title' }, title, body);
  const stop = withDefinition(code, body, (def) => {
    title.textContent = titleOf(def);
    document.title = `${titleOf(def)} — Guichet`;
    const s = session();
    const days = def.sla_days;
    const start = isIncident(def)
      ? h('button', {
        type: 'button', class: 'button primary', id: 'start',
        onclick: () => {
          reportDraft.category = { code: def.code, title: def.title };
          reportDraft.nearby = [];
          go('#/place');
        },
      }, t('page.report'))
      : h('a', { href: `#/demarche/${encodeURIComponent(code)}/form`, class: 'button primary', id: 'start' },
        readDraft(code) ? t('page.resume') : t('page.start'));
    replace(body,
      h('p', { class: 'muted' }, pick(def.group, def.group_en)),
      h('section', { 'aria-labelledby': 'what-title' }, h('h2', { id: 'what-title' }, t('page.what')), h('p', { id: 'what' }, descriptionOf(def))),
      h('section', { 'aria-labelledby': 'who-title' },
        h('h2', { id: 'who-title' }, t('page.who')),
        h('p', { id: 'who' }, def.auth === 'account' ? t('page.who.account') : t('page.who.anonymous')),
        def.auth === 'account' && s ? h('p', { class: 'muted' }, t('page.who.signedIn', { email: s.email })) : null),
      prepareSection(def),
      h('section', { 'aria-labelledby': 'delay-title' },
        h('h2', { id: 'delay-title' }, t('page.delay')),
        h('p', { id: 'delay' }, days ? (days === 1 ? t('page.delay.one') : t('page.delay.days', { n: formatNumber(days) })) : t('page.delay.none'))),
      privacySection(def),
      h('div', { class: 'actions sticky' }, h('a', { href: '#/demarches', class: 'button secondary' }, appT('back')), start),
    );
  });
  return { title: t('page.loading'), el, cleanup: stop };
}
