// Administration (admins; docs/api.md "Admin API"): agents, teams, routing rules, webhooks with
// their deliveries; and the reply templates that supervisors keep (`/agent/reply-templates`).
// Each screen is a table of what exists and a form to add or change one; the server's field
// errors are shown at their fields. The démarches' editor is in demarches.ts.
import { announce, h, replace } from '@guichet/web/dom';
import { communes } from '@guichet/web/geo';
import * as api from '../api';
import { href, session, type Screen } from '../app';
import { formatDateTime, formatNumber, t, type Key } from '../i18n';
import { block, clearErrors, errorSummary, errorText, labelled, screenTitle, showErrors, type FieldBox } from './forms';

const ROLES: api.Role[] = ['agent', 'field', 'supervisor', 'admin'];
const EVENTS = ['request.created', 'request.status_changed', 'request.closed', 'request.merged'];

/** The administration's own menu, under the screen's heading. */
export function adminNav(current: string): HTMLElement {
  const me = session.me;
  const links: [string, Key][] = me?.role === 'admin'
    ? [['admin/agents', 'admin.agents'], ['admin/teams', 'admin.teams'], ['admin/routing', 'admin.routing'], ['admin/demarches', 'admin.demarches'], ['admin/webhooks', 'admin.webhooks'], ['admin/audit', 'admin.audit'], ['templates', 'admin.templates']]
    : [['templates', 'admin.templates']];
  return h('nav', { class: 'subnav', 'aria-label': t('admin.nav') },
    h('ul', null, links.map(([path, key]) => h('li', null, h('a', { href: href(path), 'data-nav': '', 'aria-current': path === current ? 'page' : undefined }, t(key))))));
}

