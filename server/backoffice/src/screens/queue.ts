// The queue of my teams (every API filter, kept in the URL; sort; counts per phase; "load
// more"; bulk assign and bulk status change with a result per item; live arrivals), the
// "for me" view and the phone desk's search results.
import { announce, h, replace } from '@guichet/web/dom';
import { communes } from '@guichet/web/geo';
import * as api from '../api';
import { href, navigate, session, type LiveEvent, type Screen } from '../app';
import { formatNumber, pick, t } from '../i18n';
import { apiParams, CHANNELS, PHASES, sortItems, sortOf, SORTS, viewQuery, type Sort } from '../queue-params';
import { RequestTable } from './table';

const PAGE = 50;

function errorMessage(e: unknown): string {
  if (e instanceof api.ApiError) return e.status === 401 ? t('error.unauthenticated') : t('error.generic', { message: e.message });
  return t('error.network');
}

/** j/k/x/a/r/Enter on a table. */
function tableKeys(table: RequestTable, onAssigned: (item: api.QueueItem) => void): (e: KeyboardEvent) => boolean {
  return (e) => {
    switch (e.key) {
      case 'j':
        table.move(1);
        return true;
      case 'k':
        table.move(-1);
        return true;
      case 'x':
        table.toggleCurrent();
        return true;
      case 'Enter': {
        const item = table.currentItem();
        if (!item || (e.target as HTMLElement).closest('a, button')) return false;
        navigate(`requests/${encodeURIComponent(item.number)}`);
        return true;
      }
      case 'a': {
        const item = table.currentItem();
        const me = session.me;
        if (!item || !me) return false;
        api.assign(item.number, { assignee_id: me.id }).then(
          () => {
            onAssigned({ ...item, assignee_id: me.id });
            announce(t('actions.assign.done'));
          },
          (err) => announce(errorMessage(err)),
        );
        return true;
      }
      case 'r': {
        const item = table.currentItem();
        if (!item) return false;
        navigate(`requests/${encodeURIComponent(item.number)}?focus=reply-text`);
        return true;
      }
      default:
        return false;
    }
  };
}

function field(label: string, control: HTMLElement, id: string): HTMLElement {
  control.id = id;
  return h('div', { class: 'form-field' }, h('label', { for: id }, label), control);
}

