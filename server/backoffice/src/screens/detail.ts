// One request: summary, requester, form data under the definition's labels, files, photos,
// the place on a map (drag the pin to relocate: routed again), reports and co-reports with
// contacts, the timeline (public and internal events told apart), and the actions: next
// statuses, assign, public reply, internal note, complement, merge (with nearby candidates),
// split, change démarche, new tracking code.
import { announce, h, replace, type Child } from '@guichet/web/dom';
import type { Field } from '@guichet/web/forms/definition';
import * as api from '../api';
import type { PhotoLink } from '../api';
import { href, requestHref, session, type Screen } from '../app';
import { formatAge, formatBytes, formatDate, formatDateTime, formatDistance, formatNumber, lang, pick, t } from '../i18n';

function errorMessage(e: unknown): string {
  if (e instanceof api.ApiError) {
    if (e.status === 401) return t('error.unauthenticated');
    const fields = e.errors.map((x) => `${x.field}: ${x.message}`).join('; ');
    return t('actions.failed', { message: fields ? `${e.message} (${fields})` : e.message });
  }
  return t('actions.network');
}

function dl(rows: [string, Child][]): HTMLElement {
  return h('dl', { class: 'facts' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v ?? t('detail.none'))]));
}

/** One value of the form data, as the definition's kind says. */
function showValue(f: Field | undefined, v: unknown): Child {
  if (v === null || v === undefined || v === '') return t('detail.none');
  if (!f) return typeof v === 'object' ? JSON.stringify(v) : String(v);
  const opt = (x: unknown) => {
    const o = (f.options ?? []).find((o) => o.value === x);
    return o ? pick(o.label, o.label_en) : String(x);
  };
  switch (f.kind) {
    case 'boolean':
      return v ? t('detail.yes') : t('detail.no');
    case 'choice':
      return opt(v);
    case 'multi_choice':
      return Array.isArray(v) ? v.map(opt).join(', ') : String(v);
    case 'date':
      return typeof v === 'string' ? formatDate(`${v}T12:00:00`) : String(v);
    case 'datetime':
      return typeof v === 'string' ? formatDateTime(v) : String(v);
    case 'integer':
    case 'decimal':
      return typeof v === 'number' ? formatNumber(v, f.kind === 'decimal' ? 2 : 0) : String(v);
    case 'address': {
      const a = (typeof v === 'string' ? { text: v } : v) as Record<string, unknown>;
      return [a.text, [a.postcode, a.city].filter(Boolean).join(' ')].filter(Boolean).join(', ');
    }
    case 'geo_point': {
      const p = v as { lat?: number; lon?: number };
      return `${formatNumber(p.lat ?? 0, 5)}, ${formatNumber(p.lon ?? 0, 5)}`;
    }
    case 'block':
      return Array.isArray(v)
        ? h('ol', { class: 'block-values' }, v.map((item, i) =>
          h('li', null, h('span', { class: 'visually-hidden' }, t('detail.item', { n: i + 1 })),
            dl((f.fields ?? []).map((sf) => [pick(sf.label, sf.label_en), showValue(sf, (item as Record<string, unknown>)[sf.id])])))))
        : String(v);
    default:
      return String(v);
  }
}

const EVENT_LABELS: Record<string, [string, string]> = {
  created: ['Demande créée', 'Request created'],
  possible_duplicate: ['Doublon possible détecté', 'Possible duplicate detected'],
  co_report: ['Co-signalement', 'Co-report'],
  acknowledgement: ['Accusé de réception', 'Acknowledgement'],
  status_changed: ['Statut changé', 'Status changed'],
  assigned: ['Attribution', 'Assignment'],
  message: ['Message', 'Message'],
  note: ['Note interne', 'Internal note'],
  complement_requested: ['Complément demandé', 'Complement asked'],
  complement_answered: ['Complément reçu', 'Complement answered'],
  merged: ['Fusionnée', 'Merged'],
  merged_from: ['Doublon fusionné ici', 'Duplicate merged here'],
  split: ['Signalement séparé', 'Report split off'],
  routed: ['Routage', 'Routing'],
  notification_sent: ['Notification envoyée', 'Notice sent'],
  webhook_delivered: ['Webhook livré', 'Webhook delivered'],
};