function table(id: string, caption: string, cols: string[], rows: HTMLElement[], empty: string): HTMLElement {
  return h('div', { class: 'table-wrap' }, h('table', { class: 'requests', id },
    h('caption', null, caption),
    h('thead', null, h('tr', null, cols.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', null, rows.length ? rows : h('tr', null, h('td', { colspan: cols.length }, empty)))));
}

function status(id: string): HTMLElement {
  return h('p', { class: 'status', id, role: 'status' }, t('queue.loading'));
}

function input(attrs: Record<string, unknown> = {}): HTMLInputElement {
  return h('input', { type: 'text', ...attrs });
}

function options(list: [string, string][], value = ''): HTMLOptionElement[] {
  return list.map(([v, label]) => h('option', { value: v, selected: v === value }, label));
}

// ---- agents ----

export function agentsScreen(): Screen {
  const title = t('admin.agents');
  const listBox = h('div', null, status('agents-status'));
  const summary = errorSummary('agent-errors');
  const result = h('p', { class: 'action-result', id: 'agent-result', tabindex: '-1', hidden: true });
  const teamsBox = h('fieldset', { class: 'team-boxes' }, h('legend', null, t('admin.agent.teams')));
  const f: Record<string, FieldBox> = {
    email: labelled('agent-email', t('admin.agent.email'), input({ type: 'email', autocomplete: 'off', required: true }), t('admin.agent.email.hint')),
    name: labelled('agent-name', t('admin.agent.name'), input({ required: true })),
    role: labelled('agent-role', t('admin.agent.role'), h('select', null, options(ROLES.map((r) => [r, t(`role.${r}`)]), 'agent'))),
    password: labelled('agent-password', t('admin.agent.password'), input({ type: 'password', autocomplete: 'new-password' }), t('admin.agent.password.hint')),
  };
  const teamsError = h('p', { class: 'field-error', id: 'agent-teams-error', hidden: true });
  f.teams = { el: teamsBox, control: h('input', { type: 'hidden', id: 'agent-teams-any' }), error: teamsError };
  const form = h('form', { id: 'agent-form', novalidate: true }, summary, f.email.el, f.name.el, f.role.el, teamsBox, teamsError, f.password.el,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('admin.save'))), result);
  let teamCodes: string[] = [];

  async function load(): Promise<void> {
    try {
      const [agents, teams] = await Promise.all([api.agents(), api.teams()]);
      teamCodes = teams.map((x) => x.code);
      replace(teamsBox, h('legend', null, t('admin.agent.teams')), teams.map((x) => h('div', { class: 'check' },
        h('input', { type: 'checkbox', id: `agent-team-${x.code}`, name: 'teams', value: x.code }),
        h('label', { for: `agent-team-${x.code}` }, `${x.name} (${x.code})`))));
      replace(listBox, table('agents', t('admin.agents.caption', { n: agents.length }),
        [t('admin.agent.name'), t('admin.agent.email'), t('admin.agent.role'), t('admin.agent.teams'), t('admin.agent.active'), t('admin.actions')],
        agents.map((a) => {
          const edit = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.editOne', { name: a.name }) }, t('admin.edit'));
          edit.addEventListener('click', () => {
            f.email.control.value = a.email;
            f.name.control.value = a.name;
            f.role.control.value = a.role;
            for (const c of teamCodes) (document.getElementById(`agent-team-${c}`) as HTMLInputElement).checked = a.teams.includes(c);
            f.password.control.value = '';
            f.name.control.focus();
          });
          const active = a.active !== false;
          const self = a.id === session.me?.id;
          const toggle = h('button', { type: 'button', class: 'secondary', hidden: self, 'aria-label': t(active ? 'admin.agent.offOne' : 'admin.agent.onOne', { name: a.name }) }, t(active ? 'admin.agent.off' : 'admin.agent.on'));
          toggle.addEventListener('click', async () => {
            if (active && !confirm(t('admin.agent.confirmOff', { name: a.name }))) return;
            try {
              await api.setAgentActive(a.id, !active);
              announce(t(active ? 'admin.agent.offDone' : 'admin.agent.onDone', { name: a.name }));
              await load();
            } catch (err) {
              announce(errorText(err));
            }
          });
          const totp = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.agent.totpOne', { name: a.name }) }, t('admin.agent.totp'));
          totp.addEventListener('click', async () => {
            if (!confirm(t('admin.agent.confirmTotp', { name: a.name }))) return;
            try {
              await api.resetAgentTotp(a.id);
              announce(t('admin.agent.totpDone', { name: a.name }));
            } catch (err) {
              announce(errorText(err));
            }
          });
          return h('tr', { 'data-agent': a.email }, h('td', null, a.name), h('td', null, a.email), h('td', null, t(`role.${a.role}`)), h('td', null, a.teams.join(', ') || '—'),
            h('td', { class: 'agent-active' }, active ? t('admin.yes') : t('admin.no')), h('td', null, h('div', { class: 'buttons tight' }, edit, toggle, totp)));
        }), t('admin.none')));
    } catch (e) {
      replace(listBox, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(summary, f);
    result.hidden = true;
    const teams = [...form.querySelectorAll<HTMLInputElement>('input[name="teams"]:checked')].map((x) => x.value);
    try {
      await api.saveAgent({ email: f.email.control.value.trim(), name: f.name.control.value.trim(), role: f.role.control.value as api.Role, teams, password: f.password.control.value });
      result.textContent = t('admin.agent.saved', { email: f.email.control.value.trim() });
      result.hidden = false;
      result.focus();
      form.reset();
      await load();
    } catch (err) {
      showErrors(summary, f, err);
    }
  });
  void load();
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('admin/agents'),
      block('agents-list', t('admin.agents.list'), listBox),
      block('agent-new', t('admin.agent.new'), h('p', { class: 'hint' }, t('admin.agent.hint')), form)),
  };
}

// ---- teams ----

export function teamsScreen(): Screen {
  const title = t('admin.teams');
  const listBox = h('div', null, status('teams-status'));
  const summary = errorSummary('team-errors');
  const result = h('p', { class: 'action-result', id: 'team-result', tabindex: '-1', hidden: true });
  const f: Record<string, FieldBox> = {
    code: labelled('team-code', t('admin.team.code'), input({ required: true, autocomplete: 'off' }), t('admin.team.code.hint')),
    name: labelled('team-name', t('admin.team.name'), input({ required: true })),
    email: labelled('team-email', t('admin.team.email'), input({ type: 'email', autocomplete: 'off' })),
  };
  const form = h('form', { id: 'team-form', novalidate: true }, summary, f.code.el, f.name.el, f.email.el,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('admin.save'))), result);
  async function load(): Promise<void> {
    try {
      const teams = await api.teams();
      replace(listBox, table('teams', t('admin.teams.caption', { n: teams.length }),
        [t('admin.team.code'), t('admin.team.name'), t('admin.team.email'), t('admin.team.members'), t('admin.team.open'), t('admin.actions')],
        teams.map((x) => {
          const edit = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.editOne', { name: x.name }) }, t('admin.edit'));
          edit.addEventListener('click', () => {
            f.code.control.value = x.code;
            f.name.control.value = x.name;
            f.email.control.value = x.email ?? '';
            f.name.control.focus();
          });
          const q = new URLSearchParams({ team: x.code });
          return h('tr', null, h('td', null, x.code), h('td', null, x.name), h('td', null, x.email ?? '—'), h('td', null, formatNumber(x.members)),
            h('td', null, h('a', { href: href(`?${q}`), 'data-nav': '' }, formatNumber(x.open_requests))), h('td', null, edit));
        }), t('admin.none')));
    } catch (e) {
      replace(listBox, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(summary, f);
    result.hidden = true;
    const code = f.code.control.value.trim();
    if (!code) {
      showErrors(summary, f, new api.ApiError(422, 'required', t('admin.required'), null, [{ field: 'code', code: 'required', message: t('admin.required') }]));
      return;
    }
    try {
      const email = f.email.control.value.trim();
      await api.saveTeam(code, { name: f.name.control.value.trim(), email: email || null });
      result.textContent = t('admin.team.saved', { code });
      result.hidden = false;
      result.focus();
      form.reset();
      await load();
    } catch (err) {
      showErrors(summary, f, err);
    }
  });
  void load();
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('admin/teams'),
      block('teams-list', t('admin.teams.list'), listBox),
      block('team-new', t('admin.team.new'), form)),
  };
}