function select(name: string, value: string, options: [string, string][]): HTMLSelectElement {
  return h('select', { name }, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

/**
 * The queue's filters as a form; submitting goes to `path` with the view in the query string
 * (the queue and its map share it). Team and status choices grow from what the queue holds.
 */
export function filterForm(view: URLSearchParams, path: string, focusAfter: string): { form: HTMLFormElement; growChoices: (items: api.QueueItem[]) => void } {
  const sort = sortOf(view);
  const team = select('team', view.get('team') ?? '', [['', t('queue.team.all')], ...(view.get('team') ? [[view.get('team')!, view.get('team')!] as [string, string]] : [])]);
  const demarche = select('demarche', view.get('demarche') ?? '', [['', t('queue.demarche.all')]]);
  const statusSel = select('status', view.get('status') ?? '', [['', t('queue.status.all')], ...(view.get('status') ? [[view.get('status')!, view.get('status')!] as [string, string]] : [])]);
  const zone = select('zone', view.get('zone') ?? '', [['', t('queue.zone.all')], ...communes.map((c) => [`commune:${c.insee}`, c.name] as [string, string])]);
  const channel = select('channel', view.get('channel') ?? '', [['', t('queue.channel.all')], ...CHANNELS.map((c) => [c, t(`channel.${c}`)] as [string, string])]);
  const assignee = select('assignee', view.get('assignee') ?? '', [['', t('queue.assignee.all')], ['me', t('queue.assignee.me')], ['none', t('queue.assignee.none')]]);
  const sortSel = select('sort', sort, SORTS.map((s) => [s, t(`queue.sort.${s}`)] as [string, string]));
  const phases = new Set((view.get('phase') ?? '').split(',').filter(Boolean));
  const phaseBoxes = PHASES.map((p) => {
    const box = h('input', { type: 'checkbox', id: `f-phase-${p}`, name: 'phase', value: p, checked: phases.has(p) });
    return { p, box, row: h('div', { class: 'check' }, box, h('label', { for: `f-phase-${p}` }, t(`phase.${p}`))) };
  });
  const overdue = h('input', { type: 'checkbox', id: 'f-overdue', name: 'overdue', checked: view.get('overdue') === 'true' });
  const dup = h('input', { type: 'checkbox', id: 'f-dup', name: 'possible_duplicate', checked: view.get('possible_duplicate') === 'true' });
  const reopened = h('input', { type: 'checkbox', id: 'f-reopened', name: 'reopened', checked: view.get('reopened') === 'true' });
  const filedFrom = h('input', { type: 'date', name: 'filed_from', value: view.get('filed_from') ?? '' });
  const filedTo = h('input', { type: 'date', name: 'filed_to', value: view.get('filed_to') ?? '' });
  const sortField = field(t('queue.sort'), sortSel, 'f-sort');
  const form = h('form', { class: 'filters', id: 'filters', 'aria-labelledby': 'filters-title' },
    h('h2', { id: 'filters-title' }, t('queue.filters')),
    h('div', { class: 'filter-grid' },
      field(t('queue.team'), team, 'f-team'),
      field(t('queue.demarche'), demarche, 'f-demarche'),
      field(t('queue.status'), statusSel, 'f-status'),
      field(t('queue.zone'), zone, 'f-zone'),
      field(t('queue.channel'), channel, 'f-channel'),
      field(t('queue.assignee'), assignee, 'f-assignee'),
      field(t('queue.filedFrom'), filedFrom, 'f-filed-from'),
      field(t('queue.filedTo'), filedTo, 'f-filed-to'),
      sortField,
      h('fieldset', { class: 'phases', 'aria-describedby': 'f-phase-hint' }, h('legend', null, t('queue.phase')), h('p', { class: 'hint', id: 'f-phase-hint' }, t('queue.phase.hint')), phaseBoxes.map((x) => x.row)),
      h('div', { class: 'checks' },
        h('div', { class: 'check' }, overdue, h('label', { for: 'f-overdue' }, t('queue.overdue'))),
        h('div', { class: 'check' }, dup, h('label', { for: 'f-dup' }, t('queue.duplicate'))),
        h('div', { class: 'check' }, reopened, h('label', { for: 'f-reopened' }, t('queue.reopened'))))),
    h('div', { class: 'buttons' },
      h('button', { type: 'submit' }, t('queue.apply')),
      h('a', { href: href(path), 'data-nav': '', class: 'button secondary' }, t('queue.reset'))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = viewQuery({
      team: team.value, demarche: demarche.value, status: statusSel.value, zone: zone.value, channel: channel.value,
      assignee: assignee.value, phase: phaseBoxes.filter((x) => x.box.checked).map((x) => x.p),
      filed_from: filedFrom.value, filed_to: filedTo.value,
      overdue: overdue.checked, possible_duplicate: dup.checked, reopened: reopened.checked, sort: sortSel.value,
    });
    // The map stays where it looks when its filters change.
    const params = new URLSearchParams(q);
    const at = path === 'map' ? new URLSearchParams(location.search).get('at') : null;
    if (at) params.set('at', at);
    const query = params.toString();
    navigate(query ? `${path}?${query}` : path, { focus: focusAfter });
  });
  api.catalogue().then((list) => {
    const current = demarche.value;
    replace(demarche, h('option', { value: '' }, t('queue.demarche.all')),
      list.map((d) => h('option', { value: d.code, selected: d.code === current }, d.title)));
  }, () => {});

  /** Team and status choices come from what the queue holds (the API lists neither). */
  function growChoices(items: api.QueueItem[]): void {
    const have = (s: HTMLSelectElement) => new Set([...s.options].map((o) => o.value));
    const teams = have(team);
    for (const i of items) if (i.team && !teams.has(i.team)) { team.append(h('option', { value: i.team }, i.team)); teams.add(i.team); }
    const statuses = have(statusSel);
    for (const i of items) if (!statuses.has(i.status)) { statusSel.append(h('option', { value: i.status }, `${i.status_label} (${i.status})`)); statuses.add(i.status); }
  }

  return { form, growChoices };
}

export function queueScreen(view: URLSearchParams): Screen {
  const title = t('queue.title');
  const sort = sortOf(view);
  const status = h('p', { class: 'status', id: 'queue-status', role: 'status' });
  const countsBox = h('div', { class: 'counts', id: 'queue-counts', hidden: true });
  const table = new RequestTable({ id: 'queue', selectable: true, onSelection: (n) => bulk.update(n) });
  const more = h('button', { type: 'button', class: 'secondary', id: 'queue-more', hidden: true }, t('queue.more'));
  let cursor: string | null = null;
  let loaded: api.QueueItem[] = [];

  const { form, growChoices } = filterForm(view, '', 'queue-status');

  // ---- bulk actions ----
  const bulk = bulkBar(table, () => void reload());

  // ---- loading ----
  async function load(append: boolean): Promise<void> {
    status.textContent = t('queue.loading');
    try {
      const page = await api.queue(apiParams(view, append ? cursor : null, PAGE));
      loaded = append ? [...loaded, ...page.items] : page.items;
      cursor = page.next_cursor ?? null;
      table.set(sortItems(loaded, sort as Sort));
      growChoices(page.items);
      more.hidden = !cursor;
      status.textContent = loaded.length ? `${t('queue.shown', { n: loaded.length })}${cursor ? '' : ` ${t('queue.allShown')}`}` : t('queue.empty');
    } catch (e) {
      status.textContent = errorMessage(e);
    }
  }
  async function loadCounts(): Promise<void> {
    if (!session.features.counts) return;
    try {
      const c = await api.counts(apiParams(view));
      replace(countsBox,
        h('h2', { class: 'visually-hidden' }, t('counts.title')),
        h('ul', null,
          h('li', null, t('counts.total', { n: formatNumber(c.total) })),
          h('li', { class: c.overdue ? 'overdue' : undefined }, t('counts.overdue', { n: formatNumber(c.overdue) })),
          Object.entries(c.phases).map(([p, n]) => h('li', null, t('counts.phase', { phase: PHASES.includes(p as never) ? t(`phase.${p as (typeof PHASES)[number]}`) : p, n: formatNumber(n) })))));
      countsBox.hidden = false;
    } catch {
      countsBox.hidden = true;
    }
  }
  async function reload(): Promise<void> {
    await Promise.all([load(false), loadCounts()]);
  }
  more.addEventListener('click', async () => {
    const before = loaded.length;
    await load(true);
    // Keep the keyboard where the new rows start.
    table.el.querySelectorAll<HTMLElement>('tbody tr a')[before]?.focus();
  });
  void reload();

  // ---- live arrivals ----
  let liveTimer: ReturnType<typeof setTimeout> | null = null;
  function onLive(e: LiveEvent): void {
    if (liveTimer) clearTimeout(liveTimer);
    // Too much was missed: the view is read again.
    if (e.resync) {
      void reload();
      return;
    }
    // Several events in a burst make one fetch.
    liveTimer = setTimeout(async () => {
      try {
        const page = await api.queue(apiParams(view, null, PAGE));
        const known = new Map(loaded.map((i) => [i.number, i]));
        const added = page.items.filter((i) => !known.has(i.number));
        for (const i of page.items) if (known.has(i.number)) Object.assign(known.get(i.number)!, i);
        loaded = [...added, ...loaded];
        table.markFresh(added.map((i) => i.number));
        table.set(sortItems(loaded, sort as Sort));
        growChoices(added);
        if (added.length) announce(t('queue.live', { n: added.length }));
        status.textContent = t('queue.shown', { n: loaded.length });
        void loadCounts();
      } catch {
        /* the next event tries again */
      }
    }, 150);
  }

  const keys = tableKeys(table, (item) => {
    const i = loaded.findIndex((x) => x.number === item.number);
    if (i >= 0) loaded[i] = item;
    table.update(item);
  });

  return {
    title,
    el: h('section', { class: 'queue' },
      h('h1', { id: 'screen-title', tabindex: '-1' }, title),
      form,
      viewLinks(view),
      countsBox,
      bulk.el,
      status,
      table.el,
      more),
    onKey: keys,
    onLive,
    cleanup: () => {
      if (liveTimer) clearTimeout(liveTimer);
    },
  };
}

/** The same view on a map, and for supervisors and admins its exports as spreadsheets. */
function viewLinks(view: URLSearchParams): HTMLElement {
  const q = view.toString();
  const role = session.me?.role;
  const canExport = role === 'supervisor' || role === 'admin';
  return h('div', { class: 'view-links buttons' },
    h('a', { href: href(`map${q ? `?${q}` : ''}`), 'data-nav': '', class: 'button secondary', id: 'queue-map-link' }, t('queue.onMap')),
    canExport ? [
      h('a', { href: api.exportUrl('csv', apiParams(view)), download: '', class: 'button secondary', id: 'export-csv' }, t('queue.export.csv')),
      h('a', { href: api.exportUrl('ods', apiParams(view)), download: '', class: 'button secondary', id: 'export-ods' }, t('queue.export.ods')),
    ] : null);
}

/** The selection's actions: assign to me, or a status; each request gets its own result. */
function bulkBar(table: RequestTable, done: () => void): { el: HTMLElement; update: (numbers: string[]) => void } {
  const count = h('p', { id: 'bulk-count' }, t('bulk.selected', { n: 0 }));
  const assignMe = h('button', { type: 'button', class: 'secondary', id: 'bulk-assign' }, t('bulk.assignMe'));
  const statusSel = h('select', { id: 'bulk-status' }, h('option', { value: '' }, t('bulk.status.choose')));
  const apply = h('button', { type: 'button', class: 'secondary', id: 'bulk-apply' }, t('bulk.status.apply'));
  const results = h('div', { id: 'bulk-results', class: 'bulk-results' });
  const el = h('section', { class: 'bulk', 'aria-labelledby': 'bulk-title' },
    h('h2', { id: 'bulk-title' }, t('bulk.title')),
    count,
    h('div', { class: 'buttons' }, assignMe,
      h('label', { for: 'bulk-status' }, t('bulk.status')), statusSel, apply),
    results);

  let seq = 0;
  async function update(numbers: string[]): Promise<void> {
    count.textContent = t('bulk.selected', { n: numbers.length });
    const mine = ++seq;
    // The statuses of the selected requests' workflows (from their démarches' definitions).
    const codes = [...new Set(table.items.filter((i) => numbers.includes(i.number)).map((i) => i.demarche))];
    const defs = await Promise.all(codes.map((c) => api.definition(c).catch(() => null)));
    if (mine !== seq) return;
    const statuses = new Map<string, string>();
    for (const d of defs) for (const s of d?.workflow?.statuses ?? []) if (!statuses.has(s.status)) statuses.set(s.status, pick(s.label, s.label_en));
    const keep = statusSel.value;
    replace(statusSel, h('option', { value: '' }, t('bulk.status.choose')),
      [...statuses].map(([v, label]) => h('option', { value: v, selected: v === keep }, `${label} (${v})`)));
  }

  async function run(action: Parameters<typeof api.bulk>[1]): Promise<void> {
    const numbers = table.selection();
    if (!numbers.length) {
      replace(results, h('p', { role: 'alert' }, t('bulk.none')));
      return;
    }
    assignMe.disabled = apply.disabled = true;
    let res: api.BulkResult;
    try {
      res = await api.bulk(numbers, action);
    } catch (e) {
      replace(results, h('p', { role: 'alert' }, errorMessage(e)));
      assignMe.disabled = apply.disabled = false;
      return;
    }
    const lines = res.results.map((r) => r.ok
      ? h('li', { class: 'ok', 'data-number': r.number }, t('bulk.ok', { number: r.number }))
      : h('li', { class: 'failed', 'data-number': r.number }, t('bulk.failed', { number: r.number, message: r.detail ?? r.code ?? String(r.status) })));
    const summary = t('bulk.done', { ok: res.done, failed: res.failed });
    replace(results, h('h3', null, t('bulk.results')), h('p', null, summary), h('ul', null, lines));
    announce(summary);
    assignMe.disabled = apply.disabled = false;
    table.clearSelection();
    done();
  }

  assignMe.addEventListener('click', () => {
    const me = session.me;
    if (me) void run({ assign: { assignee_id: me.id } });
  });
  apply.addEventListener('click', () => {
    const s = statusSel.value;
    if (!s) {
      replace(results, h('p', { role: 'alert' }, t('bulk.noStatus')));
      statusSel.focus();
      return;
    }
    void run({ status: s });
  });
  return { el, update: (n) => void update(n) };
}

export function mineScreen(): Screen {
  const title = t('mine.title');
  const sections = [
    { id: 'mine-assigned', heading: t('mine.assigned'), params: new URLSearchParams({ assignee: 'me', sort: 'due' }) },
    { id: 'mine-overdue', heading: t('mine.overdue'), params: new URLSearchParams({ overdue: 'true', sort: 'due' }) },
    { id: 'mine-reopened', heading: t('mine.reopened'), params: new URLSearchParams({ reopened: 'true' }) },
  ].map((s) => {
    const table = new RequestTable({ id: s.id, selectable: false });
    const status = h('p', { class: 'status', role: 'status' }, t('queue.loading'));
    api.queue(apiParams(s.params, null, 100)).then(
      (page) => {
        table.set(page.items);
        status.textContent = page.items.length ? t('queue.shown', { n: page.items.length }) : t('queue.empty');
      },
      (e) => (status.textContent = errorMessage(e)),
    );
    return { table, el: h('section', { 'aria-labelledby': `${s.id}-title` }, h('h2', { id: `${s.id}-title` }, s.heading), status, table.el) };
  });
  // j/k work in the table that holds the focus, else the first.
  const keysOf = sections.map((s) => tableKeys(s.table, (item) => s.table.update(item)));
  return {
    title,
    el: h('section', { class: 'mine' }, h('h1', { id: 'screen-title', tabindex: '-1' }, title), sections.map((s) => s.el)),
    onKey: (e) => {
      const i = sections.findIndex((s) => s.el.contains(document.activeElement));
      return keysOf[Math.max(0, i)](e);
    },
  };
}

export function searchScreen(q: string): Screen {
  const title = t('search.title', { q });
  const table = new RequestTable({ id: 'search-results', selectable: false });
  const status = h('p', { class: 'status', role: 'status' }, t('queue.loading'));
  if (q) {
    api.search(q, 50).then(
      (page) => {
        table.set(page.items);
        status.textContent = page.items.length ? t('search.count', { n: page.items.length }) : t('search.none');
      },
      (e) => (status.textContent = errorMessage(e)),
    );
  }
  return {
    title,
    el: h('section', null, h('h1', { id: 'screen-title', tabindex: '-1' }, title), status, table.el),
    onKey: tableKeys(table, (item) => table.update(item)),
  };
}