function eventText(e: api.TimelineItem): string {
  const d = e.data ?? {};
  const parts: string[] = [];
  const label = lang() === 'en' ? d.label_en : d.label_fr;
  if (typeof label === 'string') parts.push(label);
  if (typeof d.into === 'string') parts.push(`→ ${d.into}`);
  if (typeof d.from_request === 'string') parts.push(`← ${d.from_request}`);
  if (typeof d.to_request === 'string') parts.push(`→ ${d.to_request}`);
  if (typeof d.from_demarche === 'string' && typeof d.to_demarche === 'string' && d.from_demarche !== d.to_demarche) parts.push(`${d.from_demarche} → ${d.to_demarche}`);
  if (Array.isArray(d.fields)) parts.push(d.fields.join(', '));
  if (typeof d.subject === 'string') parts.push(d.subject);
  return parts.join(' · ');
}

export function detailScreen(number: string, params: URLSearchParams): Screen {
  const heading = h('h1', { id: 'screen-title', tabindex: '-1' }, number);
  const body = h('div', { class: 'detail-body' }, h('p', { role: 'status' }, t('detail.loading')));
  const el = h('section', { class: 'detail' },
    h('p', null, h('a', { href: href(''), 'data-nav': '' }, t('detail.back'))),
    heading,
    body);
  const cleanups: (() => void)[] = [];
  let current: api.RequestDetail | null = null;
  let busy = false;
  let loads = 0;
  /** The last action's result, kept on screen when a live change reads the request again. */
  let lastResult: string | undefined;

  async function load(focusId?: string, message?: string, quiet = false): Promise<void> {
    const seq = ++loads;
    let d: api.RequestDetail;
    try {
      d = await api.detail(number);
    } catch (e) {
      if (seq !== loads) return;
      const text = e instanceof api.ApiError && e.status === 404 ? t('detail.notFound')
        : e instanceof api.ApiError && e.status === 403 ? t('detail.forbidden')
          : errorMessage(e);
      replace(body, h('p', { class: 'error', role: 'alert', id: 'detail-error' }, text));
      return;
    }
    const def = await api.definition(d.demarche.code).catch(() => null);
    // A later read (a live change, another action) wins.
    if (seq !== loads) return;
    cleanups.splice(0).forEach((c) => c());
    current = d;
    heading.textContent = `${d.number} — ${d.demarche.title}`;
    document.title = `${d.number} — ${t('app.name')}`;
    // A quiet read keeps the keyboard where it was.
    const kept = quiet && !focusId && body.contains(document.activeElement) ? (document.activeElement as HTMLElement).id : '';
    // …and what the agent was typing (a reply, a note) survives it.
    const typed = quiet ? keepTyped(body) : new Map<string, string>();
    replace(body, render(d, def));
    restoreTyped(body, typed);
    if (kept) focusId = kept;
    if (message) {
      const box = body.querySelector<HTMLElement>('#action-result');
      if (box) {
        box.textContent = message;
        box.hidden = false;
      }
      if (!quiet) announce(message);
    }
    if (focusId) document.getElementById(focusId)?.focus();
  }

  /** Runs an action, then reloads the request with the result said and the focus kept. */
  async function act(button: HTMLButtonElement, run: () => Promise<string>, errorBox: HTMLElement): Promise<void> {
    button.disabled = true;
    busy = true;
    errorBox.hidden = true;
    const label = button.textContent;
    button.textContent = t('actions.busy');
    try {
      const done = await run();
      lastResult = done;
      await load('action-result', done);
    } catch (e) {
      errorBox.textContent = errorMessage(e);
      errorBox.hidden = false;
      announce(errorBox.textContent);
      button.disabled = false;
      button.textContent = label;
    } finally {
      busy = false;
    }
  }

  function render(d: api.RequestDetail, def: api.DemarcheDefinition | null): HTMLElement {
    const me = session.me!;
    const fields = new Map((def?.form.fields ?? []).map((f) => [f.id, f]));
    const summary = h('section', { 'aria-labelledby': 'summary-title', class: 'card' },
      h('h2', { id: 'summary-title' }, t('detail.summary')),
      dl([
        [t('detail.status'), h('span', { class: `phase phase-${d.phase}`, id: 'detail-status' }, d.status_label)],
        [t('detail.phase'), t(`phase.${d.phase}` as 'phase.received')],
        [t('detail.team'), d.team ? `${d.team.name ?? d.team.code} (${d.team.code})` : null],
        [t('detail.assignee'), h('span', { id: 'detail-assignee' }, d.assignee ? (d.assignee.id === me.id ? `${d.assignee.name ?? ''} (${t('queue.me')})` : d.assignee.name ?? String(d.assignee.id)) : t('queue.nobody'))],
        [t('detail.channel'), t(`channel.${d.channel}` as 'channel.app')],
        [t('detail.enteredBy'), d.entered_by?.name ?? null],
        [t('detail.created'), `${formatDateTime(d.created_at)} (${formatAge(d.created_at)})`],
        [t('detail.due'), d.due_at ? [
          formatDateTime(d.due_at),
          d.overdue ? [' ', h('span', { class: 'mark overdue' }, t('queue.overdueMark'))] : null,
          d.sla_paused_at ? ` ${t('detail.duePaused', { at: formatDateTime(d.sla_paused_at) })}` : null,
        ] : null],
        [t('detail.closed'), d.closed_at ? formatDateTime(d.closed_at) : null],
        ...(d.merged_into ? [[t('detail.mergedInto'), h('a', { href: requestHref(d.merged_into), 'data-nav': '' }, d.merged_into)] as [string, Child]] : []),
        ...(d.possible_duplicate_of ? [[t('queue.dupMark', { number: '' }).replace(/\s+$/, ''), h('a', { href: requestHref(d.possible_duplicate_of), 'data-nav': '' }, d.possible_duplicate_of)] as [string, Child]] : []),
      ]));

    const requester = h('section', { 'aria-labelledby': 'requester-title', class: 'card' },
      h('h2', { id: 'requester-title' }, t('detail.requester')),
      dl([
        [t('detail.name'), d.requester.name],
        [t('detail.email'), d.requester.email ? h('a', { href: `mailto:${d.requester.email}` }, d.requester.email) : null],
        [t('detail.phone'), d.requester.phone ? h('a', { href: `tel:${d.requester.phone}` }, d.requester.phone) : null],
        [t('detail.account'), d.requester.account_email],
      ]));

    // Form data under the definition's labels, in its order; keys it does not know after.
    const dataRows: [string, Child][] = [];
    if (d.description) dataRows.push([t('detail.description'), h('span', { class: 'pre' }, d.description)]);
    const values = d.data ?? {};
    for (const f of def?.form.fields ?? []) {
      if (f.kind === 'file' || !(f.id in values)) continue;
      dataRows.push([pick(f.label, f.label_en), showValue(f, values[f.id])]);
    }
    for (const [k, v] of Object.entries(values)) if (!fields.has(k)) dataRows.push([k, showValue(undefined, v)]);
    const data = h('section', { 'aria-labelledby': 'data-title', class: 'card' },
      h('h2', { id: 'data-title' }, t('detail.data')), dl(dataRows));

    const files = h('section', { 'aria-labelledby': 'files-title', class: 'card' },
      h('h2', { id: 'files-title' }, t('detail.files')),
      d.files.length
        ? h('ul', { class: 'files' }, d.files.map((f) => h('li', null,
          h('a', { href: f.url, download: f.filename }, t('detail.download', { name: f.filename, size: formatBytes(f.bytes) })),
          ` — ${fields.get(f.field) ? pick(fields.get(f.field)!.label, fields.get(f.field)!.label_en) : f.field}, ${f.mime}`)))
        : h('p', null, t('detail.noFiles')));

    // The reports' photos, then those the field team took once the work was done.
    const gallery = (list: PhotoLink[], alt: (n: number) => string): Child =>
      h('ul', { class: 'photos' }, list.map((p, i) =>
        h('li', null, h('a', { href: p.url }, h('img', { src: p.thumbnail_url, alt: alt(i + 1), width: 200, loading: 'lazy' })))));
    const before = d.reports.flatMap((r) => r.photos ?? []);
    const after = d.after_photos ?? [];
    const photos = h('section', { 'aria-labelledby': 'photos-title', class: 'card', hidden: before.length + after.length === 0, id: 'photos' },
      h('h2', { id: 'photos-title' }, t('detail.photos')),
      before.length ? gallery(before, (n) => t('detail.photo', { n, number: d.number })) : null,
      after.length ? [h('h3', null, t('detail.afterPhotos')), gallery(after, (n) => t('detail.afterPhoto', { n, number: d.number }))] : null);

    const place = placeSection(d);
    const reports = reportsSection(d);
    const timeline = h('section', { 'aria-labelledby': 'timeline-title', class: 'card timeline' },
      h('h2', { id: 'timeline-title' }, t('detail.timeline')),
      h('ol', { id: 'timeline' }, [...d.timeline].reverse().map((e) => {
        const names = EVENT_LABELS[e.kind];
        const message = typeof e.data?.message === 'string' ? e.data.message : typeof e.data?.text === 'string' ? e.data.text : null;
        return h('li', { class: `event ${e.public ? 'public' : 'internal'}`, 'data-kind': e.kind },
          h('p', { class: 'event-head' },
            h('span', { class: `badge ${e.public ? 'public' : 'internal'}` }, e.public ? t('detail.event.public') : t('detail.event.internal')),
            ' ',
            h('strong', null, names ? names[lang() === 'en' ? 1 : 0] : e.kind),
            ' — ',
            h('time', { datetime: e.at }, formatDateTime(e.at)),
            e.actor ? ` ${t('detail.event.by', { actor: e.actor })}` : ''),
          eventText(e) ? h('p', null, eventText(e)) : null,
          message ? h('p', { class: 'pre message' }, message) : null);
      })));

    return h('div', { class: 'detail-grid' },
      h('div', { class: 'detail-main' }, summary, requester, data, files, photos, place, reports, timeline),
      h('div', { class: 'detail-actions' }, actionsSection(d, def)));
  }

  function placeSection(d: api.RequestDetail): HTMLElement {
    const mapEl = h('div', { class: 'detail-map', id: 'detail-map' });
    const pending = h('div', { class: 'relocate', id: 'relocate', hidden: true });
    const section = h('section', { 'aria-labelledby': 'place-title', class: 'card' },
      h('h2', { id: 'place-title' }, t('detail.place')),
      dl([
        [t('detail.address'), d.address],
        [t('detail.zone'), d.zone],
        [t('detail.coords'), d.location ? `${formatNumber(d.location.lat, 5)}, ${formatNumber(d.location.lon, 5)}${d.location.accuracy_m ? ` (± ${formatNumber(d.location.accuracy_m)} m)` : ''}` : null],
      ]),
      d.location ? [mapEl, pending] : null);
    if (!d.location) return section;
    const loc = d.location;
    let alive = true;
    cleanups.push(() => (alive = false));
    // The map library loads only when a request has a place.
    void import('@guichet/web/map').then(({ baseMap, pinMarker }) => {
      if (!alive || !mapEl.isConnected) return;
      const map = baseMap(mapEl, { center: [loc.lat, loc.lon], zoom: 17, label: t('detail.map', { number: d.number }) });
      const pin = pinMarker([loc.lat, loc.lon], t('detail.pin'), true).addTo(map);
      cleanups.push(() => map.remove());
      const propose = (lat: number, lon: number) => {
        const confirm = h('button', { type: 'button', id: 'relocate-confirm' }, t('detail.relocate'));
        const cancel = h('button', { type: 'button', class: 'secondary' }, t('detail.relocate.cancel'));
        const err = h('p', { class: 'field-error', hidden: true, role: 'alert' });
        replace(pending, h('p', null, t('detail.relocate.pending', { lat: formatNumber(lat, 5), lon: formatNumber(lon, 5) })), h('div', { class: 'buttons' }, confirm, cancel), err);
        pending.hidden = false;
        confirm.addEventListener('click', () => void act(confirm, async () => {
          await api.edit(d.number, { location: { lat, lon } });
          return t('detail.relocated');
        }, err));
        cancel.addEventListener('click', () => {
          pin.setLatLng([loc.lat, loc.lon]);
          pending.hidden = true;
        });
        confirm.focus();
      };
      pin.on('dragend', () => {
        const p = pin.getLatLng();
        propose(p.lat, p.lng);
      });
    });
    return section;
  }

  function reportsSection(d: api.RequestDetail): HTMLElement | null {
    if (!d.reports.length) return null;
    return h('section', { 'aria-labelledby': 'reports-title', class: 'card' },
      h('h2', { id: 'reports-title' }, t('detail.reports', { n: d.reports.length })),
      h('ol', { class: 'reports' }, d.reports.map((r, i) => {
        const err = h('p', { class: 'field-error', hidden: true, role: 'alert' });
        const split = d.reports.length > 1 && d.phase !== 'closed' && session.me?.role !== 'field'
          ? h('button', { type: 'button', class: 'secondary split', 'data-report': String(r.id) }, t('detail.split'))
          : null;
        split?.addEventListener('click', () => void act(split, async () => {
          const res = await api.split(d.number, r.id);
          return t('detail.split.done', { number: res.request_number });
        }, err));
        return h('li', { 'data-report': String(r.id) },
          h('h3', null, t('detail.report', { at: formatDateTime(r.created_at) }), ` (${i === 0 && !r.deduplicated ? t('detail.report.first') : t('detail.report.co')}, ${t(`channel.${r.channel}` as 'channel.app')})`),
          r.description ? h('p', { class: 'pre' }, r.description) : null,
          dl([[t('detail.report.contact'), [r.contact.name, r.contact.email].filter(Boolean).join(' — ') || null]]),
          split, err);
      })));
  }

  function actionsSection(d: api.RequestDetail, def: api.DemarcheDefinition | null): HTMLElement {
    const me = session.me!;
    const result = h('p', { class: 'action-result', id: 'action-result', role: 'status', tabindex: '-1', hidden: true });
    const open = d.phase !== 'closed' && d.phase !== 'withdrawn';
    const blocks: HTMLElement[] = [];
    const errBox = () => h('p', { class: 'field-error', hidden: true, role: 'alert' });

    // Status.
    {
      const err = errBox();
      if (d.next_statuses.length) {
        const sel = h('select', { id: 'status-to' }, d.next_statuses.map((s) => h('option', { value: s.status }, s.label)));
        const msg = h('textarea', { id: 'status-message', rows: 2 });
        const go = h('button', { type: 'submit' }, t('actions.status.submit'));
        const form = h('form', { class: 'action', id: 'action-status', 'aria-labelledby': 'action-status-title' },
          h('h3', { id: 'action-status-title' }, t('actions.status')),
          h('div', { class: 'form-field' }, h('label', { for: 'status-to' }, t('actions.status.to')), sel),
          h('div', { class: 'form-field' }, h('label', { for: 'status-message' }, t('actions.status.message')), msg),
          go, err);
        form.addEventListener('submit', (e) => {
          e.preventDefault();
          const target = d.next_statuses.find((s) => s.status === sel.value);
          void act(go, async () => {
            await api.changeStatus(d.number, sel.value, msg.value.trim() || undefined);
            return t('actions.status.done', { label: target?.label ?? sel.value });
          }, err);
        });
        blocks.push(form);
      } else {
        blocks.push(h('div', { class: 'action' }, h('h3', null, t('actions.status')), h('p', null, t('actions.status.none'))));
      }
    }

    // Assign.
    if (open && me.role !== 'field') {
      const err = errBox();
      const mine = d.assignee?.id === me.id;
      const toMe = h('button', { type: 'button', id: 'assign-me', disabled: mine }, t('actions.assign.me'));
      toMe.addEventListener('click', () => void act(toMe, async () => {
        await api.assign(d.number, { assignee_id: me.id });
        return t('actions.assign.done');
      }, err));
      const teamInput = h('input', { type: 'text', id: 'assign-team', value: d.team?.code ?? '', autocomplete: 'off' });
      const teamGo = h('button', { type: 'button', class: 'secondary' }, t('actions.assign.team.submit'));
      teamGo.addEventListener('click', () => void act(teamGo, async () => {
        await api.assign(d.number, { team: teamInput.value.trim() });
        return t('actions.assign.done');
      }, err));
      const box = h('div', { class: 'action', id: 'action-assign' },
        h('h3', null, t('actions.assign')),
        mine ? h('p', null, t('actions.assign.mine')) : null,
        toMe,
        h('div', { class: 'form-field' }, h('label', { for: 'assign-team' }, t('actions.assign.team')), teamInput), teamGo,
        err);
      // Admins may pick any agent of the request's team (the agent list is theirs only).
      if (me.role === 'admin' && d.team) {
        const teamCode = d.team.code;
        api.agents().then((list) => {
          const members = list.filter((a) => a.teams.includes(teamCode) && a.active !== false);
          if (!members.length) return;
          const sel = h('select', { id: 'assign-agent' }, h('option', { value: '' }, t('actions.assign.agent.choose')), members.map((a) => h('option', { value: String(a.id) }, `${a.name} (${a.email})`)));
          const go = h('button', { type: 'button', class: 'secondary' }, t('actions.assign.agent.submit'));
          go.addEventListener('click', () => {
            if (!sel.value) return sel.focus();
            void act(go, async () => {
              await api.assign(d.number, { assignee_id: Number(sel.value) });
              return t('actions.assign.done');
            }, err);
          });
          err.before(h('div', { class: 'form-field' }, h('label', { for: 'assign-agent' }, t('actions.assign.agent')), sel), go);
        }, () => {});
      }
      blocks.push(box);
    }

    // Public reply and internal note.
    for (const kind of ['reply', 'note'] as const) {
      if (kind === 'reply' && (!open || me.role === 'field')) continue;
      const err = errBox();
      const text = h('textarea', { id: `${kind}-text`, rows: 4, required: true, 'aria-describedby': `${kind}-hint` });
      const go = h('button', { type: 'submit' }, t(`actions.${kind}.submit`));
      const form = h('form', { class: `action ${kind}`, id: `action-${kind}`, 'aria-labelledby': `action-${kind}-title`, novalidate: true },
        h('h3', { id: `action-${kind}-title` }, t(`actions.${kind}`)),
        h('p', { class: 'hint', id: `${kind}-hint` }, t(`actions.${kind}.hint`)),
        h('div', { class: 'form-field' }, h('label', { for: `${kind}-text` }, t(`actions.${kind}.text`)), text),
        go, err);
      if (kind === 'reply') {
        // The démarche's reply templates, in the agent's language first.
        api.replyTemplates(d.demarche.code).then((list) => {
          if (!list.length) return;
          const sorted = [...list].sort((a, b) => Number(b.lang === lang()) - Number(a.lang === lang()));
          const sel = h('select', { id: 'reply-template' }, h('option', { value: '' }, t('actions.reply.template.none')),
            sorted.map((tpl) => h('option', { value: String(tpl.id) }, tpl.title)));
          sel.addEventListener('change', () => {
            const tpl = list.find((x) => String(x.id) === sel.value);
            if (tpl) text.value = tpl.body;
          });
          text.parentElement!.before(h('div', { class: 'form-field' }, h('label', { for: 'reply-template' }, t('actions.reply.template')), sel));
        }, () => {});
      }
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!text.value.trim()) return text.focus();
        void act(go, async () => {
          if (kind === 'reply') await api.reply(d.number, text.value.trim());
          else await api.note(d.number, text.value.trim());
          return t(`actions.${kind}.done`);
        }, err);
      });
      blocks.push(form);
    }

    // Complement: choose the top-level fields the citizen must complete.
    if (open && me.role !== 'field' && def && d.phase !== 'waiting_for_citizen') {
      const err = errBox();
      const boxes = def.form.fields.map((f) => {
        const id = `complement-field-${f.id}`;
        const box = h('input', { type: 'checkbox', id, value: f.id });
        return { box, row: h('div', { class: 'check' }, box, h('label', { for: id }, pick(f.label, f.label_en))) };
      });
      const msg = h('textarea', { id: 'complement-text', rows: 3 });
      const go = h('button', { type: 'submit' }, t('actions.complement.submit'));
      const form = h('form', { class: 'action', id: 'action-complement', 'aria-labelledby': 'action-complement-title', novalidate: true },
        h('h3', { id: 'action-complement-title' }, t('actions.complement')),
        h('fieldset', null, h('legend', null, t('actions.complement.fields')), boxes.map((b) => b.row)),
        h('div', { class: 'form-field' }, h('label', { for: 'complement-text' }, t('actions.complement.message')), msg),
        go, err);
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        const picked = boxes.filter((b) => b.box.checked).map((b) => b.box.value);
        if (!picked.length) {
          err.textContent = t('actions.complement.pick');
          err.hidden = false;
          boxes[0]?.box.focus();
          return;
        }
        void act(go, async () => {
          await api.complement(d.number, picked, msg.value.trim());
          return t('actions.complement.done');
        }, err);
      });
      blocks.push(form);
    } else if (d.complement) {
      blocks.push(h('div', { class: 'action' }, h('h3', null, t('actions.complement')), h('p', null, t('actions.complement.waiting', { fields: d.complement.fields.join(', ') }))));
    }

    // Merge, with candidates: the flagged duplicate, then open requests of the démarche nearby.
    if (open && me.role !== 'field') blocks.push(mergeForm(d, errBox()));

    // Change démarche.
    if (open && me.role !== 'field') {
      const err = errBox();
      const sel = h('select', { id: 'demarche-to' });
      const go = h('button', { type: 'submit', class: 'secondary' }, t('actions.demarche.submit'));
      const form = h('form', { class: 'action', id: 'action-demarche', 'aria-labelledby': 'action-demarche-title' },
        h('h3', { id: 'action-demarche-title' }, t('actions.demarche')),
        h('div', { class: 'form-field' }, h('label', { for: 'demarche-to' }, t('actions.demarche.to')), sel), go, err);
      api.catalogue().then((list) => {
        // Geolocated requests keep a place: they move between geolocated démarches.
        const fit = list.filter((x) => x.geolocated === (d.location !== null && (def?.geolocated ?? true)));
        replace(sel, fit.map((x) => h('option', { value: x.code, selected: x.code === d.demarche.code }, x.title)));
      }, () => {});
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (sel.value === d.demarche.code) return;
        void act(go, async () => {
          await api.edit(d.number, { demarche: sel.value });
          return t('actions.demarche.done');
        }, err);
      });
      blocks.push(form);
    }

    // New tracking code, when the server can issue one.
    if (session.features.trackingCode && me.role !== 'field') {
      const err = errBox();
      const go = h('button', { type: 'button', class: 'secondary', id: 'tracking-new' }, t('actions.tracking.submit'));
      go.addEventListener('click', () => void act(go, async () => {
        const r = await api.newTrackingCode(d.number);
        return t('actions.tracking.done', { code: r.tracking_code });
      }, err));
      blocks.push(h('div', { class: 'action', id: 'action-tracking' }, h('h3', null, t('actions.tracking')), h('p', { class: 'hint' }, t('actions.tracking.hint')), go, err));
    }

    return h('section', { 'aria-labelledby': 'actions-title', class: 'actions' },
      h('h2', { id: 'actions-title' }, t('actions.title')), result, blocks);
  }

  function mergeForm(d: api.RequestDetail, err: HTMLElement): HTMLElement {
    const list = h('ul', { class: 'candidates', id: 'merge-candidates' });
    const other = h('input', { type: 'text', id: 'merge-into', autocomplete: 'off' });
    const go = h('button', { type: 'submit', class: 'secondary' }, t('actions.merge.submit'));
    const candidates = h('fieldset', null, h('legend', null, t('actions.merge.candidates')), list);
    const form = h('form', { class: 'action', id: 'action-merge', 'aria-labelledby': 'action-merge-title', novalidate: true },
      h('h3', { id: 'action-merge-title' }, t('actions.merge')),
      h('p', { class: 'hint' }, t('actions.merge.hint')),
      candidates,
      h('div', { class: 'form-field' }, h('label', { for: 'merge-into' }, t('actions.merge.into')), other),
      go, err);
    const radio = (value: string, label: Child, photo: string | null) => {
      const id = `merge-${value}`;
      const input = h('input', { type: 'radio', name: 'merge-into', id, value });
      input.addEventListener('change', () => (other.value = value));
      return h('li', { class: 'check' }, input, h('label', { for: id }, photo ? h('img', { src: photo, alt: t('actions.merge.photo', { number: value }), width: 64, height: 48 }) : null, label));
    };
    const items: HTMLElement[] = [];
    if (d.possible_duplicate_of) items.push(radio(d.possible_duplicate_of, t('actions.merge.suspected', { number: d.possible_duplicate_of }), null));
    replace(list, items.length ? items : h('li', null, t('actions.merge.none')));
    if (d.location) {
      api.candidates(d.number).then((near) => {
        const found = near.filter((n) => n.number !== d.number && n.number !== d.possible_duplicate_of);
        const more = found.map((n) => radio(n.number, t('actions.merge.candidate', {
          number: n.number, distance: formatDistance(n.distance_m), age: formatAge(n.created_at),
          count: t('queue.reports', { n: n.report_count }),
        }), n.thumbnail_url));
        if (items.length + more.length) replace(list, items, more);
      }, () => {});
    }
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const into = other.value.trim();
      if (!into) {
        err.textContent = t('actions.merge.pick');
        err.hidden = false;
        other.focus();
        return;
      }
      void act(go, async () => {
        await api.merge(d.number, into);
        return t('actions.merge.done', { number: into });
      }, err);
    });
    return form;
  }

  void load(params.get('focus') ?? undefined);

  return {
    title: number,
    el,
    cleanup: () => cleanups.splice(0).forEach((c) => c()),
    onKey: (e) => {
      const me = session.me;
      if (!current || !me) return false;
      if (e.key === 'r') {
        const reply = document.getElementById('reply-text');
        reply?.focus();
        return !!reply;
      }
      if (e.key === 'a') {
        const btn = document.getElementById('assign-me') as HTMLButtonElement | null;
        if (btn && !btn.disabled) btn.click();
        return !!btn;
      }
      return false;
    },
    onLive: (ev) => {
      // A change (made here or elsewhere) shows, unless an action is under way or the agent is
      // typing here.
      const typing = (document.activeElement as HTMLElement | null)?.closest?.('textarea, input, select');
      if ((ev.number === number || ev.resync) && current && !busy && !(typing && el.contains(typing))) void load(undefined, lastResult, true);
    },
  };
}

const CHECKED = '\u0000checked';

/** What is typed or chosen in the fields of `root`, by field id. */
function keepTyped(root: HTMLElement): Map<string, string> {
  const typed = new Map<string, string>();
  root.querySelectorAll<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(
    'input[id], textarea[id], select[id]',
  ).forEach((el) => {
    if (el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio')) {
      if (el.checked) typed.set(el.id, CHECKED);
    } else if (el.value) {
      typed.set(el.id, el.value);
    }
  });
  return typed;
}

/** Puts back what `keepTyped` kept into the fields of the same id, where they still exist. */
function restoreTyped(root: HTMLElement, typed: Map<string, string>): void {
  typed.forEach((value, id) => {
    const el = root.querySelector<HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement>(`[id="${CSS.escape(id)}"]`);
    if (!el) return;
    if (el instanceof HTMLInputElement && (el.type === 'checkbox' || el.type === 'radio')) {
      el.checked = value === CHECKED;
    } else if (!(el instanceof HTMLInputElement && el.type === 'file')) {
      el.value = value;
    }
  });
}