// ---- routing rules ----

export function routingScreen(): Screen {
  const title = t('admin.routing');
  const listBox = h('div', null, status('rules-status'));
  const summary = errorSummary('rule-errors');
  const result = h('p', { class: 'action-result', id: 'rule-result', tabindex: '-1', hidden: true });
  const f: Record<string, FieldBox> = {
    demarche: labelled('rule-demarche', t('queue.demarche'), h('select', null, h('option', { value: '' }, t('admin.rule.anyDemarche')))),
    zone: labelled('rule-zone', t('admin.rule.zone'), h('select', null, h('option', { value: '' }, t('admin.rule.anyZone')), options(communes.map((c) => [`commune:${c.insee}`, c.name])))),
    team: labelled('rule-team', t('queue.col.team'), h('select', { required: true })),
    priority: labelled('rule-priority', t('admin.rule.priority'), input({ type: 'number', min: 0, step: 1, value: '100', inputmode: 'numeric' }), t('admin.rule.priority.hint')),
  };
  const form = h('form', { id: 'rule-form', novalidate: true }, summary, h('div', { class: 'filter-grid' }, f.demarche.el, f.zone.el, f.team.el, f.priority.el),
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('admin.rule.add'))), result);
  let titles = new Map<string, string>();
  async function load(): Promise<void> {
    try {
      const [rules, teams, cat] = await Promise.all([api.routingRules(), api.teams(), api.catalogue()]);
      titles = new Map(cat.map((d) => [d.code, d.title]));
      const keepD = f.demarche.control.value;
      const keepT = f.team.control.value;
      replace(f.demarche.control, h('option', { value: '' }, t('admin.rule.anyDemarche')), options(cat.map((d) => [d.code, `${d.title} (${d.code})`]), keepD));
      replace(f.team.control, options(teams.map((x) => [x.code, `${x.name} (${x.code})`]), keepT));
      const zoneName = new Map(communes.map((c) => [`commune:${c.insee}`, c.name]));
      const sorted = [...rules].sort((a, b) => a.priority - b.priority || a.id - b.id);
      replace(listBox, table('rules', t('admin.rules.caption', { n: rules.length }),
        [t('admin.rule.priority'), t('queue.demarche'), t('admin.rule.zone'), t('queue.col.team'), t('admin.actions')],
        sorted.map((r) => {
          const label = t('admin.rule.one', { demarche: r.demarche ?? t('admin.rule.anyDemarche'), zone: r.zone ?? t('admin.rule.anyZone'), team: r.team });
          const del = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.deleteOne', { name: label }) }, t('admin.delete'));
          del.addEventListener('click', async () => {
            if (!confirm(t('admin.confirmDelete', { name: label }))) return;
            try {
              await api.deleteRoutingRule(r.id);
              announce(t('admin.deleted'));
              await load();
              document.getElementById('rules')?.querySelector('caption')?.setAttribute('tabindex', '-1');
              (document.getElementById('rules')?.querySelector('caption') as HTMLElement | null)?.focus();
            } catch (err) {
              announce(errorText(err));
            }
          });
          return h('tr', { 'data-rule': r.id }, h('td', null, formatNumber(r.priority)),
            h('td', null, r.demarche ? `${titles.get(r.demarche) ?? r.demarche} (${r.demarche})` : t('admin.rule.anyDemarche')),
            h('td', null, r.zone ? `${zoneName.get(r.zone) ?? r.zone} (${r.zone})` : t('admin.rule.anyZone')),
            h('td', null, r.team), h('td', null, del));
        }), t('admin.none')));
    } catch (e) {
      replace(listBox, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(summary, f);
    result.hidden = true;
    const body: Parameters<typeof api.addRoutingRule>[0] = { team: f.team.control.value };
    if (f.demarche.control.value) body.demarche = f.demarche.control.value;
    if (f.zone.control.value) body.zone = f.zone.control.value;
    const p = f.priority.control.value.trim();
    if (p) {
      if (!/^\d+$/.test(p)) {
        showErrors(summary, f, new api.ApiError(422, 'invalid', t('admin.rule.priority.invalid'), null, [{ field: 'priority', code: 'invalid', message: t('admin.rule.priority.invalid') }]));
        return;
      }
      body.priority = Number(p);
    }
    try {
      await api.addRoutingRule(body);
      result.textContent = t('admin.rule.added', { team: body.team });
      result.hidden = false;
      result.focus();
      await load();
    } catch (err) {
      showErrors(summary, f, err);
    }
  });
  void load();
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('admin/routing'),
      h('p', { class: 'hint' }, t('admin.routing.hint')),
      block('rules-list', t('admin.rules.list'), listBox),
      block('rule-new', t('admin.rule.new'), form)),
  };
}

// ---- webhooks ----

export function webhooksScreen(): Screen {
  const title = t('admin.webhooks');
  const listBox = h('div', null, status('hooks-status'));
  const deliveriesBox = h('div', { id: 'deliveries', tabindex: '-1' });
  const summary = errorSummary('hook-errors');
  const result = h('div', { class: 'action-result', id: 'hook-result', tabindex: '-1', hidden: true });
  const eventsBox = h('fieldset', null, h('legend', null, t('admin.hook.events')), EVENTS.map((ev) => h('div', { class: 'check' },
    h('input', { type: 'checkbox', id: `hook-ev-${ev}`, name: 'events', value: ev, checked: ev !== 'request.merged' }),
    h('label', { for: `hook-ev-${ev}` }, ev))));
  const f: Record<string, FieldBox> = {
    url: labelled('hook-url', t('admin.hook.url'), input({ type: 'url', required: true, autocomplete: 'off' })),
    description: labelled('hook-description', t('admin.hook.description'), input()),
    secret: labelled('hook-secret', t('admin.hook.secret'), input({ autocomplete: 'off' }), t('admin.hook.secret.hint')),
  };
  f.events = { el: eventsBox, control: h('input', { type: 'hidden', id: 'hook-events' }), error: h('p', { class: 'field-error', hidden: true }) };
  const form = h('form', { id: 'hook-form', novalidate: true }, summary, f.url.el, eventsBox, f.events.error, f.description.el, f.secret.el,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('admin.hook.add'))), result);

  async function showDeliveries(hook: api.Webhook): Promise<void> {
    replace(deliveriesBox, h('p', { role: 'status' }, t('queue.loading')));
    try {
      const list = await api.deliveries(hook.id);
      replace(deliveriesBox, table('deliveries-table', t('admin.hook.deliveriesOf', { url: hook.url, n: list.length }),
        [t('admin.hook.d.created'), t('admin.hook.d.event'), t('queue.col.number'), t('admin.hook.d.status'), t('admin.hook.d.attempts'), t('admin.hook.d.last')],
        list.map((d) => h('tr', null, h('td', null, formatDateTime(d.created_at)), h('td', null, d.event_type), h('td', null, d.request_number ?? '—'),
          h('td', null, d.status), h('td', null, formatNumber(d.attempts)),
          h('td', null, [d.last_status !== null ? `HTTP ${d.last_status}` : '', d.last_error ?? ''].filter(Boolean).join(' — ') || '—'))), t('admin.none')));
      deliveriesBox.focus();
    } catch (e) {
      replace(deliveriesBox, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }

  async function load(): Promise<void> {
    try {
      const hooks = await api.webhooks();
      replace(listBox, table('hooks', t('admin.hooks.caption', { n: hooks.length }),
        ['URL', t('admin.hook.events'), t('admin.hook.description'), t('admin.agent.active'), t('admin.hook.pending'), t('admin.hook.failed'), t('admin.actions')],
        hooks.map((w) => {
          const show = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.hook.deliveriesOne', { url: w.url }) }, t('admin.hook.deliveries'));
          show.addEventListener('click', () => void showDeliveries(w));
          const off = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.hook.offOne', { url: w.url }), hidden: !w.active }, t('admin.hook.off'));
          off.addEventListener('click', async () => {
            if (!confirm(t('admin.hook.confirmOff', { url: w.url }))) return;
            try {
              await api.deleteWebhook(w.id);
              announce(t('admin.hook.offDone'));
              await load();
            } catch (err) {
              announce(errorText(err));
            }
          });
          return h('tr', null, h('td', { class: 'wrap' }, w.url), h('td', null, w.events.join(', ')), h('td', null, w.description ?? '—'),
            h('td', null, w.active ? t('admin.yes') : t('admin.no')), h('td', null, formatNumber(w.pending_deliveries)), h('td', null, formatNumber(w.failed_deliveries)),
            h('td', null, h('div', { class: 'buttons tight' }, show, off)));
        }), t('admin.none')));
    } catch (e) {
      replace(listBox, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(summary, f);
    result.hidden = true;
    const events = [...form.querySelectorAll<HTMLInputElement>('input[name="events"]:checked')].map((x) => x.value);
    const body: Parameters<typeof api.addWebhook>[0] = { url: f.url.control.value.trim(), events };
    if (f.description.control.value.trim()) body.description = f.description.control.value.trim();
    if (f.secret.control.value) body.secret = f.secret.control.value;
    try {
      const w = await api.addWebhook(body);
      replace(result, h('p', null, t('admin.hook.added', { url: w.url })), w.secret ? h('p', null, t('admin.hook.secretOnce'), ' ', h('code', { id: 'hook-secret-value' }, w.secret)) : null);
      result.hidden = false;
      result.focus();
      form.reset();
      await load();
    } catch (err) {
      showErrors(summary, f, err);
    }
  });
  void load();
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('admin/webhooks'),
      block('hooks-list', t('admin.hooks.list'), listBox, deliveriesBox),
      block('hook-new', t('admin.hook.new'), form)),
  };
}

// ---- reply templates (supervisors and admins) ----

export function templatesScreen(): Screen {
  const title = t('admin.templates');
  const listBox = h('div', null, status('tpl-status'));
  const summary = errorSummary('tpl-errors');
  const result = h('p', { class: 'action-result', id: 'tpl-result', tabindex: '-1', hidden: true });
  const heading = h('h2', { id: 'tpl-new-h' }, t('admin.tpl.new'));
  const f: Record<string, FieldBox> = {
    demarche: labelled('tpl-demarche', t('queue.demarche'), h('select', null, h('option', { value: '' }, t('admin.tpl.anyDemarche')))),
    title: labelled('tpl-title', t('admin.tpl.title'), input({ required: true, maxlength: 200 })),
    body: labelled('tpl-body', t('admin.tpl.body'), h('textarea', { rows: 6, required: true, maxlength: 10000 })),
    lang: labelled('tpl-lang', t('admin.tpl.lang'), h('select', null, options([['fr', 'Français'], ['en', 'English']], 'fr'))),
  };
  const cancel = h('button', { type: 'button', class: 'secondary', hidden: true }, t('admin.cancelEdit'));
  const form = h('form', { id: 'tpl-form', novalidate: true }, summary, f.demarche.el, f.title.el, f.body.el, f.lang.el,
    h('div', { class: 'buttons' }, h('button', { type: 'submit' }, t('admin.save')), cancel), result);
  let editing: number | null = null;
  function setEditing(id: number | null): void {
    editing = id;
    heading.textContent = id === null ? t('admin.tpl.new') : t('admin.tpl.edit');
    cancel.hidden = id === null;
  }
  cancel.addEventListener('click', () => {
    form.reset();
    setEditing(null);
  });
  async function load(): Promise<void> {
    try {
      const [list, cat] = await Promise.all([api.allReplyTemplates(), api.catalogue()]);
      const titles = new Map(cat.map((d) => [d.code, d.title]));
      const keep = f.demarche.control.value;
      replace(f.demarche.control, h('option', { value: '' }, t('admin.tpl.anyDemarche')), options(cat.map((d) => [d.code, `${d.title} (${d.code})`]), keep));
      replace(listBox, table('templates', t('admin.tpl.caption', { n: list.length }),
        [t('admin.tpl.title'), t('queue.demarche'), t('admin.tpl.lang'), t('admin.tpl.updated'), t('admin.actions')],
        list.map((x) => {
          const edit = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.editOne', { name: x.title }) }, t('admin.edit'));
          edit.addEventListener('click', () => {
            f.demarche.control.value = x.demarche ?? '';
            f.title.control.value = x.title;
            f.body.control.value = x.body;
            f.lang.control.value = x.lang;
            setEditing(x.id);
            f.title.control.focus();
          });
          const del = h('button', { type: 'button', class: 'secondary', 'aria-label': t('admin.deleteOne', { name: x.title }) }, t('admin.delete'));
          del.addEventListener('click', async () => {
            if (!confirm(t('admin.confirmDelete', { name: x.title }))) return;
            try {
              await api.deleteReplyTemplate(x.id);
              announce(t('admin.deleted'));
              await load();
            } catch (err) {
              announce(errorText(err));
            }
          });
          return h('tr', null, h('td', null, x.title), h('td', null, x.demarche ? titles.get(x.demarche) ?? x.demarche : t('admin.tpl.anyDemarche')),
            h('td', null, x.lang), h('td', null, formatDateTime(x.updated_at)), h('td', null, h('div', { class: 'buttons tight' }, edit, del)));
        }), t('admin.none')));
    } catch (e) {
      replace(listBox, h('p', { class: 'error', role: 'alert' }, errorText(e)));
    }
  }
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(summary, f);
    result.hidden = true;
    const body: api.TemplateInput = { title: f.title.control.value.trim(), body: f.body.control.value, lang: f.lang.control.value, demarche: f.demarche.control.value || null };
    try {
      await api.saveReplyTemplate(editing, body);
      result.textContent = t('admin.tpl.saved', { title: body.title });
      result.hidden = false;
      result.focus();
      form.reset();
      setEditing(null);
      await load();
    } catch (err) {
      showErrors(summary, f, err);
    }
  });
  void load();
  return {
    title,
    el: h('section', { class: 'admin' }, screenTitle(title), adminNav('templates'),
      block('tpl-list', t('admin.tpl.list'), listBox),
      h('section', { class: 'card', 'aria-labelledby': 'tpl-new-h' }, heading, form)),
  };
}
